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
#include <stdio.h>
#include <string.h>

#include "capi_app.h"
#include "smclib.h"

#define PARTIES 4
#define SECONDS 2
#define LEVEL_DBM0 -15.0

static const double freqs[PARTIES] = {440.0, 690.0, 1010.0, 1330.0};

static struct phone phones[PARTIES];
static struct recorder recorders[PARTIES];

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
    SM_CONFERENCE_ADD_PARTY_PARMS add;
    party[i] = alloc_channel(open.module_id, kSMChannelTypeFullDuplex);
    phone_start(&phones[i], open.module_id, party[i], freqs[i], LEVEL_DBM0, SECONDS);
    recorder_start(&recorders[i], open.module_id, party[i], SECONDS);
    memset(&add, 0, sizeof add);
    add.conf = conf;
    add.channelIn = party[i];
    add.channelOut = party[i];
    CHECK(sm_conference_add_party(&add));
  }

  run_until_recorded(phones, recorders, PARTIES);

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
    phone_free(&phones[i]);
    recorder_free(&recorders[i]);
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
