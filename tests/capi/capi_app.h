/*
 * capi_app.h - what the C applications in tests/capi share, written as an
 * application for Prosody hardware would write it: only the documented C
 * API. Channels, datafeeds, events; a "phone" replays a tone into a channel
 * and a "recorder" records what a channel hears, both paced by events; and
 * the level of a tone in what was recorded.
 */
#ifndef CAPI_APP_H
#define CAPI_APP_H

#include <stddef.h>
#include <stdint.h>

#include "smbesp.h"
#include "smdrvr.h"

#define RATE 8000

void die(const char* what, int rc);

#define CHECK(call)                \
  do {                             \
    int rc_ = (call);              \
    if (rc_ != 0) die(#call, rc_); \
  } while (0)

tSMChannelId alloc_channel(tSMModuleId module, enum kSMChannelType type);
tSMEventId channel_event(tSMChannelId channel, int type);
tSMDatafeedId datafeed_of(tSMChannelId channel);
void connect_feed(tSMDatafeedId source, tSMChannelId sink);

/* Level in dBm0 (A-law convention: full-scale sine is +3.14 dBm0) of the
 * component at freq, by a Hann-windowed single-bin DFT. */
double tone_dbm0(const int16_t* x, size_t n, double freq);
/* The median of tone_dbm0 over the windows equal parts of x (at most 16). */
double median_tone_dbm0(const int16_t* x, size_t n, double freq, int windows);

/* A replay of a tone into a channel's input (by a datafeed). */
struct phone {
  tSMChannelId channel;
  tSMEventId write_event;
  int16_t* pcm;
  size_t samples;
  size_t sent; /* bytes */
  int finished;
};

/* A record of what a channel's output carries (by a datafeed). */
struct recorder {
  tSMChannelId channel;
  tSMEventId read_event;
  int16_t* pcm;
  size_t capacity; /* samples */
  size_t got;      /* samples */
  int complete;
};

/* Starts a phone on module feeding party's input: a tone at freq and
 * level_dbm0 for seconds. */
void phone_start(struct phone* p, tSMModuleId module, tSMChannelId party, double freq, double level_dbm0, int seconds);
/* Starts a recorder on module of party's output, for seconds. */
void recorder_start(struct recorder* r, tSMModuleId module, tSMChannelId party, int seconds);
void feed_phone(struct phone* p);
void drain_recorder(struct recorder* r);
/* Feeds the phones and drains the recorders, paced by their events, until
 * every recording is complete. */
void run_until_recorded(struct phone* phones, struct recorder* recorders, int n);
void phone_free(struct phone* p);
void recorder_free(struct recorder* r);

#endif
