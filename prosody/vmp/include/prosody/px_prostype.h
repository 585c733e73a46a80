/*
 * px_prostype.h - the handle types of Prosody X's RTP endpoints (VMP[rx],
 * VMP[tx]), as Aculab's px_prostype.h declares them. Only the types of the
 * calls libprosody-vmp provides.
 */
#ifndef PROSODY_PX_PROSTYPE_H
#define PROSODY_PX_PROSTYPE_H

#include "smtypes.h"

typedef struct tSMVMPrxId_struct *tSMVMPrxId;
#define kSMNullVMPrxId (tSMVMPrxId) 0
typedef struct tSMVMPtxId_struct *tSMVMPtxId;
#define kSMNullVMPtxId (tSMVMPtxId) 0

#endif /* PROSODY_PX_PROSTYPE_H */
