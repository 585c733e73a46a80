#include "engine/events.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace prosody::detail {

EventObject::EventObject() { fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

EventObject::~EventObject() {
  if (fd_ >= 0) close(fd_);
}

void EventObject::set(bool on) {
  std::lock_guard<std::mutex> lock(m_);
  if (fd_ < 0 || on == raised_) return;
  std::uint64_t v = 1;
  if (on) {
    if (write(fd_, &v, sizeof v) == static_cast<ssize_t>(sizeof v)) raised_ = true;
  } else {
    // Drain the counter; EAGAIN just means it was already empty.
    if (read(fd_, &v, sizeof v) >= 0 || errno == EAGAIN) raised_ = false;
  }
}

bool EventObject::is_set() {
  std::lock_guard<std::mutex> lock(m_);
  return raised_;
}

bool EventObject::wait() {
  pollfd p{fd_, POLLIN, 0};
  for (;;) {
    const int r = poll(&p, 1, -1);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
    if (r < 0) return false;
  }
}

}  // namespace prosody::detail
