/*
 * broadcast_app.c - one conference across two modules, built as the
 * application note's broadcast model with only the documented C API: the
 * conference primitives and TDM endpoints. Both modules run in real time;
 * parties are fed by replay and heard by record, paced by events and poll().
 *
 * On each module m:
 *   sum[m]       an output channel summing every local party
 *                --datafeed--> TDM[tx] stream 0, timeslot m
 *   remote[m]    an input channel <--datafeed-- TDM[rx] stream 0, timeslot 1-m
 *   party[m][i]  hears sum[m] less itself (a clone, then a leave) and remote[m]
 *
 * A sum sent to a module holds only the other module's parties, so no party
 * hears itself and nothing loops. It checks what each party heard: every
 * other party's tone at its level, and not its own. Exit status 0 only if
 * all checks pass.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "capi_app.h"
#include "prosody_sw.h"

#define MODULES 2
#define PER_MODULE 4
#define PARTIES (MODULES * PER_MODULE)
#define SECONDS 2
#define LEVEL_DBM0 -20.0

/* Module 0's tones are 20 Hz off a 40 Hz grid, module 1's on it. A-law is
 * an odd function, so the distortion products of a sum quantised on the
 * bus (odd orders only) of module 1's tones stay on the grid, and those of
 * module 0's stay 20 Hz off it: never on a tone of the module that hears
 * them, so G.711 cannot pass for a party hearing itself. */
static const double freqs[PARTIES] = {420.0, 1020.0, 1620.0, 2220.0, 680.0, 1280.0, 1880.0, 2960.0};

static struct phone phones[PARTIES];
static struct recorder recorders[PARTIES];

static int add(tSMChannelId output, tSMChannelId participant) {
  SM_CONF_PRIM_ADD_PARMS a;
  memset(&a, 0, sizeof a);
  a.channel = output;
  a.participant = participant;
  CHECK(sm_conf_prim_add(&a));
  return a.id;
}

int main(void) {
  tSMModuleId module[MODULES];
  tSMChannelId party[MODULES][PER_MODULE], sum[MODULES], remote[MODULES];
  int party_id[MODULES][PER_MODULE];
  tSMTDMtxId tx[MODULES];
  tSMTDMrxId rx[MODULES];
  int m, i, failures = 0;

  for (m = 0; m < MODULES; ++m) {
    SM_OPEN_MODULE_PARMS open;
    memset(&open, 0, sizeof open);
    open.card_id = 0;
    open.module_ix = (tSM_UT32)m;
    CHECK(sm_open_module(&open));
    module[m] = open.module_id;
  }

  for (m = 0; m < MODULES; ++m) {
    SM_CONF_PRIM_START_PARMS start;
    SM_TDMTX_CREATE_PARMS txc;
    SM_TDMTX_DATAFEED_CONNECT_PARMS txd;
    SM_TDMRX_CREATE_PARMS rxc;
    SM_TDMRX_DATAFEED_PARMS rxd;

    /* The local sum, sent on timeslot m. */
    sum[m] = alloc_channel(module[m], kSMChannelTypeOutput);
    memset(&start, 0, sizeof start);
    start.channel = sum[m];
    CHECK(sm_conf_prim_start(&start));
    for (i = 0; i < PER_MODULE; ++i) {
      party[m][i] = alloc_channel(module[m], kSMChannelTypeFullDuplex);
      party_id[m][i] = add(sum[m], party[m][i]);
    }
    memset(&txc, 0, sizeof txc);
    txc.module = module[m];
    txc.stream = 0;
    txc.timeslot = m;
    txc.type = kSMTimeslotTypeALaw;
    CHECK(sm_tdmtx_create(&txc));
    tx[m] = txc.tdmtx;
    memset(&txd, 0, sizeof txd);
    txd.data_source = datafeed_of(sum[m]);
    txd.tdmtx = tx[m];
    CHECK(sm_tdmtx_datafeed_connect(&txd));

    /* The other module's sum, received on its timeslot. */
    memset(&rxc, 0, sizeof rxc);
    rxc.module = module[m];
    rxc.stream = 0;
    rxc.timeslot = 1 - m;
    rxc.type = kSMTimeslotTypeALaw;
    CHECK(sm_tdmrx_create(&rxc));
    rx[m] = rxc.tdmrx;
    memset(&rxd, 0, sizeof rxd);
    rxd.tdmrx = rx[m];
    CHECK(sm_tdmrx_get_datafeed(&rxd));
    remote[m] = alloc_channel(module[m], kSMChannelTypeInput);
    connect_feed(rxd.datafeed, remote[m]);
  }

  /* Each party: the local sum less itself, and the other module's sum. */
  for (m = 0; m < MODULES; ++m) {
    for (i = 0; i < PER_MODULE; ++i) {
      SM_CONF_PRIM_CLONE_PARMS clone;
      SM_CONF_PRIM_LEAVE_PARMS leave;
      memset(&clone, 0, sizeof clone);
      clone.channel = party[m][i];
      clone.model = sum[m];
      CHECK(sm_conf_prim_clone(&clone));
      memset(&leave, 0, sizeof leave);
      leave.channel = party[m][i];
      leave.id = party_id[m][i];
      CHECK(sm_conf_prim_leave(&leave));
      add(party[m][i], remote[m]);
    }
  }

  for (m = 0; m < MODULES; ++m) {
    for (i = 0; i < PER_MODULE; ++i) {
      const int p = m * PER_MODULE + i;
      phone_start(&phones[p], module[m], party[m][i], freqs[p], LEVEL_DBM0, SECONDS);
      recorder_start(&recorders[p], module[m], party[m][i], SECONDS);
    }
  }
  run_until_recorded(phones, recorders, PARTIES);

  /* What did each party hear? Skip the first 300 ms (the modules' phones
   * start one after another; joins, datafeed and bus hops), then take one
   * second. Own voice: its level over the whole second. The others: the
   * median of their levels over the second's ten 100 ms windows, so that a
   * module descheduled for a moment on a loaded machine (a real-time frame
   * missed: the bus conceals it, counted as late frames below) does not
   * pass for a wrong level, while a level that is wrong throughout still
   * fails. */
  printf("%-14s", "heard by");
  for (i = 0; i < PARTIES; ++i) printf(" %d:%d %4.0fHz", i / PER_MODULE, i % PER_MODULE, freqs[i]);
  printf("\n");
  for (i = 0; i < PARTIES; ++i) {
    int t;
    const size_t skip = 3 * RATE / 10;
    if (recorders[i].got < (size_t)RATE + skip) {
      fprintf(stderr, "party %d: only %zu samples recorded\n", i, recorders[i].got);
      return 1;
    }
    printf("module %d party %d", i / PER_MODULE, i % PER_MODULE);
    for (t = 0; t < PARTIES; ++t) {
      const double level = t == i ? tone_dbm0(recorders[i].pcm + skip, RATE, freqs[t])
                                  : median_tone_dbm0(recorders[i].pcm + skip, RATE, freqs[t], 10);
      const int ok = (t == i) ? (level < LEVEL_DBM0 - 60.0) : (fabs(level - LEVEL_DBM0) < 1.0);
      printf(" %7.1f%s", level, ok ? "  " : "!!");
      failures += !ok;
    }
    printf("\n");
  }
  for (m = 0; m < MODULES; ++m) {
    PROSODY_SW_MODULE_INFO_PARMS info;
    memset(&info, 0, sizeof info);
    info.module = module[m];
    CHECK(prosody_sw_module_info(&info));
    printf("module %d: %llu frames, %llu late\n", m, (unsigned long long)info.frames_processed,
           (unsigned long long)info.late_frames);
  }

  for (i = 0; i < PARTIES; ++i) {
    phone_free(&phones[i]);
    recorder_free(&recorders[i]);
  }
  for (m = 0; m < MODULES; ++m) {
    SM_CLOSE_MODULE_PARMS close;
    CHECK(sm_tdmtx_destroy(tx[m]));
    CHECK(sm_tdmrx_destroy(rx[m]));
    memset(&close, 0, sizeof close);
    close.module_id = module[m];
    CHECK(sm_close_module(&close));
  }
  printf("%s\n", failures ? "FAILED (!! marks a failed check)"
                          : "each party hears the seven others at -20 dBm0 (within 1 dB) and itself 60 dB down");
  return failures ? 1 : 0;
}
