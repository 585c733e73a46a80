/*
 * capi_app.c - the C applications' shared part (capi_app.h).
 */
#include "capi_app.h"

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void die(const char* what, int rc) {
  SM_ERROR_NAME_PARMS e;
  memset(&e, 0, sizeof e);
  e.code = rc;
  fprintf(stderr, "%s failed: %s\n", what, sm_error_name(&e));
  exit(2);
}

tSMChannelId alloc_channel(tSMModuleId module, enum kSMChannelType type) {
  SM_CHANNEL_ALLOC_PLACED_PARMS p;
  memset(&p, 0, sizeof p);
  p.type = type;
  p.module = module;
  CHECK(sm_channel_alloc_placed(&p));
  return p.channel;
}

tSMEventId channel_event(tSMChannelId channel, int type) {
  tSMEventId ev;
  SM_CHANNEL_SET_EVENT_PARMS se;
  CHECK(smd_ev_create(&ev, channel, type, kSMChannelSpecificEvent));
  memset(&se, 0, sizeof se);
  se.channel = channel;
  se.event_type = type;
  se.issue_events = kSMChannelSpecificEvent;
  se.event = ev;
  CHECK(sm_channel_set_event(&se));
  return ev;
}

tSMDatafeedId datafeed_of(tSMChannelId channel) {
  SM_CHANNEL_DATAFEED_PARMS d;
  memset(&d, 0, sizeof d);
  d.channel = channel;
  CHECK(sm_channel_get_datafeed(&d));
  return d.datafeed;
}

void connect_feed(tSMDatafeedId source, tSMChannelId sink) {
  SM_CHANNEL_DATAFEED_CONNECT_PARMS c;
  memset(&c, 0, sizeof c);
  c.data_source = source;
  c.channel = sink;
  CHECK(sm_channel_datafeed_connect(&c));
}

double tone_dbm0(const int16_t* x, size_t n, double freq) {
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

static int compare_doubles(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

double median_tone_dbm0(const int16_t* x, size_t n, double freq, int windows) {
  double levels[16];
  const size_t len = n / (size_t)windows;
  int w;
  if (windows < 1 || windows > 16) die("median_tone_dbm0: windows", ERR_SM_BAD_PARAMETER);
  for (w = 0; w < windows; ++w) levels[w] = tone_dbm0(x + (size_t)w * len, len, freq);
  qsort(levels, (size_t)windows, sizeof levels[0], compare_doubles);
  return windows % 2 ? levels[windows / 2] : 0.5 * (levels[windows / 2 - 1] + levels[windows / 2]);
}

void phone_start(struct phone* p, tSMModuleId module, tSMChannelId party, double freq, double level_dbm0, int seconds) {
  SM_REPLAY_PARMS replay;
  size_t s;
  memset(p, 0, sizeof *p);
  p->channel = alloc_channel(module, kSMChannelTypeOutput);
  connect_feed(datafeed_of(p->channel), party);
  p->samples = (size_t)RATE * (size_t)seconds;
  p->pcm = malloc(p->samples * sizeof *p->pcm);
  if (!p->pcm) die("malloc", ERR_SM_OS_RESOURCE_PROBLEM);
  for (s = 0; s < p->samples; ++s)
    p->pcm[s] =
        (int16_t)lrint(32768.0 * pow(10.0, (level_dbm0 - 3.14) / 20.0) * sin(2.0 * M_PI * freq * (double)s / RATE));
  memset(&replay, 0, sizeof replay);
  replay.channel = p->channel;
  replay.type = kSMDataFormat16bit;
  replay.sampling_rate = RATE;
  CHECK(sm_replay_start(&replay));
  p->write_event = channel_event(p->channel, kSMEventTypeWriteData);
}

void recorder_start(struct recorder* r, tSMModuleId module, tSMChannelId party, int seconds) {
  SM_RECORD_PARMS record;
  memset(r, 0, sizeof *r);
  r->channel = alloc_channel(module, kSMChannelTypeInput);
  connect_feed(datafeed_of(party), r->channel);
  r->capacity = (size_t)RATE * (size_t)(seconds + 1);
  r->pcm = malloc(r->capacity * sizeof *r->pcm);
  if (!r->pcm) die("malloc", ERR_SM_OS_RESOURCE_PROBLEM);
  memset(&record, 0, sizeof record);
  record.channel = r->channel;
  record.type = kSMDataFormat16bit;
  record.sampling_rate = RATE;
  record.max_elapsed_time = (tSM_INT)seconds * 1000;
  CHECK(sm_record_start(&record));
  r->read_event = channel_event(r->channel, kSMEventTypeReadData);
}

void feed_phone(struct phone* p) {
  const size_t total = p->samples * sizeof *p->pcm;
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

void drain_recorder(struct recorder* r) {
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
      fprintf(stderr, "recorder overrun\n");
      exit(1);
    }
    {
      char buf[kSMMaxRecordDataBufferSize];
      SM_TS_DATA_PARMS d;
      size_t room = (r->capacity - r->got) * 2;
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

void run_until_recorded(struct phone* phones, struct recorder* recorders, int n) {
  /* Events are level style, so an event we no longer care about (a replay
   * with all its data given) is left out of the poll set. */
  struct pollfd* fds = malloc(2 * (size_t)n * sizeof *fds);
  if (!fds) die("malloc", ERR_SM_OS_RESOURCE_PROBLEM);
  for (;;) {
    int i, done = 1;
    for (i = 0; i < n; ++i) {
      const int feeding = phones[i].sent < phones[i].samples * sizeof *phones[i].pcm;
      fds[i].fd = feeding ? phones[i].write_event.fd : -1;
      fds[i].events = (short)phones[i].write_event.mode;
      fds[n + i].fd = recorders[i].complete ? -1 : recorders[i].read_event.fd;
      fds[n + i].events = (short)recorders[i].read_event.mode;
      done &= recorders[i].complete;
    }
    if (done) break;
    if (poll(fds, 2 * (nfds_t)n, 5000) <= 0) die("poll: no event for 5 s", ERR_SM_DEVERR);
    for (i = 0; i < n; ++i) {
      if (fds[i].revents) feed_phone(&phones[i]);
      if (fds[n + i].revents) drain_recorder(&recorders[i]);
    }
  }
  free(fds);
}

void phone_free(struct phone* p) {
  smd_ev_free(p->write_event);
  free(p->pcm);
}

void recorder_free(struct recorder* r) {
  smd_ev_free(r->read_event);
  free(r->pcm);
}
