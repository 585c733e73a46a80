// Level-style channel events on Linux file descriptors (eventfd), as Prosody
// presents them: an event stays readable while its cause remains, so an
// application can poll() many of them with the fds in tSMEventId.
#pragma once

#include <memory>
#include <mutex>

namespace prosody::detail {

class EventObject {
 public:
  EventObject();
  ~EventObject();
  EventObject(const EventObject&) = delete;
  EventObject& operator=(const EventObject&) = delete;

  bool ok() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }
  // Makes the fd readable (on) or not (off). Idempotent.
  void set(bool on);
  bool is_set();
  // Blocks until the fd is readable; false if interrupted.
  bool wait();

 private:
  int fd_ = -1;
  std::mutex m_;
  bool raised_ = false;
};

// A channel's binding to one event (write, read or recognition).
struct EventBinding {
  std::mutex m;
  std::shared_ptr<EventObject> event;
  int mode = 0;  // kSMChannelSpecificEvent / ...NonIdle / kSMAnyChannelEvent

  std::shared_ptr<EventObject> get(int* mode_out = nullptr) {
    std::lock_guard<std::mutex> lock(m);
    if (mode_out) *mode_out = mode;
    return event;
  }
};

}  // namespace prosody::detail
