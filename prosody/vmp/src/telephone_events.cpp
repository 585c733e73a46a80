// telephone_events.cpp - EventSequencer (telephone_events.hpp).
#include "telephone_events.hpp"

#include <algorithm>

namespace prosody::vmp {

namespace {

// RFC 4733 2.5.1.4: the final packet of an event is sent three times.
constexpr int kFinalPackets = 3;

// a - b for RTP timestamps, which wrap.
std::int32_t ts_diff(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b); }

}  // namespace

void EventSequencer::start(const std::vector<int>& codes, std::uint32_t duration, std::uint32_t interval, int volume) {
  pending_.assign(codes.begin(), codes.end());
  duration_ = duration;
  interval_ = interval;
  volume_ = volume;
  first_of_sequence_ = true;
  ending_early_ = false;
  next_start_known_ = false;
}

bool EventSequencer::abort() {
  pending_.clear();
  if (state_ == State::idle) return true;
  ending_early_ = true;
  return false;
}

bool EventSequencer::new_stream() {
  const bool was_busy = busy();
  pending_.clear();
  state_ = State::idle;
  ending_early_ = false;
  next_start_known_ = false;
  return was_busy;
}

void EventSequencer::fill(EventPacket& out, bool end, std::uint32_t duration) const {
  // RFC 4733 2.3: event, E|R|volume (-dBm0), duration (16 bits).
  out.timestamp = start_;
  out.payload[0] = static_cast<std::uint8_t>(code_);
  out.payload[1] = static_cast<std::uint8_t>((end ? 0x80 : 0) | (-volume_ & 0x3F));
  const std::uint32_t d = std::min<std::uint32_t>(duration, 0xFFFF);
  out.payload[2] = static_cast<std::uint8_t>(d >> 8);
  out.payload[3] = static_cast<std::uint8_t>(d & 0xFF);
}

EventStep EventSequencer::next(std::uint32_t timestamp, std::uint32_t samples, EventPacket& out) {
  EventStep step;
  if (state_ == State::ending) {
    fill(out, true, final_duration_);
    out.marker = false;
    step.replaced = true;
    if (--finals_left_ == 0) {
      state_ = State::idle;
      step.completed = pending_.empty();
    }
    return step;
  }
  if (state_ == State::idle) {
    if (pending_.empty()) return step;
    if (next_start_known_ && ts_diff(timestamp, next_start_) < 0) return step;  // the interval: audio
    code_ = pending_.front();
    pending_.pop_front();
    start_ = timestamp;
    state_ = State::sending;
    out.marker = true;
    step.started = first_of_sequence_;
    first_of_sequence_ = false;
  } else {
    out.marker = false;
  }
  const std::uint32_t elapsed = timestamp + samples - start_;
  const bool end = elapsed >= duration_ || ending_early_;
  const std::uint32_t duration = std::min(elapsed, duration_);
  fill(out, end, duration);
  step.replaced = true;
  if (end) {
    final_duration_ = duration;
    finals_left_ = kFinalPackets - 1;
    state_ = State::ending;
    ending_early_ = false;
    next_start_known_ = true;
    next_start_ = start_ + duration_ + interval_;
  }
  return step;
}

}  // namespace prosody::vmp
