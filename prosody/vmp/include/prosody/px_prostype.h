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
typedef struct tSMVMPTxToneSetId_struct *tSMVMPTxToneSetId;
#define kSMNullVMPTxToneSetId (tSMVMPTxToneSetId) 0

/* A tone a VMP[tx] detects in its audio and sends as an RFC 4733 event:
 * its two frequency ranges, and the event code sent for it. */
typedef struct ttSMVMPTxTone {
        double f1_min;      /* lower limit of lower tone (Hz) */
        double f1_max;      /* upper limit of lower tone (Hz) */
        double f2_min;      /* lower limit of upper tone (Hz) */
        double f2_max;      /* upper limit of upper tone (Hz) */
        tSM_INT id;         /* ID to use when this tone is detected */
} tSMVMPTxTone;

typedef struct ttSMVMPTxToneSet {
        double req_minimum_power;
        double req_twist_for_dual_tone;
        double req_third_peak;
        double req_signal_to_noise_ratio;
        tSM_INT number_of_tones;   /* number of entries on tone list */
        tSMVMPTxTone* tones;       /* tone list */
} tSMVMPTxToneSet;

#endif /* PROSODY_PX_PROSTYPE_H */
