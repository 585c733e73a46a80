/*
 * capi_app.h - what every C program here starts with, written as a hardware
 * application would write it: fail loudly on any error code, allocate a
 * channel, bind a channel event. Define CAPI_APP_NAME before including.
 */
#ifndef CAPI_APP_H
#define CAPI_APP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbesp.h"
#include "smdrvr.h"

static void die(const char* what, int rc) {
  SM_ERROR_NAME_PARMS e;
  memset(&e, 0, sizeof e);
  e.code = rc;
  fprintf(stderr, "%s: %s failed: %d %s\n", CAPI_APP_NAME, what, rc, sm_error_name(&e));
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

/* An event of type for channel, bound with binding (kSMChannelSpecificEvent...). */
static tSMEventId channel_event(tSMChannelId channel, int type, int binding) {
  tSMEventId ev;
  SM_CHANNEL_SET_EVENT_PARMS se;
  CHECK(smd_ev_create(&ev, channel, type, binding));
  memset(&se, 0, sizeof se);
  se.channel = channel;
  se.event_type = type;
  se.issue_events = binding;
  se.event = ev;
  CHECK(sm_channel_set_event(&se));
  return ev;
}

#endif /* CAPI_APP_H */
