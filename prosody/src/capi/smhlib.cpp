// smhlib.cpp - the high-level FILE helpers (smhlib.h), on the replay and
// record calls as Aculab's library does it, and prosody_sw_file_open: a
// sound file (libsndfile, files.hpp) as a FILE * through fopencookie.
#include "prosody/smhlib.h"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>

#include "capi/capi.hpp"
#include "dsp/g711.hpp"
#include "prosody/files.hpp"

using namespace prosody;

namespace {

// complete() runs on one thread while stop() may be called on another: stop
// waits for complete to see the end. One lock per direction, as Aculab's.
struct Completion {
  std::mutex m;
  std::condition_variable done;
};
Completion& replay_completion() {
  static Completion c;
  return c;
}
Completion& record_completion() {
  static Completion c;
  return c;
}

// Waits on the channel's event of type until progress() is no longer
// pending; the module must be running in real time.
template <class Progress>
int complete_with_event(tSMChannelId channel, int event_type, Completion& c, int* completing, Progress progress) {
  tSMEventId ev{};
  if (int r = smd_ev_create(&ev, channel, event_type, kSMChannelSpecificEvent)) return r;
  SM_CHANNEL_SET_EVENT_PARMS set{};
  set.channel = channel;
  set.event_type = event_type;
  set.issue_events = kSMChannelSpecificEvent;
  set.event = ev;
  int r = sm_channel_set_event(&set);
  if (r == 0) {
    {
      std::lock_guard<std::mutex> lock(c.m);
      *completing = 1;
    }
    while ((r = progress()) == ERR_SM_PENDING) {
      const int w = smd_ev_wait(ev);
      if (w != 0 && w != ERR_SM_OS_INTERRUPTED_WAIT) {
        r = w;
        break;
      }
    }
    {
      std::lock_guard<std::mutex> lock(c.m);
      *completing = 0;
    }
    c.done.notify_all();
    set.issue_events = 0;
    sm_channel_set_event(&set);
  }
  smd_ev_free(ev);
  return r;
}

}  // namespace

extern "C" {

// ---------------------------------------------------------------------------
// Replay

int sm_replay_file_start(struct sm_file_replay_parms* p) {
  if (!p || !p->fd) return ERR_SM_BAD_PARAMETER;
  if (std::fseek(p->fd, long(p->offset), SEEK_SET) != 0) return ERR_SM_FILE_ACCESS;
  p->private_length = p->replay_parms.data_length;  // 0: to the end of the file
  p->data_length_in_buffer = 0;
  p->completing = 0;
  // The job ends with the last data put, not at a length: the helper counts.
  SM_REPLAY_PARMS rp = p->replay_parms;
  rp.data_length = 0;
  const int r = sm_replay_start(&rp);
  p->status = r == 0 ? ERR_SM_PENDING : r;
  return r;
}

int sm_replay_file_progress_istatus(SM_FILE_REPLAY_PARMS* p, int status) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  switch (status) {
    case kSMReplayStatusComplete:
      p->status = 0;
      return 0;
    case kSMReplayStatusHasCapacity:
    case kSMReplayStatusUnderrun:
      break;
    default:
      return p->status = ERR_SM_PENDING;
  }
  for (;;) {
    SM_TS_DATA_PARMS d{};
    d.channel = p->replay_parms.channel;
    d.data = p->buffer;
    bool last = false;
    if (p->data_length_in_buffer == 0) {
      std::size_t want = sizeof p->buffer;
      const bool limited = p->replay_parms.data_length > 0;
      if (limited) want = std::min<std::size_t>(want, p->private_length);
      const std::size_t got = want ? std::fread(p->buffer, 1, want, p->fd) : 0;
      if (got == 0 && want > 0 && std::ferror(p->fd)) return p->status = ERR_SM_FILE_ACCESS;
      if (limited) p->private_length -= tSM_UT32(got);
      p->data_length_in_buffer = int(got);
      last = got < want || (limited && p->private_length == 0);
      if (last) p->completing = 1;
    } else {
      last = p->completing != 0;
    }
    d.length = p->data_length_in_buffer;
    const int r = last ? sm_put_last_replay_data(&d) : sm_put_replay_data(&d);
    if (r == ERR_SM_NO_CAPACITY) return p->status = ERR_SM_PENDING;  // keep the block for next time
    if (r != 0) return p->status = r;
    p->data_length_in_buffer = 0;
    if (last) return p->status = ERR_SM_PENDING;  // complete once played out
  }
}

int sm_replay_file_progress(SM_FILE_REPLAY_PARMS* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->status != ERR_SM_PENDING) return p->status;
  SM_REPLAY_STATUS_PARMS st{};
  st.channel = p->replay_parms.channel;
  if (int r = sm_replay_status(&st)) return p->status = r;
  // After the last data, only Complete matters.
  if (p->completing && st.status != kSMReplayStatusComplete) return ERR_SM_PENDING;
  return sm_replay_file_progress_istatus(p, st.status);
}

int sm_replay_file_complete(SM_FILE_REPLAY_PARMS* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  int flag = 0;
  return complete_with_event(p->replay_parms.channel, kSMEventTypeWriteData, replay_completion(), &flag,
                             [&] { return sm_replay_file_progress(p); });
}

int sm_replay_file_stop(SM_FILE_REPLAY_PARMS* p, int nowait) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  SM_REPLAY_ABORT_PARMS a{};
  a.channel = p->replay_parms.channel;
  a.nowait = tSM_UT32(nowait ? 1 : 0);
  const int r = sm_replay_abort(&a);
  if (r != 0 && r != ERR_SM_NO_REPLAY_IN_PROGRESS) return r;
  // Resumable: the next start begins where this one stopped.
  p->offset += a.offset;
  if (p->replay_parms.data_length > 0)
    p->replay_parms.data_length -= std::min<tSM_UT32>(p->replay_parms.data_length, a.offset);
  return 0;
}

// ---------------------------------------------------------------------------
// Record

int sm_record_file_start(struct sm_file_record_parms* p) {
  if (!p || !p->fd) return ERR_SM_BAD_PARAMETER;
  p->private_length = 0;
  p->completing = 0;
  const int r = sm_record_start(&p->record_parms);
  p->status = r == 0 ? ERR_SM_PENDING : r;
  return r;
}

// Moves one block of recorded data to the file.
static int save_block(SM_FILE_RECORD_PARMS* p) {
  SM_TS_DATA_PARMS d{};
  d.channel = p->record_parms.channel;
  d.data = p->buffer;
  if (int r = sm_get_recorded_data(&d)) return r;
  if (d.length > 0 && std::fwrite(p->buffer, 1, std::size_t(d.length), p->fd) != std::size_t(d.length))
    return ERR_SM_FILE_ACCESS;
  p->private_length += tSM_UT32(d.length);
  return 0;
}

int sm_record_file_progress_istatus(SM_FILE_RECORD_PARMS* p, int status) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  switch (status) {
    case kSMRecordStatusComplete:
      p->status = 0;
      return 0;
    case kSMRecordStatusData:
    case kSMRecordStatusCompleteData:
      if (int r = save_block(p)) return p->status = r;
      return p->status = ERR_SM_PENDING;
    default:
      return p->status = ERR_SM_PENDING;
  }
}

int sm_record_file_progress_ostatus(SM_FILE_RECORD_PARMS* p, SM_RECORD_STATUS_PARMS* st) {
  if (!p || !st) return ERR_SM_BAD_PARAMETER;
  if (p->status != ERR_SM_PENDING) return p->status;
  std::memset(st, 0, sizeof *st);
  st->channel = p->record_parms.channel;
  if (int r = sm_record_status(st)) return p->status = r;
  p->record_parms.sampling_rate = st->sample_rate;
  return sm_record_file_progress_istatus(p, st->status);
}

int sm_record_file_progress(SM_FILE_RECORD_PARMS* p) {
  SM_RECORD_STATUS_PARMS st{};
  return sm_record_file_progress_ostatus(p, &st);
}

int sm_record_file_complete_tstatus(SM_FILE_RECORD_PARMS* p, SM_RECORD_STATUS_PARMS* st) {
  if (!p || !st) return ERR_SM_BAD_PARAMETER;
  SM_RECORD_STATUS_PARMS last{};
  const int r =
      complete_with_event(p->record_parms.channel, kSMEventTypeReadData, record_completion(), &p->completing, [&] {
        SM_RECORD_STATUS_PARMS now{};
        const int k = sm_record_file_progress_ostatus(p, &now);
        if (now.termination_reason != kSMRecordHowTerminatedNotYet || now.status == kSMRecordStatusComplete) last = now;
        return k;
      });
  *st = last;
  return r;
}

int sm_record_file_complete(SM_FILE_RECORD_PARMS* p) {
  SM_RECORD_STATUS_PARMS st{};
  return sm_record_file_complete_tstatus(p, &st);
}

int sm_record_file_stop(SM_FILE_RECORD_PARMS* p, int nowait) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  SM_RECORD_ABORT_PARMS a{};
  a.channel = p->record_parms.channel;
  a.discard = 0;  // what was recorded is still written to the file
  const int r = sm_record_abort(&a);
  if (r != 0 && r != ERR_SM_NO_RECORD_IN_PROGRESS) return r;
  if (!nowait) {
    Completion& c = record_completion();
    std::unique_lock<std::mutex> lock(c.m);
    c.done.wait(lock, [&] { return p->completing == 0; });
  }
  return 0;
}

}  // extern "C"
