// smclib.cpp - the C high-level conferencing library: sm_conference_* over
// prosody::Conference, which holds the logic.
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <new>
#include <vector>

#include "capi/capi.hpp"
#include "prosody/prosody_sw.h"
#include "prosody/smclib.h"

using namespace prosody;

struct sm_conference {
  Conference conf;
};

extern "C" {

// Process-wide, as Aculab declares them.
char* smConfError = nullptr;
int smConfErrno = 0;

}  // extern "C"

namespace {

// The calling thread's own copy (prosody_sw_conf_error / _errno).
thread_local std::string t_error;
thread_local int t_errno = 0;

// What smConfError points at once a call has failed: the text is copied
// here under a lock, so it outlives the thread that failed.
std::mutex g_error_mutex;
char g_error_text[256];

int fail(int code, const std::string& what) {
  t_error = what;
  t_errno = code;
  std::lock_guard<std::mutex> lock(g_error_mutex);
  std::snprintf(g_error_text, sizeof g_error_text, "%s", what.c_str());
  smConfError = g_error_text;
  smConfErrno = code;
  return code;
}

int fail(const Error& e) { return fail(static_cast<int>(e.code()), e.what()); }

}  // namespace

extern "C" {

tSMConference sm_conference_create(void) {
  try {
    return new sm_conference;
  } catch (const std::bad_alloc&) {
    fail(ERR_SM_OS_RESOURCE_PROBLEM, "sm_conference_create: out of memory");
    return nullptr;
  }
}

int sm_conference_add_party(struct sm_conference_add_party_parms* p) {
  if (!p || !p->conf) return fail(ERR_SM_BAD_PARAMETER, "sm_conference_add_party: no conference");
  // Both halves, as Aculab's library wants (the C++ Conference also takes
  // listen-only and talk-only parties).
  if (!p->channelIn || !p->channelOut) return fail(ERR_SM_NO_SUCH_CHANNEL, "sm_conference_add_party: no channel");
  PartySettings s;
  s.out_volume_db = p->out_volume;
  s.out_agc = p->out_agc != 0;
  s.in_volume_db = p->in_volume;
  s.in_agc = p->in_agc != 0;
  try {
    p->conf->conf.add_party(ChannelId{capi::raw(p->channelIn)}, ChannelId{capi::raw(p->channelOut)}, s);
  } catch (const Error& e) {
    return fail(e);
  }
  return 0;
}

int sm_conference_remove_party(struct sm_conference_remove_party_parms* p) {
  if (!p || !p->conf) return fail(ERR_SM_BAD_PARAMETER, "sm_conference_remove_party: no conference");
  try {
    p->conf->conf.remove_party(ChannelId{capi::raw(p->channelIn)}, ChannelId{capi::raw(p->channelOut)});
  } catch (const Error& e) {
    return fail(e);
  }
  return 0;
}

int sm_conference_info(struct sm_conference_info_parms* p) {
  if (!p || !p->conf) return fail(ERR_SM_BAD_PARAMETER, "sm_conference_info: no conference");
  const std::vector<ChannelId> active = p->conf->conf.speaking();
  p->activeChannelCount = static_cast<int>(active.size());
  // The caller's buffer holds as many entries as the conference has parties.
  if (p->activeChannelList)
    for (std::size_t i = 0; i < active.size(); ++i) p->activeChannelList[i] = capi::channel_handle(active[i].value);
  return 0;
}

void sm_conference_delete(tSMConference conf) { delete conf; }

const char* prosody_sw_conf_error(void) { return t_error.c_str(); }
int prosody_sw_conf_errno(void) { return t_errno; }

}  // extern "C"
