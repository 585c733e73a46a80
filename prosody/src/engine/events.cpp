#include "engine/events.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace prosody::detail {

namespace {

// An eventfd is writable (POLLOUT) while its counter is below this, and
// readable (POLLIN) while it is above 0.
constexpr std::uint64_t kFullCounter = 0xfffffffffffffffeULL;

bool put(int fd, std::uint64_t v) { return write(fd, &v, sizeof v) == static_cast<ssize_t>(sizeof v); }
// Drains the counter to 0; EAGAIN just means it was already empty.
bool drain(int fd) {
  std::uint64_t v;
  return read(fd, &v, sizeof v) >= 0 || errno == EAGAIN;
}

}  // namespace

EventObject::EventObject(Ready ready) : ready_(ready) {
  fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  // A write event starts not ready: a full counter is not writable.
  if (fd_ >= 0 && ready_ == Ready::out && !put(fd_, kFullCounter)) {
    close(fd_);
    fd_ = -1;
  }
}

EventObject::~EventObject() {
  if (fd_ >= 0) close(fd_);
}

short EventObject::poll_events() const noexcept { return ready_ == Ready::out ? POLLOUT : POLLIN; }

void EventObject::apply(bool on) {
  if (fd_ < 0 || on == raised_) return;
  const bool done = ready_ == Ready::in ? (on ? put(fd_, 1) : drain(fd_)) : (on ? drain(fd_) : put(fd_, kFullCounter));
  if (done) raised_ = on;
}

void EventObject::set(const void* source, bool on) {
  std::lock_guard<std::mutex> lock(m_);
  const auto it = std::find(sources_.begin(), sources_.end(), source);
  if (on && it == sources_.end()) sources_.push_back(source);
  if (!on && it != sources_.end()) sources_.erase(it);
  apply(!sources_.empty());
}

bool EventObject::is_set() {
  std::lock_guard<std::mutex> lock(m_);
  return raised_;
}

bool EventObject::wait() {
  pollfd p{fd_, poll_events(), 0};
  for (;;) {
    const int r = poll(&p, 1, -1);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
    if (r < 0) return false;
  }
}

}  // namespace prosody::detail
