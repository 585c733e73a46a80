// Real-time drive, measured on the clock: Module::start_realtime takes a
// stepped module over at one frame per frame period (5, 10 and 20 ms), and
// stop_realtime hands it back; a real-time thread held up (a signal handler
// that sleeps on it, as a preempted thread would be) counts a late frame and
// starts its schedule again rather than racing to catch up; signals that
// interrupt its sleep never make it run ahead of the clock.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <set>
#include <thread>

#include "harness.hpp"

namespace prosody::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The ids of this process's threads.
std::set<pid_t> thread_ids() {
  std::set<pid_t> ids;
  if (DIR* d = opendir("/proc/self/task")) {
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.') ids.insert(static_cast<pid_t>(std::atoi(e->d_name)));
    closedir(d);
  }
  return ids;
}

// Starts m's real-time thread and returns its thread id (the one thread that
// start_realtime added to the process), or 0.
pid_t start_and_find_thread(Module& m) {
  const std::set<pid_t> before = thread_ids();
  m.start_realtime();
  pid_t found = 0;
  for (pid_t t : thread_ids()) {
    if (before.count(t)) continue;
    if (found) return 0;  // more than one: cannot tell
    found = t;
  }
  return found;
}

void signal_thread(pid_t tid, int sig) { syscall(SYS_tgkill, getpid(), tid, sig); }

// How long the SIGUSR1 handler holds up the thread it runs on.
std::atomic<long> g_stall_ns{0};

void stall_handler(int) {
  const int saved = errno;
  timespec ts{0, g_stall_ns.load()};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  errno = saved;
}

void nothing_handler(int) {}

// Installs handler for sig for the lifetime of the object.
class SignalHandler {
 public:
  SignalHandler(int sig, void (*handler)(int)) : sig_(sig) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, &old_);
  }
  ~SignalHandler() { sigaction(sig_, &old_, nullptr); }
  SignalHandler(const SignalHandler&) = delete;
  SignalHandler& operator=(const SignalHandler&) = delete;

 private:
  int sig_;
  struct sigaction old_ {};
};

// At each frame duration: a stepped module does nothing by itself; after
// start_realtime it processes 1/frame frames a second, each reaching the
// host output; after stop_realtime it stands still and steps again.
TEST(RealTime, StartRealtimeDrivesASteppedModuleAtItsFrameRate) {
  for (unsigned frame_us : {5000u, 10000u, 20000u}) {
    SCOPED_TRACE(std::to_string(frame_us) + " us frames");
    ModuleConfig cfg;
    cfg.frame_us = frame_us;
    Module m = Module::create(cfg);
    const std::size_t n = m.frame_samples();
    Channel out = m.allocate(ChannelType::full_duplex);
    out.enable_host_output(1000);
    out.conf_start();
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(m.stats().frames_processed, 0u) << "stepped: nothing happens by itself";
    EXPECT_EQ(m.drive_mode(), DriveMode::stepped);

    m.start_realtime();
    EXPECT_EQ(m.drive_mode(), DriveMode::realtime);
    m.start_realtime();  // already running: nothing changes
    try {
      m.step(1);
      ADD_FAILURE() << "step() on a real-time module";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::wrong_module_state);
    }
    std::this_thread::sleep_for(100ms);  // settle
    const ModuleStats s0 = m.stats();
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(600ms);
    const ModuleStats s1 = m.stats();
    const double elapsed = seconds_since(t0);
    const double per_second = 1e6 / frame_us;
    const double frames = double(s1.frames_processed - s0.frames_processed);
    EXPECT_LE(frames, elapsed * per_second + 2.0) << "never ahead of the clock";
    // On time whenever it had the CPU; on a machine too loaded to give it
    // the CPU it is late, and says so.
    if (s1.late_frames == s0.late_frames) {
      EXPECT_GE(frames, elapsed * per_second - 4.0) << "on time";
    }

    m.stop_realtime();
    EXPECT_EQ(m.drive_mode(), DriveMode::stepped);
    const std::uint64_t stopped_at = m.stats().frames_processed;
    // Every frame the thread processed reached the host output.
    std::vector<float> buf(1000 * n);
    EXPECT_EQ(out.read_output(Span<float>(buf.data(), buf.size())), stopped_at * n);
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(m.stats().frames_processed, stopped_at) << "stopped";
    m.step(3);
    EXPECT_EQ(m.stats().frames_processed, stopped_at + 3) << "stepped again";
  }
}

// The real-time thread is held up for 300 ms (a signal handler sleeping on
// it). No frame is processed meanwhile; then the missed deadline is counted
// in late_frames, and the schedule restarts from then: the 30 frames missed
// are not made up in a burst.
TEST(RealTime, AStalledThreadCountsALateFrameAndDoesNotRaceToCatchUp) {
  SignalHandler handler(SIGUSR1, stall_handler);
  g_stall_ns = 300 * 1000000L;
  Module m = Module::create({});
  const pid_t tid = start_and_find_thread(m);
  ASSERT_NE(tid, 0) << "the real-time thread was not found";
  std::this_thread::sleep_for(200ms);
  const ModuleStats before = m.stats();
  const auto t0 = Clock::now();
  signal_thread(tid, SIGUSR1);
  std::this_thread::sleep_for(60ms);  // the handler is running by now
  const ModuleStats stalled_from = m.stats();
  std::this_thread::sleep_for(180ms);
  const ModuleStats stalled_to = m.stats();
  const double stall_window = seconds_since(t0);
  std::this_thread::sleep_for(660ms);
  const ModuleStats after = m.stats();
  const double elapsed = seconds_since(t0);
  m.stop_realtime();

  if (stall_window < 0.29) {  // the window fell inside the stall
    EXPECT_EQ(stalled_to.frames_processed, stalled_from.frames_processed) << "no frame while the thread is held";
  }
  EXPECT_GE(after.late_frames, before.late_frames + 1) << "the missed deadline is counted";
  // 0.9 s from the signal, 0.3 s of it stalled: about 60 frames, not 90.
  const double frames = double(after.frames_processed - before.frames_processed);
  EXPECT_LE(frames, (elapsed - 0.3) * 100.0 + 5.0) << "frames in " << elapsed << " s";
  EXPECT_GE(frames, 20.0) << "it went on after the stall";
}

// Signals arriving while the real-time thread sleeps until its next deadline
// (a profiler's SIGPROF, an application's timer) interrupt the sleep; the
// thread must go back to sleep, not process the frame early. 500 signals in
// half a second leave it at 100 frames a second.
TEST(RealTime, SignalsNeverMakeTheThreadRunAheadOfTheClock) {
  SignalHandler handler(SIGUSR2, nothing_handler);
  Module m = Module::create({});
  const pid_t tid = start_and_find_thread(m);
  ASSERT_NE(tid, 0) << "the real-time thread was not found";
  std::this_thread::sleep_for(100ms);
  const ModuleStats s0 = m.stats();
  const auto t0 = Clock::now();
  int sent = 0;
  while (seconds_since(t0) < 0.5) {
    signal_thread(tid, SIGUSR2);
    ++sent;
    std::this_thread::sleep_for(1ms);
  }
  const ModuleStats s1 = m.stats();
  const double elapsed = seconds_since(t0);
  m.stop_realtime();
  EXPECT_GT(sent, 100);
  const double frames = double(s1.frames_processed - s0.frames_processed);
  EXPECT_LE(frames, elapsed * 100.0 + 2.0) << sent << " signals in " << elapsed << " s";
}

}  // namespace
}  // namespace prosody::test
