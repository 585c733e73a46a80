/*
 * background_music.c - music from a file, looping gaplessly under a
 * conference, with the C API: the FILE helpers replay the file (opened by
 * prosody_sw_file_open with loop set) on a music channel, whose output
 * datafeed is the input of a conference party that is heard by everyone;
 * party A's conference output is recorded to a WAV file by the FILE helpers
 * too. Two phones (replays of tones) talk on parties A and B.
 *
 *   background_music MUSIC_FILE OUT.wav [SECONDS]
 *
 *   phone[i] --datafeed--> party[i]          (i = A, B)
 *   music (file replay) --datafeed--> music party (heard by all)
 *   party A's output --record--> OUT.wav
 *
 * The module is stepped (prosody_sw_configure_module), so it runs as fast
 * as the machine allows; in real time the same calls are paced by events.
 * Any file libsndfile reads, at any rate (the replay resamples), mono or
 * stereo (mixed down).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prosody_sw.h"
#include "smbesp.h"
#include "smclib.h"
#include "smdrvr.h"
#include "smhlib.h"

#define RATE 8000
#define FRAME 80 /* 10 ms */

static void die(const char* what, int rc) {
  SM_ERROR_NAME_PARMS e;
  memset(&e, 0, sizeof e);
  e.code = rc;
  fprintf(stderr, "background_music: %s failed: %s\n", what, sm_error_name(&e));
  exit(2);
}

#define CHECK(call)                \
  do {                             \
    int rc_ = (call);              \
    if (rc_ != 0) die(#call, rc_); \
  } while (0)

static tSMChannelId alloc_channel(tSMModuleId module, enum kSMChannelType type) {
  SM_CHANNEL_ALLOC_PLACED_PARMS p;
  memset(&p, 0, sizeof p);
  p.type = type;
  p.module = module;
  CHECK(sm_channel_alloc_placed(&p));
  return p.channel;
}

static tSMDatafeedId datafeed_of(tSMChannelId channel) {
  SM_CHANNEL_DATAFEED_PARMS p;
  memset(&p, 0, sizeof p);
  p.channel = channel;
  CHECK(sm_channel_get_datafeed(&p));
  return p.datafeed;
}

static void feed_input(tSMChannelId from_output, tSMChannelId to_input) {
  SM_CHANNEL_DATAFEED_CONNECT_PARMS p;
  memset(&p, 0, sizeof p);
  p.channel = to_input;
  p.data_source = datafeed_of(from_output);
  CHECK(sm_channel_datafeed_connect(&p));
}

/* A phone: a tone generated here, replayed for ever (fed every frame). */
struct phone {
  tSMChannelId channel;
  double freq, phase;
};

static void phone_feed(struct phone* ph) {
  short pcm[FRAME];
  SM_TS_DATA_PARMS d;
  for (int i = 0; i < FRAME; ++i) {
    pcm[i] = (short)(6000.0 * __builtin_sin(ph->phase));
    ph->phase += 2.0 * 3.14159265358979323846 * ph->freq / RATE;
  }
  memset(&d, 0, sizeof d);
  d.channel = ph->channel;
  d.data = (char*)pcm;
  d.length = sizeof pcm;
  CHECK(sm_put_replay_data(&d));
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: background_music MUSIC_FILE OUT.wav [SECONDS]\n");
    return 2;
  }
  const int seconds = argc > 3 ? atoi(argv[3]) : 5;

  PROSODY_SW_MODULE_CONFIG_PARMS cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.drive_mode = kProsodySwDriveStepped;
  CHECK(prosody_sw_configure_module(&cfg));
  SM_OPEN_MODULE_PARMS open;
  memset(&open, 0, sizeof open);
  CHECK(sm_open_module(&open));
  const tSMModuleId module = open.module_id;

  /* Two parties fed by phones, one fed by the music. */
  struct phone phones[2] = {{0, 500.0, 0.0}, {0, 700.0, 0.0}};
  tSMConference conf = sm_conference_create();
  tSMChannelId party[2];
  for (int i = 0; i < 2; ++i) {
    phones[i].channel = alloc_channel(module, kSMChannelTypeOutput);
    SM_REPLAY_PARMS r;
    memset(&r, 0, sizeof r);
    r.channel = phones[i].channel;
    r.type = kSMDataFormat16bit;
    CHECK(sm_replay_start(&r));
    party[i] = alloc_channel(module, kSMChannelTypeFullDuplex);
    feed_input(phones[i].channel, party[i]);
    SM_CONFERENCE_ADD_PARTY_PARMS ap;
    memset(&ap, 0, sizeof ap);
    ap.conf = conf;
    ap.channelIn = party[i];
    ap.channelOut = party[i];
    CHECK(sm_conference_add_party(&ap));
  }
  /* The music: the file's replay on one channel's output, into another's
   * input, a party 12 dB down (its output, what it would hear, goes
   * nowhere). */
  const tSMChannelId music = alloc_channel(module, kSMChannelTypeOutput);
  const tSMChannelId music_party = alloc_channel(module, kSMChannelTypeFullDuplex);
  feed_input(music, music_party);
  SM_CONFERENCE_ADD_PARTY_PARMS mp;
  memset(&mp, 0, sizeof mp);
  mp.conf = conf;
  mp.channelIn = music_party;
  mp.channelOut = music_party;
  mp.in_volume = -12;
  CHECK(sm_conference_add_party(&mp));

  PROSODY_SW_FILE_OPEN_PARMS mf;
  memset(&mf, 0, sizeof mf);
  mf.path = argv[1];
  mf.loop = 1;
  CHECK(prosody_sw_file_open(&mf));
  SM_FILE_REPLAY_PARMS replay;
  memset(&replay, 0, sizeof replay);
  replay.fd = mf.fd;
  replay.replay_parms.channel = music;
  replay.replay_parms.type = mf.type;
  replay.replay_parms.sampling_rate = mf.sampling_rate;
  CHECK(sm_replay_file_start(&replay));

  /* Party A's conference output, recorded by the FILE helpers. */
  const tSMChannelId recorder = alloc_channel(module, kSMChannelTypeInput);
  PROSODY_SW_FILE_OPEN_PARMS rf;
  memset(&rf, 0, sizeof rf);
  rf.path = argv[2];
  rf.write = 1;
  rf.type = kSMDataFormat16bit;
  rf.sampling_rate = RATE;
  CHECK(prosody_sw_file_open(&rf));
  SM_FILE_RECORD_PARMS record;
  memset(&record, 0, sizeof record);
  record.fd = rf.fd;
  record.record_parms.channel = recorder;
  record.record_parms.alt_data_source = party[0];
  record.record_parms.alt_data_source_type = kSMRecordAltSourceOutput;
  record.record_parms.type = kSMDataFormat16bit;
  record.record_parms.max_elapsed_time = (tSM_UT32)seconds * 1000;
  (void)datafeed_of(party[0]); /* recording an output needs its datafeed referenced */
  CHECK(sm_record_file_start(&record));

  int rc;
  do {
    phone_feed(&phones[0]);
    phone_feed(&phones[1]);
    rc = sm_replay_file_progress(&replay);
    if (rc != ERR_SM_PENDING) die("sm_replay_file_progress", rc);
    CHECK(prosody_sw_step(module, 1));
  } while ((rc = sm_record_file_progress(&record)) == ERR_SM_PENDING);
  if (rc != 0) die("sm_record_file_progress", rc);
  while ((rc = sm_record_file_progress(&record)) == ERR_SM_PENDING) {
  }
  fclose(rf.fd);
  CHECK(sm_replay_file_stop(&replay, 1));
  fclose(mf.fd);
  sm_conference_delete(conf);
  SM_CLOSE_MODULE_PARMS close;
  memset(&close, 0, sizeof close);
  close.module_id = module;
  CHECK(sm_close_module(&close));
  printf("wrote %s: %d s of party A's output (B's 700 Hz and the music, not A's own 500 Hz)\n", argv[2], seconds);
  return 0;
}
