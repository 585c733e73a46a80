// prosodyrecorder killed with SIGKILL while recording, as gst-launch-1.0 runs
// it (the built plugin): at five random moments, for WAV and FLAC, the file
// opens with libsndfile, sox and (WAV) Python's wave, and holds the time
// elapsed since the pipeline started playing to within 100 ms.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include "file_readers.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

// Runs the pipeline; returns when gst-launch-1.0 says it is PLAYING.
pid_t start_recording(const std::string& path, const char* format, int* out_fd, Clock::time_point* playing) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  const std::string loc = "location=" + path, fmt = std::string("format=") + format;
  const char* argv[] = {"gst-launch-1.0",
                        "audiotestsrc",
                        "is-live=true",
                        "freq=500",
                        "volume=0.3",
                        "samplesperbuffer=160",
                        "!",
                        "audio/x-raw,format=S16LE,rate=8000,channels=1",
                        "!",
                        "r.sink_0",
                        "prosodyrecorder",
                        "name=r",
                        fmt.c_str(),
                        loc.c_str(),
                        nullptr};
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, "gst-launch-1.0", &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  if (rc != 0) return -1;
  FILE* out = fdopen(pipefd[0], "r");
  char line[512];
  while (std::fgets(line, sizeof line, out)) {
    if (std::strstr(line, "Setting pipeline to PLAYING")) {
      *playing = Clock::now();
      break;
    }
  }
  *out_fd = pipefd[0];
  return pid;
}

TEST(RecorderKill, WavAndFlacKilledAtFiveRandomMomentsAreReadable) {
  if (!testsig::have_sox()) GTEST_SKIP() << "sox is not installed (build.sh installs it)";
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> ms(500, 3000);
  const char* tmp = std::getenv("TMPDIR");
  for (const char* format : {"wav", "flac"}) {
    for (int i = 0; i < 5; ++i) {
      SCOPED_TRACE(std::string(format) + " #" + std::to_string(i));
      const std::string path =
          std::string(tmp ? tmp : "/tmp") + "/prosody-kill-" + std::to_string(getpid()) + "." + format;
      int fd = -1;
      Clock::time_point playing;
      const pid_t pid = start_recording(path, format, &fd, &playing);
      ASSERT_GT(pid, 0) << "gst-launch-1.0 did not start";
      std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
      kill(pid, SIGKILL);
      const double elapsed = std::chrono::duration<double>(Clock::now() - playing).count();
      int status = 0;
      waitpid(pid, &status, 0);
      close(fd);
      ASSERT_TRUE(WIFSIGNALED(status)) << "gst-launch-1.0 ended by itself";
      const double by_sndfile = testsig::seconds_by_libsndfile(path), by_sox = testsig::seconds_by_sox(path);
      EXPECT_NEAR(by_sndfile, elapsed, 0.1) << "libsndfile";
      EXPECT_NEAR(by_sox, elapsed, 0.1) << "sox";
      double by_python = -1.0;
      if (std::string(format) == "wav") {
        by_python = testsig::seconds_by_python_wave(path);
        EXPECT_NEAR(by_python, elapsed, 0.1) << "Python's wave";
      }
      std::printf("[ measure ] %s: killed %.3f s after PLAYING; libsndfile %.3f s, sox %.3f s, wave %.3f s\n", format,
                  elapsed, by_sndfile, by_sox, by_python);
      std::remove(path.c_str());
    }
  }
}

}  // namespace
