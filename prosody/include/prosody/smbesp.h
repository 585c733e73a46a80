/*
 * smbesp.h - Prosody speech API umbrella (TiNG smbesp.h): driver headers,
 * the data-buffer limits, the conference mute constant and prospapi.h.
 */
#ifndef PROSODY_SMBESP_H
#define PROSODY_SMBESP_H

#include "smdrvr.h"

#define kSMMaxReplayDataBufferSize 2048
#define kSMMaxRecordDataBufferSize 2048

#define kSMConfAdjInputVolumeMute -128

#include "prospapi.h"

#endif /* PROSODY_SMBESP_H */
