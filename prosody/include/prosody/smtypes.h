/*
 * smtypes.h - basic Prosody types and null ids (TiNG layout, Linux/LP64).
 *
 * tSM_UT32 is unsigned long, as in Aculab's POSIX visdecl.h, so structures
 * keep their hardware layout on LP64 (it is 64 bits wide there).
 */
#ifndef PROSODY_SMTYPES_H
#define PROSODY_SMTYPES_H

#include "smerror.h"

#ifndef ACUAPI
#define ACUAPI
#endif
#ifndef ACUTiNG_WINAPI
#define ACUTiNG_WINAPI
#endif

typedef int tSM_INT;
typedef unsigned long long tSM_UT64;
typedef unsigned long tSM_UT32;
typedef unsigned char tSM_UT8;

typedef struct tSMEventId_internals *tSM_EVENT_INTERNALS;

typedef struct tSMEventId {
    tSM_INT fd;
    tSM_INT mode;
    tSM_EVENT_INTERNALS eip;
} tSMEventId;

typedef float tSMIEEE32Bit754854Float;

typedef struct tSMChannelId_struct *tSMChannelId;
#define kSMNullChannelId (tSMChannelId) 0
typedef int tSMCardId;
#ifndef _ACU_CARD_ID_
#define _ACU_CARD_ID_
typedef unsigned ACU_CARD_ID;
#endif

typedef struct tSMModuleId_struct *tSMModuleId;
#define kSMNullModuleId (tSMModuleId) 0
#define TiNG_PRINTF_MODULE "%p"

typedef struct tSMCollectorId_struct *tSMCollectorId;
#define kSMNullCollectorId (tSMCollectorId) 0
typedef struct tSMDispatcherId_struct *tSMDispatcherId;
#define kSMNullDispatcherId (tSMDispatcherId) 0

typedef struct tSMDatafeedId_struct *tSMDatafeedId;
#define kSMNullDatafeedId (tSMDatafeedId) 0
typedef struct tSMTDMrxId_struct *tSMTDMrxId;
#define kSMNullTDMrxId (tSMTDMrxId) 0
typedef struct tSMTDMtxId_struct *tSMTDMtxId;
#define kSMNullTDMtxId (tSMTDMtxId) 0

#endif /* PROSODY_SMTYPES_H */
