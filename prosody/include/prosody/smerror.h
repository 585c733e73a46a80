/*
 * smerror.h - Prosody error codes (ERR_SM_*).
 *
 * Names follow Aculab's documentation. The numeric values are those of the
 * Prosody v1 driver header (smdrvr.h), the only published values; TiNG's
 * generated error.h was not available. Every call returns 0 for success or
 * one of these negative codes.
 */
#ifndef PROSODY_SMERROR_H
#define PROSODY_SMERROR_H

#define ERR_SM_DEVERR -1
#define ERR_SM_PENDING -2
#define ERR_SM_MORE -3
#define ERR_SM_NO_ACTION -4
#define ERR_SM_NOT_IMPLEMENTED -100
#define ERR_SM_BAD_PARAMETER -101
#define ERR_SM_NO_SUCH_MODULE -102
#define ERR_SM_MODULE_ACCESS -103
#define ERR_SM_FILE_ACCESS -104
#define ERR_SM_FILE_FORMAT -105
#define ERR_SM_DOWNLOAD -106
#define ERR_SM_NO_RESOURCES -107
#define ERR_SM_FIRMWARE_NOT_RUNNING -108
#define ERR_SM_MODULE_ALREADY_RUNNING -109
#define ERR_SM_NO_SUCH_CHANNEL -110
#define ERR_SM_NO_DATA_AVAILABLE -111
#define ERR_SM_NO_RECORD_IN_PROGRESS -112
#define ERR_SM_NO_CAPACITY -113
#define ERR_SM_NO_REPLAY_IN_PROGRESS -114
#define ERR_SM_BAD_DATA_LENGTH -115
#define ERR_SM_WRONG_CHANNEL_STATE -116
#define ERR_SM_WRONG_CHANNEL_TYPE -117
#define ERR_SM_NO_SUCH_GROUP -118
#define ERR_SM_NO_SUCH_FIRMWARE -119
#define ERR_SM_NO_SUCH_DIGIT -120
#define ERR_SM_CHANNEL_ALLOCATED -121
#define ERR_SM_NO_DIGIT -122
#define ERR_SM_NOT_SAME_MODULE -123
#define ERR_SM_INCOMPATIBLE_DRIVER -124
#define ERR_SM_INCOMPATIBLE_APP -125
#define ERR_SM_WRONG_MODULE_TYPE -126
#define ERR_SM_NOT_SAME_GROUP -127
#define ERR_SM_NO_LICENCE -128
#define ERR_SM_WRONG_FIRMWARE_TYPE -129
#define ERR_SM_FIRMWARE_PROBLEM -130
#define ERR_SM_OS_RESOURCE_PROBLEM -131
#define ERR_SM_WRONG_MODULE_STATE -132
#define ERR_SM_NO_ASSOCIATED_SWITCH -133
#define ERR_SM_OS_OTHER_PROBLEM -134
#define ERR_SM_OS_INTERRUPTED_WAIT -135
/* TiNG-only name with no published number: given the next free value. */
#define ERR_SM_DISCONNECTED -136

#define ERR_SM_NO_LICENSE ERR_SM_NO_LICENCE /* alternative spelling */

#endif /* PROSODY_SMERROR_H */
