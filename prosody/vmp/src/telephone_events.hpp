// telephone_events.hpp - RFC 4733 (2833) events sent by a VMP[tx]: which of
// its audio packets an event packet takes the place of, and what it says.
// Pure logic on RTP timestamps; the transmitter rewrites the packets.
//
// An event packet goes out at every audio packet time while the event
// lasts (the first with the marker bit), its timestamp the event's start
// and its duration the time covered so far; the final packet (E bit) is
// sent three times (RFC 4733 2.5.1.4), then the interval, with audio, until
// the next event starts.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

namespace prosody::vmp {

struct EventPacket {
  std::uint32_t timestamp = 0;  // the event's start
  bool marker = false;          // the event's first packet
  std::uint8_t payload[4] = {};
};

// What the sequencer did with one audio packet.
struct EventStep {
  bool replaced = false;   // the event packet (out) goes in its place
  bool started = false;    // the sequence's first event began in this packet
  bool completed = false;  // the sequence's last packet went in this packet
};

class EventSequencer {
 public:
  // Events codes (0..255) to send, each for duration samples of the RTP
  // clock, interval samples apart, at volume dBm0 (-63..0).
  void start(const std::vector<int>& codes, std::uint32_t duration, std::uint32_t interval, int volume);
  // Ends the sequence: an event under way ends with its next packet.
  // True if nothing was under way (completed at once).
  bool abort();
  // The RTP stream starts again (another clock): forgets the sequence.
  // True if one was under way.
  bool new_stream();
  bool busy() const noexcept { return state_ != State::idle || !pending_.empty(); }
  // The audio packet at timestamp covering samples.
  EventStep next(std::uint32_t timestamp, std::uint32_t samples, EventPacket& out);

 private:
  void fill(EventPacket& out, bool end, std::uint32_t duration) const;

  enum class State { idle, sending, ending } state_ = State::idle;
  std::deque<int> pending_;
  std::uint32_t duration_ = 0, interval_ = 0;
  int volume_ = 0;
  bool first_of_sequence_ = false;
  bool ending_early_ = false;
  int code_ = 0;
  std::uint32_t start_ = 0;
  std::uint32_t final_duration_ = 0;
  int finals_left_ = 0;
  bool next_start_known_ = false;
  std::uint32_t next_start_ = 0;  // the earliest start of the next event
};

}  // namespace prosody::vmp
