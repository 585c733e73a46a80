/*
 * conference_app.c - a four-party conference written as an application for
 * Prosody hardware would be: only the documented C API (no extensions), a
 * module running in real time, audio fed by replay and read by record
 * through datafeeds, paced by channel events and poll().
 *
 *   phone[i] (replay of a tone) --datafeed--> party[i] (conference)
 *   party[i] output             --datafeed--> recorder[i] (record)
 *
 * It checks what each recorder captured: every other party's tone at its
 * level, and not its own. Exit status 0 only if all checks pass.
 */
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPI_APP_NAME "conference_app"
#include "capi_app.h"
#include "smbesp.h"
#include "smclib.h"
#include "smdrvr.h"

#define PARTIES 4
#define RATE 8000
#define SECONDS 2
#define LEVEL_DBM0 -15.0
#define SAMPLES (RATE * SECONDS)

static const double freqs[PARTIES] = {440.0, 690.0, 1010.0, 1330.0};

static tSMDatafeedId datafeed_of(tSMChannelId channel) {
  SM_CHANNEL_DATAFEED_PARMS d;
  memset(&d, 0, sizeof d);
  d.channel = channel;
  CHECK(sm_channel_get_datafeed(&d));
  return d.datafeed;
}

static void connect_feed(tSMDatafeedId source, tSMChannelId sink) {
  SM_CHANNEL_DATAFEED_CONNECT_PARMS c;
  memset(&c, 0, sizeof c);
  c.data_source = source;
  c.channel = sink;
  CHECK(sm_channel_datafeed_connect(&c));
}

/* Level in dBm0 (A-law convention: full-scale sine is +3.14 dBm0) of the
 * component at freq, by a Hann-windowed single-bin DFT. */
static double tone_dbm0(const int16_t* x, size_t n, double freq) {
  double re = 0.0, im = 0.0, wsum = 0.0, amp;
  size_t i;
  for (i = 0; i < n; ++i) {
    const double w = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)(n - 1));
    const double ph = 2.0 * M_PI * freq * (double)i / RATE;
    re += w * x[i] / 32768.0 * cos(ph);
    im -= w * x[i] / 32768.0 * sin(ph);
    wsum += w;
  }
  amp = 2.0 * sqrt(re * re + im * im) / wsum;
  return amp > 1e-12 ? 20.0 * log10(amp) + 3.14 : -300.0;
}

struct phone {
  tSMChannelId channel;
  tSMEventId write_event;
  int16_t pcm[SAMPLES];
  size_t sent; /* bytes */
  int finished;
};

struct recorder {
  tSMChannelId channel;
  tSMEventId read_event;
  int16_t pcm[SAMPLES + RATE];
  size_t got; /* samples */
  int complete;
};

static struct phone phones[PARTIES];
static struct recorder recorders[PARTIES];

static void feed_phone(struct phone* p) {
  const size_t total = sizeof p->pcm;
  for (;;) {
    SM_REPLAY_STATUS_PARMS st;
    SM_TS_DATA_PARMS d;
    int rc;
    memset(&st, 0, sizeof st);
    st.channel = p->channel;
    if (p->finished) return;
    CHECK(sm_replay_status(&st));
    if (st.status == kSMReplayStatusComplete) {
      p->finished = 1;
      return;
    }
    if (p->sent >= total || st.status == kSMReplayStatusNoCapacity) return;
    memset(&d, 0, sizeof d);
    d.channel = p->channel;
    d.data = (char*)p->pcm + p->sent;
    d.length = (tSM_INT)((total - p->sent) < kSMMaxReplayDataBufferSize ? total - p->sent : kSMMaxReplayDataBufferSize);
    rc = (p->sent + (size_t)d.length == total) ? sm_put_last_replay_data(&d) : sm_put_replay_data(&d);
    if (rc == ERR_SM_NO_CAPACITY) return;
    if (rc != 0) die("sm_put_replay_data", rc);
    p->sent += (size_t)d.length;
  }
}

static void drain_recorder(struct recorder* r) {
  for (;;) {
    SM_RECORD_STATUS_PARMS st;
    memset(&st, 0, sizeof st);
    st.channel = r->channel;
    if (r->complete) return;
    CHECK(sm_record_status(&st));
    if (st.status == kSMRecordStatusComplete) {
      r->complete = 1;
      return;
    }
    if (st.status == kSMRecordStatusNoData) return;
    if (st.status == kSMRecordStatusOverrun) {
      fprintf(stderr, "conference_app: recorder overrun\n");
      exit(1);
    }
    {
      char buf[kSMMaxRecordDataBufferSize];
      SM_TS_DATA_PARMS d;
      size_t room = (sizeof r->pcm / 2 - r->got) * 2;
      memset(&d, 0, sizeof d);
      d.channel = r->channel;
      d.data = buf;
      CHECK(sm_get_recorded_data(&d));
      if ((size_t)d.length > room) d.length = (tSM_INT)room;
      memcpy((char*)r->pcm + r->got * 2, buf, (size_t)d.length);
      r->got += (size_t)d.length / 2;
      if (d.length == 0 && st.status != kSMRecordStatusCompleteData) return;
    }
  }
}

int main(void) {
  SM_CARD_INFO_PARMS card;
  SM_OPEN_MODULE_PARMS open;
  tSMChannelId party[PARTIES];
  tSMConference conf;
  int i, failures = 0;

  memset(&card, 0, sizeof card);
  card.card = 0;
  CHECK(sm_get_card_info(&card));
  if (card.module_count < 1) die("sm_get_card_info: no modules", ERR_SM_NO_SUCH_MODULE);
  memset(&open, 0, sizeof open);
  open.card_id = 0;
  open.module_ix = 0;
  CHECK(sm_open_module(&open));

  conf = sm_conference_create();
  if (!conf) die("sm_conference_create", ERR_SM_OS_RESOURCE_PROBLEM);
  for (i = 0; i < PARTIES; ++i) {
    size_t s;
    SM_CONFERENCE_ADD_PARTY_PARMS add;
    SM_REPLAY_PARMS replay;
    SM_RECORD_PARMS record;

    phones[i].channel = alloc_channel(open.module_id, kSMChannelTypeOutput);
    party[i] = alloc_channel(open.module_id, kSMChannelTypeFullDuplex);
    recorders[i].channel = alloc_channel(open.module_id, kSMChannelTypeInput);
    connect_feed(datafeed_of(phones[i].channel), party[i]);
    connect_feed(datafeed_of(party[i]), recorders[i].channel);

    memset(&add, 0, sizeof add);
    add.conf = conf;
    add.channelIn = party[i];
    add.channelOut = party[i];
    CHECK(sm_conference_add_party(&add));

    for (s = 0; s < SAMPLES; ++s)
      phones[i].pcm[s] = (int16_t)lrint(32768.0 * pow(10.0, (LEVEL_DBM0 - 3.14) / 20.0) *
                                        sin(2.0 * M_PI * freqs[i] * (double)s / RATE));
    memset(&replay, 0, sizeof replay);
    replay.channel = phones[i].channel;
    replay.type = kSMDataFormat16bit;
    replay.sampling_rate = RATE;
    CHECK(sm_replay_start(&replay));
    phones[i].write_event = channel_event(phones[i].channel, kSMEventTypeWriteData, kSMChannelSpecificEvent);

    memset(&record, 0, sizeof record);
    record.channel = recorders[i].channel;
    record.type = kSMDataFormat16bit;
    record.sampling_rate = RATE;
    record.max_elapsed_time = SECONDS * 1000;
    CHECK(sm_record_start(&record));
    recorders[i].read_event = channel_event(recorders[i].channel, kSMEventTypeReadData, kSMChannelSpecificEvent);
  }

  /* Event loop: feed replays while they have room, read recordings while
   * they have data, until every recording is complete. Events are level
   * style, so an event we no longer care about (a replay with all its data
   * given) is left out of the poll set. */
  for (;;) {
    struct pollfd fds[2 * PARTIES];
    int done = 1;
    for (i = 0; i < PARTIES; ++i) {
      const int feeding = phones[i].sent < sizeof phones[i].pcm;
      fds[i].fd = feeding ? phones[i].write_event.fd : -1;
      fds[i].events = (short)phones[i].write_event.mode;
      fds[PARTIES + i].fd = recorders[i].complete ? -1 : recorders[i].read_event.fd;
      fds[PARTIES + i].events = (short)recorders[i].read_event.mode;
      done &= recorders[i].complete;
    }
    if (done) break;
    if (poll(fds, 2 * PARTIES, 5000) <= 0) die("poll: no event for 5 s", ERR_SM_DEVERR);
    for (i = 0; i < PARTIES; ++i) {
      if (fds[i].revents) feed_phone(&phones[i]);
      if (fds[PARTIES + i].revents) drain_recorder(&recorders[i]);
    }
  }

  /* What did each party hear? Skip the first 200 ms (joins, datafeed hops). */
  printf("%-10s", "heard by");
  for (i = 0; i < PARTIES; ++i) printf("  party %d (%4.0f Hz)", i, freqs[i]);
  printf("\n");
  for (i = 0; i < PARTIES; ++i) {
    int t;
    const int16_t* x = recorders[i].pcm + RATE / 5;
    const size_t n = recorders[i].got - RATE / 5;
    if (recorders[i].got < (size_t)RATE) {
      fprintf(stderr, "party %d: only %zu samples recorded\n", i, recorders[i].got);
      return 1;
    }
    printf("party %d   ", i);
    for (t = 0; t < PARTIES; ++t) {
      const double level = tone_dbm0(x, n, freqs[t]);
      const int ok = (t == i) ? (level < LEVEL_DBM0 - 60.0) : (fabs(level - LEVEL_DBM0) < 0.2);
      printf("  %9.2f dBm0 %-4s", level, ok ? "ok" : "FAIL");
      failures += !ok;
    }
    printf("\n");
  }

  for (i = 0; i < PARTIES; ++i) {
    smd_ev_free(phones[i].write_event);
    smd_ev_free(recorders[i].read_event);
  }
  sm_conference_delete(conf);
  {
    SM_CLOSE_MODULE_PARMS close;
    memset(&close, 0, sizeof close);
    close.module_id = open.module_id;
    CHECK(sm_close_module(&close));
  }
  printf("%s\n", failures ? "FAILED" : "each party hears the three others at -15 dBm0 and not itself");
  return failures ? 1 : 0;
}
