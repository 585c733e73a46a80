/*
 * smhlib.h - Prosody high-level FILE play/record API (Aculab smhlib.h and
 * highapi_playrec.h, TiNG m1504 declarations): replay a file into a
 * channel's output, record a channel's input into a file.
 *
 * As on Prosody, the application opens the file and sets fd; the helpers
 * move the job's data (replay_parms.type / record_parms.type, raw) between
 * the file and the job. prosody_sw_file_open (ours) opens a sound file
 * through libsndfile as such a FILE *: WAV, AU, raw, VOX, FLAC or Ogg/Opus,
 * any rate (the job resamples), crash-safe when writing, looping when
 * reading; fclose() finishes it.
 */
#ifndef PROSODY_SMHLIB_H
#define PROSODY_SMHLIB_H

#include <stdio.h>

#include "smbesp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef FILE *tSM_OPEN_FILE;

#define kSMMaxHiRecordDataBufferSize 2048
#define kSMMaxHiReplayDataBufferSize 2048

typedef struct sm_file_replay_parms {
    tSM_OPEN_FILE fd;
    tSM_UT32 offset;                /* octets into the file to start at; advanced by stop */
    SM_REPLAY_PARMS replay_parms;
    int status;                     /* ERR_SM_PENDING while the job runs, then its result */
    tSM_UT32 private_length;
    int completing;
    int data_length_in_buffer;
    char buffer[kSMMaxHiReplayDataBufferSize];
} SM_FILE_REPLAY_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_replay_file_start(struct sm_file_replay_parms *file_parms);
ACUAPI int ACUTiNG_WINAPI sm_replay_file_progress_istatus(SM_FILE_REPLAY_PARMS *file_parms, int initial_status);
ACUAPI int ACUTiNG_WINAPI sm_replay_file_progress(SM_FILE_REPLAY_PARMS *file_parms);
ACUAPI int ACUTiNG_WINAPI sm_replay_file_complete(SM_FILE_REPLAY_PARMS *file_parms);
ACUAPI int ACUTiNG_WINAPI sm_replay_file_stop(SM_FILE_REPLAY_PARMS *file_parms, int nowait);

typedef struct sm_file_record_parms {
    tSM_OPEN_FILE fd;
    SM_RECORD_PARMS record_parms;
    int status;
    tSM_UT32 private_length;
    int completing;
    char buffer[kSMMaxHiRecordDataBufferSize];
} SM_FILE_RECORD_PARMS;

ACUAPI int ACUTiNG_WINAPI sm_record_file_start(struct sm_file_record_parms *file_parms);
ACUAPI int ACUTiNG_WINAPI sm_record_file_progress_istatus(SM_FILE_RECORD_PARMS *file_parms, int initial_status);
ACUAPI int ACUTiNG_WINAPI sm_record_file_progress_ostatus(SM_FILE_RECORD_PARMS *file_parms, SM_RECORD_STATUS_PARMS *status_parms);
ACUAPI int ACUTiNG_WINAPI sm_record_file_progress(SM_FILE_RECORD_PARMS *file_parms);
ACUAPI int ACUTiNG_WINAPI sm_record_file_complete(SM_FILE_RECORD_PARMS *file_parms);
ACUAPI int ACUTiNG_WINAPI sm_record_file_complete_tstatus(SM_FILE_RECORD_PARMS *file_parms, SM_RECORD_STATUS_PARMS *status_parms);
ACUAPI int ACUTiNG_WINAPI sm_record_file_stop(SM_FILE_RECORD_PARMS *file_parms, int nowait);

/* ---- Ours: sound files through libsndfile ------------------------------ */

typedef struct prosody_sw_file_open_parms {
    const char *path;           /* in */
    tSM_INT write;              /* in: 0 = open to read (replay), 1 = create (record) */
    /* in: "wav" (PCM16), "wav-alaw", "wav-ulaw", "wav-ima-adpcm", "wav-u8",
     * "au", "au-alaw", "au-ulaw", "raw", "raw-alaw", "raw-ulaw", "raw-u8",
     * "raw-s8", "vox", "flac", "opus"; NULL = by the path's extension. To
     * read, only headerless files (raw, vox) need it. */
    const char *format;
    /* write, in: the data the FILE * carries (the record's type). The file's
     * encoding is taken as it is when they match (bit-exact); otherwise the
     * data must be kSMDataFormat16bit and the file encodes it.
     * read, out: what the FILE * yields (set replay_parms.type to it): the
     * file's own encoding when a job takes it (mono A-law, mu-law, 16-bit,
     * 8-bit, OKI), else 16-bit (FLAC, Opus, IMA ADPCM, stereo: mixed down). */
    enum kSMDataFormat type;
    tSM_UT32 sampling_rate;     /* write: in (0 = 8000); read: out (raw files: in, 0 = 8000) */
    tSM_INT loop;               /* read: start again at the end, gaplessly, for ever */
    double sync_interval;       /* write: seconds between header updates (0 = 0.05) */
    tSM_OPEN_FILE fd;           /* out: close with fclose() */
} PROSODY_SW_FILE_OPEN_PARMS;

/* ERR_SM_FILE_ACCESS: cannot open or create the path; ERR_SM_FILE_FORMAT:
 * not a sound file, or a format, rate or type that cannot go together. */
ACUAPI int ACUTiNG_WINAPI prosody_sw_file_open(struct prosody_sw_file_open_parms *openp);

#ifdef __cplusplus
}
#endif

#endif /* PROSODY_SMHLIB_H */
