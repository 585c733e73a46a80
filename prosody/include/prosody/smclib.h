/*
 * smclib.h - Prosody high-level conferencing library (Aculab highapi/smclib.h).
 *
 * A conference is a group of parties; each party is an input channel and an
 * output channel (normally the two halves of one full-duplex channel) and
 * hears every other party. Built on the conferencing primitives in the
 * documented call order. Thread-safe per conference.
 */
#ifndef PROSODY_SMCLIB_H
#define PROSODY_SMCLIB_H

#include "smdrvr.h"
#include "smbesp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sm_conference *tSMConference;

typedef struct sm_conference_add_party_parms {
    tSMConference conf;
    tSMChannelId channelIn;
    tSMChannelId channelOut;
    int out_volume;
    int out_agc;
    int in_volume;
    int in_agc;
} SM_CONFERENCE_ADD_PARTY_PARMS;

typedef struct sm_conference_remove_party_parms {
    tSMConference conf;
    tSMChannelId channelIn;
    tSMChannelId channelOut;
} SM_CONFERENCE_REMOVE_PARTY_PARMS;

typedef struct sm_conference_info_parms {
    tSMConference conf;
    int activeChannelCount;                 /* out */
    tSMChannelId *activeChannelList;        /* in: caller buffer */
} SM_CONFERENCE_INFO_PARMS;

tSMConference sm_conference_create(void);
int sm_conference_add_party(struct sm_conference_add_party_parms *parms);
int sm_conference_remove_party(struct sm_conference_remove_party_parms *parms);
int sm_conference_info(struct sm_conference_info_parms *parms);
void sm_conference_delete(tSMConference conf);

/* Text and code of the last failure, as Aculab declares them: process-wide
 * (a failure on one thread overwrites another's). prosody_sw.h has
 * per-thread copies. */
extern ACUAPI char *smConfError;
extern ACUAPI int smConfErrno;

#ifdef __cplusplus
}
#endif

#endif /* PROSODY_SMCLIB_H */
