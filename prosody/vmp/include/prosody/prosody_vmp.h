/*
 * prosody_vmp.h - extensions of libprosody-vmp: counters of an RTP
 * endpoint, for monitoring (Aculab's library has no such call).
 */
#ifndef PROSODY_VMP_H
#define PROSODY_VMP_H

#include "smrtp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct prosody_vmprx_stats_parms {
    tSMVMPrxId vmprx;                 /* in */
    tSM_UT64 samples_received;        /* out: decoded samples queued for the module */
    tSM_UT64 samples_lost;            /* out: samples of packets the jitter buffer declared lost (concealed) */
    tSM_UT64 frames_concealed;        /* out: frames the playout buffer ran dry in (concealed) */
    tSM_UT64 samples_dropped;         /* out: dropped beyond the maximum delay */
    tSM_UT64 rtcp_packets;            /* out: RTCP packets arrived on the RTCP port */
} PROSODY_VMPRX_STATS_PARMS;
int prosody_vmprx_stats(struct prosody_vmprx_stats_parms *statsp);

typedef struct prosody_vmptx_stats_parms {
    tSMVMPtxId vmptx;                 /* in */
    tSM_UT64 frames_sent;             /* out: module frames handed to the RTP stack */
    tSM_UT64 frames_skipped;          /* out: frames not sent (no datafeed, no address or codec yet) */
} PROSODY_VMPTX_STATS_PARMS;
int prosody_vmptx_stats(struct prosody_vmptx_stats_parms *statsp);

#ifdef __cplusplus
}
#endif

#endif /* PROSODY_VMP_H */
