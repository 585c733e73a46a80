/*
 * smdrvr.h - Prosody driver-level umbrella header: everything an
 * application needs for cards, modules, channels, datafeeds and events.
 */
#ifndef PROSODY_SMDRVR_H
#define PROSODY_SMDRVR_H

#include "smcore.h"

#endif /* PROSODY_SMDRVR_H */
