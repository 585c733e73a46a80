// smclib.cpp - the C high-level conferencing library: sm_conference_* over
// prosody::Conference, which holds the logic.
#include <cstring>
#include <new>
#include <vector>

#include "capi/capi.hpp"
#include "prosody/smclib.h"

using namespace prosody;

struct sm_conference {
  Conference conf;
};

extern "C" {

__thread const char* smConfError = nullptr;
__thread int smConfErrno = 0;

}  // extern "C"

namespace {

// Keeps the failure text alive for the thread that reads smConfError.
thread_local std::string g_last_error;

int fail(const Error& e) {
  g_last_error = e.what();
  smConfError = g_last_error.c_str();
  smConfErrno = static_cast<int>(e.code());
  return smConfErrno;
}

int fail(int code, const char* what) {
  g_last_error = what;
  smConfError = g_last_error.c_str();
  smConfErrno = code;
  return code;
}

bool agc_ok(int agc) { return agc == 0 || agc == 1; }

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
  if (!agc_ok(p->out_agc) || !agc_ok(p->in_agc))
    return fail(ERR_SM_BAD_PARAMETER, "sm_conference_add_party: illegal agc value");
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

}  // extern "C"
