/*
 * smcore.h - Prosody core declarations: types, the generic API and the
 * event constants (TiNG smcore.h).
 */
#ifndef PROSODY_SMCORE_H
#define PROSODY_SMCORE_H

#include "smtypes.h"
#include "prosgen.h"

/*
 * Following event types are defined.
 */
enum {
    kSMEventTypeWriteData=1,
    kSMEventTypeReadData=2,
    kSMEventTypeRecog=3,
};

/*
 * Following may be set in issue_events.
 */
enum {
    kSMChannelNoEvent=0,
    kSMChannelSpecificEvent=1,
    kSMAnyChannelEvent=2,
    kSMChannelSpecificEventNonIdle=3,
};

#endif /* PROSODY_SMCORE_H */
