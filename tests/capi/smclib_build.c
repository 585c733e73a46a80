/*
 * smclib_build.c - the high-level conferencing library as Aculab ships it
 * for applications to extend (application note "adding features to high
 * level conferencing library"), built against our headers.
 *
 * Aculab's smclib.c is open source, but it is theirs; this file is written
 * here from what the reference says that library does (prosody-api.md 4.3):
 * its own struct sm_conference (a mutex and a growable array of parties),
 * the global smConfError / smConfErrno it defines and sets, and the
 * documented call order over the primitives. If this compiles, links and
 * runs against libprosody, so does a library of that shape: it uses the same
 * declarations (smclib.h's parms structs and tSMConference, the primitives'
 * structs, kSMConfAdjInputVolumeMute) and defines the same symbols, which
 * take precedence over libprosody's own.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbesp.h"
#include "smclib.h"
#include "smdrvr.h"

/* The library defines the globals smclib.h declares. */
char* smConfError;
int smConfErrno;

typedef struct sm_conference_party {
  tSMChannelId channelIn;
  tSMChannelId channelOut;
  tSM_INT id;
} SM_CONFERENCE_PARTY;

struct sm_conference {
  pthread_mutex_t mx;
  unsigned int count;
  unsigned int capacity;
  SM_CONFERENCE_PARTY* parties;
};

static int fail(int code, const char* what) {
  smConfErrno = code;
  smConfError = (char*)what;
  return code;
}

#define TRY(call, what)                   \
  do {                                    \
    int rc_ = (call);                     \
    if (rc_ != 0) return fail(rc_, what); \
  } while (0)

tSMConference sm_conference_create(void) {
  tSMConference c = calloc(1, sizeof *c);
  if (!c) return 0;
  if (pthread_mutex_init(&c->mx, NULL) != 0) {
    free(c);
    return 0;
  }
  return c;
}

static int add_locked(tSMConference c, SM_CONFERENCE_ADD_PARTY_PARMS* p) {
  SM_CONF_PRIM_ATTACH_PARMS attach;
  SM_CONF_PRIM_CLONE_PARMS clone;
  SM_CONF_PRIM_ADD_PARMS add;
  SM_CONF_PRIM_ADJ_OUTPUT_PARMS out;
  SM_CONF_PRIM_ADJ_INPUT_PARMS in;
  SM_SET_SIDETONE_CHANNEL_PARMS side;
  SM_CONFERENCE_PARTY* party;
  unsigned int i;
  for (i = 0; i < c->count; ++i)
    if (c->parties[i].channelIn == p->channelIn) return fail(ERR_SM_BAD_PARAMETER, "party already present");
  if (c->count == c->capacity) {
    const unsigned int grown = c->capacity ? 2 * c->capacity : 8;
    SM_CONFERENCE_PARTY* more = realloc(c->parties, grown * sizeof *more);
    if (!more) return fail(ERR_SM_OS_RESOURCE_PROBLEM, "out of memory");
    c->parties = more;
    c->capacity = grown;
  }
  /* Attach first: running out of ids fails before any job starts. */
  memset(&attach, 0, sizeof attach);
  attach.channel = p->channelIn;
  attach.conf_type = kSMConfTypeStandard;
  TRY(sm_conf_prim_attach(&attach), "sm_conf_prim_attach");
  /* The first party's output is every later party's clone model. */
  memset(&clone, 0, sizeof clone);
  clone.channel = p->channelOut;
  clone.model = c->count ? c->parties[0].channelOut : kSMNullChannelId;
  TRY(sm_conf_prim_clone(&clone), "sm_conf_prim_clone");
  if (c->count) {
    memset(&add, 0, sizeof add);
    add.channel = p->channelOut;
    add.participant = c->parties[0].channelIn;
    TRY(sm_conf_prim_add(&add), "sm_conf_prim_add");
    c->parties[0].id = add.id;
  }
  memset(&out, 0, sizeof out);
  out.channel = p->channelOut;
  out.volume = p->out_volume;
  out.agc = p->out_agc;
  TRY(sm_conf_prim_adj_output(&out), "sm_conf_prim_adj_output");
  memset(&in, 0, sizeof in);
  in.channel = p->channelIn;
  in.volume = p->in_volume;
  in.agc = p->in_agc;
  TRY(sm_conf_prim_adj_input(&in), "sm_conf_prim_adj_input");
  memset(&side, 0, sizeof side);
  side.channel = p->channelIn;
  side.output = p->channelOut;
  TRY(sm_set_sidetone_channel(&side), "sm_set_sidetone_channel");
  party = &c->parties[c->count];
  party->channelIn = p->channelIn;
  party->channelOut = p->channelOut;
  party->id = -1;
  /* The new input joins every other output; its id is the same in each. */
  for (i = 0; i < c->count; ++i) {
    memset(&add, 0, sizeof add);
    add.channel = c->parties[i].channelOut;
    add.participant = p->channelIn;
    TRY(sm_conf_prim_add(&add), "sm_conf_prim_add");
    party->id = add.id;
  }
  ++c->count;
  return 0;
}

int sm_conference_add_party(struct sm_conference_add_party_parms* p) {
  int rc;
  if (!p || !p->conf) return fail(ERR_SM_BAD_PARAMETER, "no conference");
  pthread_mutex_lock(&p->conf->mx);
  rc = add_locked(p->conf, p);
  pthread_mutex_unlock(&p->conf->mx);
  return rc;
}

static int remove_locked(tSMConference c, const SM_CONFERENCE_REMOVE_PARTY_PARMS* p) {
  SM_CONF_PRIM_LEAVE_PARMS leave;
  SM_CONF_PRIM_DETACH_PARMS detach;
  unsigned int i, at = c->count;
  for (i = 0; i < c->count; ++i)
    if (c->parties[i].channelIn == p->channelIn) at = i;
  if (at == c->count || c->parties[at].channelOut != p->channelOut) return fail(ERR_SM_BAD_PARAMETER, "no such party");
  for (i = 0; i < c->count; ++i) {
    if (i == at || c->parties[at].id < 0) continue;
    memset(&leave, 0, sizeof leave);
    leave.channel = c->parties[i].channelOut;
    leave.id = c->parties[at].id;
    TRY(sm_conf_prim_leave(&leave), "sm_conf_prim_leave");
  }
  memset(&detach, 0, sizeof detach);
  detach.channel = p->channelIn;
  detach.conf_type = kSMConfTypeStandard;
  TRY(sm_conf_prim_detach(&detach), "sm_conf_prim_detach");
  TRY(sm_conf_prim_abort(p->channelOut), "sm_conf_prim_abort");
  c->parties[at] = c->parties[--c->count];
  return 0;
}

int sm_conference_remove_party(struct sm_conference_remove_party_parms* p) {
  int rc;
  if (!p || !p->conf) return fail(ERR_SM_BAD_PARAMETER, "no conference");
  pthread_mutex_lock(&p->conf->mx);
  rc = remove_locked(p->conf, p);
  pthread_mutex_unlock(&p->conf->mx);
  return rc;
}

/* The input channels of the speaking parties: the union of the speaker maps
 * of parties 0 and 1's outputs (every input is in one of them). */
int sm_conference_info(struct sm_conference_info_parms* p) {
  tSMConference c;
  unsigned int i, k;
  char speaking[8] = {0};
  if (!p || !p->conf) return fail(ERR_SM_BAD_PARAMETER, "no conference");
  c = p->conf;
  pthread_mutex_lock(&c->mx);
  for (k = 0; k < 2 && k < c->count; ++k) {
    SM_CONF_PRIM_INFO_PARMS info;
    memset(&info, 0, sizeof info);
    info.channel = c->parties[k].channelOut;
    if (sm_conf_prim_info(&info) == 0)
      for (i = 0; i < 8; ++i) speaking[i] |= info.speakers[i];
  }
  p->activeChannelCount = 0;
  for (i = 0; i < c->count; ++i) {
    const tSM_INT id = c->parties[i].id;
    if (id >= 0 && id < 64 && (speaking[id >> 3] & (1 << (id & 7))))
      p->activeChannelList[p->activeChannelCount++] = c->parties[i].channelIn;
  }
  pthread_mutex_unlock(&c->mx);
  return 0;
}

void sm_conference_delete(tSMConference c) {
  unsigned int i;
  if (!c) return;
  for (i = 0; i < c->count; ++i) sm_conf_prim_abort(c->parties[i].channelOut);
  for (i = 0; i < c->count; ++i) {
    SM_CONF_PRIM_DETACH_PARMS detach;
    memset(&detach, 0, sizeof detach);
    detach.channel = c->parties[i].channelIn;
    detach.conf_type = kSMConfTypeStandard;
    sm_conf_prim_detach(&detach);
  }
  pthread_mutex_destroy(&c->mx);
  free(c->parties);
  free(c);
}

/* A run through it: three parties join and one leaves, with this file's
 * library (not libprosody's) doing the work; a bad removal sets this file's
 * smConfError. */
int main(void) {
  SM_OPEN_MODULE_PARMS open;
  SM_CONFERENCE_ADD_PARTY_PARMS add;
  SM_CONFERENCE_REMOVE_PARTY_PARMS remove;
  tSMChannelId party[3];
  tSMConference conf;
  int i, failures = 0;
  memset(&open, 0, sizeof open);
  if (sm_open_module(&open) != 0) return 2;
  conf = sm_conference_create();
  for (i = 0; i < 3; ++i) {
    SM_CHANNEL_ALLOC_PLACED_PARMS a;
    memset(&a, 0, sizeof a);
    a.type = kSMChannelTypeFullDuplex;
    a.module = open.module_id;
    if (sm_channel_alloc_placed(&a) != 0) return 2;
    party[i] = a.channel;
    memset(&add, 0, sizeof add);
    add.conf = conf;
    add.channelIn = add.channelOut = party[i];
    add.out_agc = 1;
    if (sm_conference_add_party(&add) != 0) {
      printf("add party %d: %s\n", i, smConfError);
      ++failures;
    }
  }
  /* Each input holds one id, the same in every output it is in. */
  for (i = 0; i < 3; ++i)
    if (conf->parties[i].id != i) {
      printf("party %d has id %d\n", i, conf->parties[i].id);
      ++failures;
    }
  memset(&remove, 0, sizeof remove);
  remove.conf = conf;
  remove.channelIn = party[1];
  remove.channelOut = party[2];
  if (sm_conference_remove_party(&remove) != ERR_SM_BAD_PARAMETER || smConfErrno != ERR_SM_BAD_PARAMETER ||
      strcmp(smConfError, "no such party") != 0) {
    printf("a mismatched removal was not refused by this library\n");
    ++failures;
  }
  remove.channelOut = party[1];
  if (sm_conference_remove_party(&remove) != 0 || conf->count != 2) {
    printf("remove party 1: %s\n", smConfError);
    ++failures;
  }
  sm_conference_delete(conf);
  {
    SM_CLOSE_MODULE_PARMS close;
    memset(&close, 0, sizeof close);
    close.module_id = open.module_id;
    sm_close_module(&close);
  }
  printf("%s\n", failures ? "FAILED" : "a high-level library of smclib.c's shape builds and runs on our headers");
  return failures ? 1 : 0;
}
