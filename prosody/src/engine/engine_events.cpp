// engine_events.cpp - channel events (smd_ev_create / sm_channel_set_event):
// level semantics, re-evaluated after every call that consumes their cause.
// Type index: 0 = write (output half), 1 = read (record), 2 = recognition.
#include "engine/engine.hpp"
#include "engine/tonegen.hpp"

namespace prosody::detail {

// idle_counts: a channel with no operation in progress is ready to start
// one (kSMChannelSpecificEvent); not for ...NonIdle or any-channel events.
bool Engine::event_condition(ChannelIo& io, int t, bool idle_counts) {
  switch (t) {
    case 0: {
      if (io.conf_stopped_pending.load() || io.activity.size() > 0) return true;
      if (auto tone = io.tone) return tone_job_needs_service(*tone);
      auto job = io.replay;
      if (job)
        return job->finished.load() || job->underrun.load() || replay_ready(*job, io.output_threshold_bits.load());
      return idle_counts && !io.output_busy.load();
    }
    case 1: {
      auto job = io.record;
      if (job)
        return record_ready(*job, io.input_threshold_bits.load()) || job->overrun.load() ||
               (io.listening.load() && io.recognised.size() > 0) ||
               job->termination.load() != static_cast<int>(RecordTermination::not_yet);
      return idle_counts && !io.record_busy.load();
    }
    case 2:
      if (io.recognised.size() > 0 || io.recognition_overrun.load()) return true;
      return idle_counts && !io.listening.load();
  }
  return false;
}

// ctl_mutex_ held: the condition reads job pointers the control side owns.
void Engine::update_event(ChannelIo& io, int t) {
  int mode = 0;
  auto ev = io.events[t].get(&mode);
  if (ev) ev->set(&io, event_condition(io, t, mode == 1));  // kSMChannelSpecificEvent
}

void Engine::refresh(ChannelIo& io, int t) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  update_event(io, t);
}

Errc Engine::set_event(std::uintptr_t id, int event_type, int binding, std::shared_ptr<EventObject> ev) {
  if (event_type < 1 || event_type > 3) return Errc::bad_parameter;
  if (binding < 0 || binding > 3) return Errc::bad_parameter;
  std::shared_ptr<ChannelIo> io;
  if (Errc e = shared_state(id, Half::any, io); e != Errc::ok) return e;
  // kSMEventTypeWriteData=1 -> 0, ReadData=2 -> 1, Recog=3 -> 2
  const int t = event_type - 1;
  {
    std::lock_guard<std::mutex> lock(io->events[t].m);
    // An event this channel raised no longer hears from it.
    if (io->events[t].event && io->events[t].event != ev) io->events[t].event->set(io.get(), false);
    if (binding == 0 || !ev) {
      io->events[t].event.reset();
      io->events[t].mode = 0;
    } else {
      io->events[t].event = std::move(ev);
      io->events[t].mode = binding;
    }
  }
  refresh(*io, t);
  return Errc::ok;
}

Errc Engine::needs_service(std::uintptr_t id, int event_type, bool& needs) {
  if (event_type < 1 || event_type > 3) return Errc::bad_parameter;
  std::shared_ptr<ChannelIo> io;
  if (Errc e = shared_state(id, Half::any, io); e != Errc::ok) return e;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  needs = event_condition(*io, event_type - 1, false);
  return Errc::ok;
}

Errc Engine::refresh_event(std::uintptr_t id, int event_type) {
  std::shared_ptr<ChannelIo> io;
  if (Errc e = shared_state(id, Half::any, io); e != Errc::ok) return e;
  refresh(*io, event_type - 1);
  return Errc::ok;
}

}  // namespace prosody::detail
