// engine.cpp - the module as a whole: construction, the drive (step,
// step_frame, the real-time thread), the frame boundary where the runtime
// adopts the control model, and the helpers every control call shares.
#include "engine/engine.hpp"

#include <time.h>

#include <cerrno>
#include <chrono>

#include "engine/registry.hpp"

namespace prosody::detail {

Errc Engine::validate(const ModuleConfig& c) {
  const unsigned r = c.sample_rate;
  if (r != 8000 && r != 16000 && r != 32000 && r != 48000) return Errc::bad_parameter;
  if (c.frame_us != 5000 && c.frame_us != 10000 && c.frame_us != 20000) return Errc::bad_parameter;
  return Errc::ok;
}

Engine::Engine(std::uint32_t module_no, const ModuleConfig& config)
    : module_no_(module_no),
      config_(config),
      frame_(config.sample_rate / 1000 * config.frame_us / 1000),
      model_(module_no),
      runtime_(module_no, config) {}

Engine::~Engine() { stop_realtime(); }

DriveMode Engine::drive_mode() const { return rt_running_.load() ? DriveMode::realtime : DriveMode::stepped; }

ModuleStats Engine::stats() const {
  ModuleStats s;
  s.frames_processed = runtime_.frames();
  s.late_frames = late_frames_.load();
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  for (const auto& ch : model_.slots()) {
    if (!ch.allocated) continue;
    ++s.channels;
    if (ch.pid >= 0) ++s.participants;
    if (ch.out_job == OutputJob::conference) ++s.conference_outputs;
  }
  return s;
}

// ---------------------------------------------------------------------------
// Drive

Errc Engine::step(unsigned frames) {
  if (rt_running_.load()) return Errc::wrong_module_state;
  std::lock_guard<std::mutex> lock(process_mutex_);
  for (unsigned i = 0; i < frames; ++i) {
    sync_runtime(true);
    process_one_frame(-1);
  }
  return Errc::ok;
}

Errc Engine::step_frame(Span<const FrameInput> inputs, Span<const FrameOutput> outputs, FrameResult& result) {
  if (rt_running_.load()) return Errc::wrong_module_state;
  if ((!inputs.empty() && !inputs.data()) || (!outputs.empty() && !outputs.data())) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(process_mutex_);
  if (client_) return Errc::wrong_module_state;  // the frame client owns the frame ports
  // A frame boundary: changes made before the call take effect in this frame.
  sync_runtime(true);
  if (Errc e = runtime_.bind_frame(inputs, outputs, false); e != Errc::ok) return e;
  result.first_sample = runtime_.frames() * frame_;
  runtime_.process_frame(&result.events);
  publish_time(-1);
  return Errc::ok;
}

void Engine::process_one_frame(std::int64_t due_ns) {
  if (!client_) {
    runtime_.process_frame(nullptr);
    publish_time(due_ns);
    return;
  }
  const FrameTime time{runtime_.frames() * frame_, due_ns};
  client_inputs_.clear();
  client_outputs_.clear();
  client_->prepare(time, client_inputs_, client_outputs_);
  // Lenient: the client's view of the channels may be a frame behind the
  // control calls; what it names that is gone is left out, not an error.
  runtime_.bind_frame(Span<const FrameInput>(client_inputs_.data(), client_inputs_.size()),
                      Span<const FrameOutput>(client_outputs_.data(), client_outputs_.size()), true);
  // Events are queued as for any channel (get_recognised, conf_poll_activity):
  // the client serves the module, it is not the application's frame caller.
  runtime_.process_frame(nullptr);
  publish_time(due_ns);
  client_->complete(time);
}

void Engine::publish_time(std::int64_t monotonic_ns) noexcept {
  const std::uint64_t seq = time_seq_.load(std::memory_order_relaxed);
  time_seq_.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  time_samples_.store(runtime_.frames() * frame_, std::memory_order_relaxed);
  time_monotonic_ns_.store(monotonic_ns, std::memory_order_relaxed);
  time_seq_.store(seq + 2, std::memory_order_release);
}

ModuleTime Engine::time() const noexcept {
  ModuleTime t;
  for (;;) {
    const std::uint64_t before = time_seq_.load(std::memory_order_acquire);
    t.samples = time_samples_.load(std::memory_order_relaxed);
    t.monotonic_ns = time_monotonic_ns_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (!(before & 1) && time_seq_.load(std::memory_order_relaxed) == before) return t;
  }
}

Errc Engine::set_frame_client(std::shared_ptr<FrameClient> client) {
  // The processing path may be in a frame: the change waits for its end.
  std::shared_ptr<FrameClient> old;
  {
    std::lock_guard<std::mutex> lock(process_mutex_);
    if (client && client_) return Errc::wrong_module_state;
    old = std::move(client_);
    client_ = std::move(client);
  }
  return Errc::ok;
}

Errc Engine::start_realtime() {
  std::lock_guard<std::mutex> lock(process_mutex_);
  if (rt_running_.load()) return Errc::ok;
  rt_stop_ = false;
  rt_running_ = true;
  try {
    rt_thread_ = std::thread([this] { realtime_loop(); });
  } catch (...) {
    rt_running_ = false;
    return Errc::os_resource_problem;
  }
  return Errc::ok;
}

Errc Engine::stop_realtime() {
  if (!rt_running_.load()) return Errc::ok;
  if (rt_thread_.get_id() == std::this_thread::get_id()) return Errc::wrong_module_state;
  rt_stop_ = true;
  if (rt_thread_.joinable()) rt_thread_.join();
  rt_running_ = false;
  applied_cv_.notify_all();
  return Errc::ok;
}

void Engine::sync_runtime(bool blocking) {
  if (applied_version_.load(std::memory_order_relaxed) == version_.load(std::memory_order_acquire)) return;
  std::unique_lock<std::mutex> lock(ctl_mutex_, std::defer_lock);
  if (blocking) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return;  // a control call is busy: take the change at the next boundary
  }
  const std::uint64_t version = version_.load();
  if (version == applied_version_.load()) return;
  runtime_.adopt(model_);
  applied_version_ = version;
}

void Engine::realtime_loop() {
  const long period_ns = static_cast<long>(config_.frame_us) * 1000L;
  timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  auto advance = [&](timespec& t, long ns) {
    t.tv_nsec += ns;
    while (t.tv_nsec >= 1000000000L) {
      t.tv_nsec -= 1000000000L;
      ++t.tv_sec;
    }
  };
  advance(next, period_ns);
  while (!rt_stop_.load()) {
    // A signal handled on this thread interrupts the sleep: sleep again, or
    // the frame would run early and the schedule drift ahead of the clock.
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR && !rt_stop_.load()) {
    }
    {
      std::lock_guard<std::mutex> lock(process_mutex_);
      sync_runtime(false);
      process_one_frame(std::int64_t(next.tv_sec) * 1000000000LL + next.tv_nsec);
    }
    applied_cv_.notify_all();
    advance(next, period_ns);
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    const long long behind_ns = (now.tv_sec - next.tv_sec) * 1000000000LL + (now.tv_nsec - next.tv_nsec);
    if (behind_ns > 0) {
      // Missed a deadline. Far behind: start the schedule again from now
      // rather than racing to catch up.
      late_frames_.fetch_add(1, std::memory_order_relaxed);
      if (behind_ns > 5LL * period_ns) {
        next = now;
        advance(next, period_ns);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Helpers of the control calls

void Engine::changed() { version_.fetch_add(1, std::memory_order_release); }

void Engine::wait_applied(std::uint64_t version) {
  // Only a running real-time thread applies changes on its own; in stepped
  // mode the change is applied by the next step().
  if (!rt_running_.load() || rt_thread_.get_id() == std::this_thread::get_id()) return;
  std::unique_lock<std::mutex> lock(applied_mutex_);
  applied_cv_.wait_for(lock, std::chrono::seconds(2),
                       [&] { return applied_version_.load() >= version || !rt_running_.load(); });
}

Errc Engine::shared_state(std::uintptr_t id, Half half, std::shared_ptr<ChannelIo>& io) {
  return with_channel(id, half, [&](ChannelCtl& ch, ChannelKey) {
    io = ch.io;
    return Errc::ok;
  });
}

Errc Engine::lookup_argument(std::uintptr_t id, ChannelCtl*& ch, ChannelKey& key) {
  if (!decode_channel(id, key)) return Errc::no_such_channel;
  if (key.module != module_no_)
    return Registry::instance().find(key.module) ? Errc::bad_parameter : Errc::no_such_channel;
  ch = model_.find(key);
  return ch ? Errc::ok : Errc::no_such_channel;
}

bool Engine::input_half_busy(const ChannelCtl& ch) const { return ch.pid >= 0 || (ch.io && ch.io->record_busy.load()); }

}  // namespace prosody::detail
