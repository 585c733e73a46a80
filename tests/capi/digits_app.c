/*
 * digits_app.c - DTMF out and back in, written as an application for
 * Prosody hardware would be: the card opened the documented way
 * (acu_get_system_snapshot, acu_open_card, acu_get_card_info,
 * acu_open_prosody, sm_get_card_info, sm_open_module), a module running in
 * real time, paced by channel events and poll().
 *
 *   dialler (sm_play_digits) --datafeed--> listener (sm_listen_for, ToneLen)
 *
 * Every digit must come back, in order, with its length within one frame
 * (10 ms) of what was played; then a second string with
 * wait_for_completion. Exit status 0 only if every check passes.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "res_lib.h"
#include "capi_app.h"
#include "smbesp.h"
#include "smdrvr.h"

#define DIGITS "0123456789*#ABCD"
#define DIGIT_MS 80
#define GAP_MS 60
#define FRAME_MS 10

/* An event that fires only while the channel is busy and needs service (not
 * merely because it is idle). */
static tSMEventId non_idle_event(tSMChannelId channel, int type) {
  tSMEventId ev;
  SM_CHANNEL_SET_EVENT_PARMS se;
  CHECK(smd_ev_create(&ev, channel, type, kSMChannelSpecificEventNonIdle));
  memset(&se, 0, sizeof se);
  se.channel = channel;
  se.event_type = type;
  se.issue_events = kSMChannelSpecificEventNonIdle;
  se.event = ev;
  CHECK(sm_channel_set_event(&se));
  return ev;
}

/* The card, opened as Aculab's public applications do; returns its id and
 * how many modules it has. */
static ACU_CARD_ID open_card(int* module_count) {
  ACU_SNAPSHOT_PARMS snapshot;
  ACU_OPEN_CARD_PARMS open;
  ACU_CARD_INFO_PARMS info;
  ACU_OPEN_PROSODY_PARMS prosody;
  SM_CARD_INFO_PARMS card;
  INIT_ACU_STRUCT(&snapshot);
  CHECK(acu_get_system_snapshot(&snapshot));
  if (snapshot.count < 1) die("acu_get_system_snapshot: no cards", ERR_CARD_NOT_FOUND);
  INIT_ACU_STRUCT(&open);
  strncpy(open.serial_no, snapshot.serial_no[0], sizeof open.serial_no - 1);
  CHECK(acu_open_card(&open));
  INIT_ACU_STRUCT(&info);
  info.card_id = open.card_id;
  CHECK(acu_get_card_info(&info));
  if (!(info.resources_available & ACU_RESOURCE_SPEECH)) die("acu_get_card_info: no speech resource", ERR_FAIL);
  INIT_ACU_STRUCT(&prosody);
  prosody.card_id = open.card_id;
  CHECK(acu_open_prosody(&prosody));
  memset(&card, 0, sizeof card);
  card.card = (tSMCardId)open.card_id;
  CHECK(sm_get_card_info(&card));
  printf("card %s (id %u): %d modules\n", open.serial_no, open.card_id, card.module_count);
  *module_count = card.module_count;
  return open.card_id;
}

static void play_digits(tSMChannelId channel, const char* digits, int wait) {
  SM_PLAY_DIGITS_PARMS p;
  memset(&p, 0, sizeof p);
  p.channel = channel;
  p.wait_for_completion = wait;
  p.digits.type = kSMDTMFDigits;
  strncpy(p.digits.digit_string, digits, kSMMaxDigits);
  p.digits.digit_duration = DIGIT_MS;
  p.digits.inter_digit_delay = GAP_MS;
  CHECK(sm_play_digits(&p));
}

/* Takes every queued recognition; appends digits to got (and their lengths
 * to lengths). Returns how many digits it took. */
static int take_digits(tSMChannelId listener, char* got, int* lengths, int* count) {
  int taken = 0;
  for (;;) {
    SM_RECOGNISED_PARMS r;
    memset(&r, 0, sizeof r);
    r.channel = listener;
    CHECK(sm_get_recognised(&r));
    if (r.type == kSMRecognisedNothing) return taken;
    if (r.type != kSMRecognisedDigit) {
      fprintf(stderr, "digits_app: unexpected recognition %d\n", (int)r.type);
      exit(1);
    }
    if (*count < 63) {
      got[*count] = (char)r.param0;
      lengths[*count] = r.param1; /* ToneLen: the length in ms */
      ++*count;
    }
    ++taken;
  }
}

static int check(const char* what, const char* want, const char* got, const int* lengths, int count) {
  int i, failures = 0;
  printf("%s: played %s, recognised %.*s\n", what, want, count, got);
  if (count != (int)strlen(want) || strncmp(got, want, (size_t)count) != 0) {
    fprintf(stderr, "digits_app: %s: digits differ\n", what);
    return 1;
  }
  for (i = 0; i < count; ++i) {
    const int error = lengths[i] - DIGIT_MS;
    if (error < -FRAME_MS || error > FRAME_MS) {
      fprintf(stderr, "digits_app: %s: digit %c lasted %d ms, played %d\n", what, got[i], lengths[i], DIGIT_MS);
      ++failures;
    }
  }
  printf("%s: every length within %d ms of %d ms\n", what, FRAME_MS, DIGIT_MS);
  return failures;
}

int main(void) {
  int module_count = 0, count = 0, failures = 0, lengths[64];
  char got[64];
  const ACU_CARD_ID card_id = open_card(&module_count);
  SM_OPEN_MODULE_PARMS module;
  SM_LISTEN_FOR_PARMS listen;
  SM_CHANNEL_DATAFEED_PARMS feed;
  SM_CHANNEL_DATAFEED_CONNECT_PARMS connect;
  tSMChannelId dialler, listener;
  tSMEventId write_event, recog_event;
  int complete = 0, quiet_polls = 0;

  if (module_count < 1) die("no modules", ERR_SM_NO_SUCH_MODULE);
  memset(&module, 0, sizeof module);
  module.card_id = (tSMCardId)card_id;
  module.module_ix = 0;
  CHECK(sm_open_module(&module));

  dialler = alloc_channel(module.module_id, kSMChannelTypeOutput);
  listener = alloc_channel(module.module_id, kSMChannelTypeInput);
  memset(&feed, 0, sizeof feed);
  feed.channel = dialler;
  CHECK(sm_channel_get_datafeed(&feed));
  memset(&connect, 0, sizeof connect);
  connect.data_source = feed.datafeed;
  connect.channel = listener;
  CHECK(sm_channel_datafeed_connect(&connect));

  memset(&listen, 0, sizeof listen);
  listen.channel = listener;
  listen.tone_detection_mode = kSMToneLenDetectionMinDuration40;
  listen.active_tone_set_id = 0;
  listen.map_tones_to_digits = kSMDTMFToneSetDigitMapping;
  CHECK(sm_listen_for(&listen));
  write_event = non_idle_event(dialler, kSMEventTypeWriteData);
  recog_event = non_idle_event(listener, kSMEventTypeRecog);

  /* Event-driven: the write event says the digits are out, the recognition
   * event that a digit was heard. After completion, wait for the last
   * digit's report (it comes when the digit ends). */
  play_digits(dialler, DIGITS, 0);
  while ((count < (int)strlen(DIGITS) || !complete) && quiet_polls < 5) {
    struct pollfd fds[2];
    fds[0].fd = complete ? -1 : write_event.fd;
    fds[0].events = (short)write_event.mode;
    fds[1].fd = recog_event.fd;
    fds[1].events = (short)recog_event.mode;
    if (poll(fds, 2, 1000) <= 0) {
      ++quiet_polls;
      continue;
    }
    if (fds[0].revents) {
      SM_PLAY_DIGITS_STATUS_PARMS st;
      memset(&st, 0, sizeof st);
      st.channel = dialler;
      CHECK(sm_play_digits_status(&st));
      if (st.status == kSMPlayDigitsStatusComplete) complete = 1;
    }
    if (fds[1].revents) take_digits(listener, got, lengths, &count);
  }
  if (!complete) {
    fprintf(stderr, "digits_app: the digits never completed\n");
    ++failures;
  }
  failures += check("event-driven", DIGITS, got, lengths, count);

  /* wait_for_completion: the call returns once the digits are out (the
   * output half is free again), then the reports arrive. */
  count = 0;
  play_digits(dialler, "159#", 1);
  for (quiet_polls = 0; count < 4 && quiet_polls < 5;) {
    struct pollfd fd;
    fd.fd = recog_event.fd;
    fd.events = (short)recog_event.mode;
    if (poll(&fd, 1, 1000) <= 0) {
      ++quiet_polls;
      continue;
    }
    take_digits(listener, got, lengths, &count);
  }
  failures += check("wait_for_completion", "159#", got, lengths, count);

  smd_ev_free(write_event);
  smd_ev_free(recog_event);
  CHECK(sm_channel_release(dialler));
  CHECK(sm_channel_release(listener));
  {
    SM_CLOSE_MODULE_PARMS close;
    ACU_CLOSE_PROSODY_PARMS close_prosody;
    ACU_CLOSE_CARD_PARMS close_card;
    memset(&close, 0, sizeof close);
    close.module_id = module.module_id;
    CHECK(sm_close_module(&close));
    INIT_ACU_STRUCT(&close_prosody);
    close_prosody.card_id = card_id;
    CHECK(acu_close_prosody(&close_prosody));
    INIT_ACU_STRUCT(&close_card);
    close_card.card_id = card_id;
    CHECK(acu_close_card(&close_card));
  }
  printf("%s\n", failures ? "FAILED" : "every digit recognised, each length within one frame");
  return failures ? 1 : 0;
}
