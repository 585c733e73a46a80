// Level-style channel events on Linux file descriptors (eventfd), as Prosody
// presents them: an event stays ready while its cause remains, so an
// application can poll() many of them with the fds in tSMEventId.
//
// A read or recognition event is ready as POLLIN; a write event as POLLOUT
// ("there is room to write", as Prosody documents it). One event can serve
// several channels (the legacy any-channel binding): it is ready while any
// of them raises it.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

namespace prosody::detail {

class EventObject {
 public:
  enum class Ready { in, out };  // the poll() condition that means "set"
  explicit EventObject(Ready ready = Ready::in);
  ~EventObject();
  EventObject(const EventObject&) = delete;
  EventObject& operator=(const EventObject&) = delete;

  bool ok() const noexcept { return fd_ >= 0; }
  int fd() const noexcept { return fd_; }
  short poll_events() const noexcept;
  // Source (a channel) raises the event (on) or lets go of it (off). The
  // event is set while any source raises it. Idempotent.
  void set(const void* source, bool on);
  bool is_set();
  // Blocks until the event is set; false if interrupted.
  bool wait();

 private:
  void apply(bool on);  // m_ held
  int fd_ = -1;
  Ready ready_;
  std::mutex m_;
  bool raised_ = false;
  std::vector<const void*> sources_;
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
