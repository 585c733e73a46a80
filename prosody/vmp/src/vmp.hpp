// vmp.hpp - RTP endpoints on GStreamer's RTP stack (libprosody-vmp). A
// Receiver (VMP[rx]) is a data source of a module, a Transmitter (VMP[tx]) a
// data sink, both through the core's external-endpoint hook
// (prosody/endpoint.hpp): the core never sees a GStreamer type.
//
// Receiver: udpsrc (RTP, RTCP) -> rtpbin (its rtpjitterbuffer reorders and
// declares lost packets) -> per payload type a depayloader and decoder ->
// appsink -> a ring of samples that the module's processing path pulls one
// frame at a time. The ring is the playout buffer: playing starts once the
// initial delay is queued; packets the jitter buffer declares lost arrive as
// GAP events and are queued as missing samples (NaN), which the module
// conceals; the ring never holds more than the maximum delay (the oldest
// beyond it are dropped).
//
// Transmitter: the module's frames -> appsrc -> encoder -> payloader ->
// rtpbin (RTCP sender reports) -> udpsink (RTP, RTCP). RFC 4733 events
// take the place of audio packets as they leave the payloader (same SSRC,
// sequence numbers, clock), so they go only while a datafeed feeds it.
//
// Both queue their status changes for the status calls, and set an event
// (a pollable fd) while any is queued.
#pragma once

#include <gst/gst.h>
#include <netinet/in.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/events.hpp"
#include "engine/ring.hpp"
#include "prosody/endpoint.hpp"
#include "prosody/tones.hpp"
#include "telephone_events.hpp"

namespace prosody::vmp {

// telephone_event: RFC 4733 (2833) events, received only.
enum class Codec { alaw, mulaw, l16, telephone_event };

// Starts GStreamer once per process (a no-op if the application has).
// False if GStreamer or one of the elements used is missing.
bool gstreamer_ready();

// L16's RTP clock rates (G.711's is always 8000).
bool valid_l16_rate(unsigned rate);

// The status changes an endpoint has queued for its status call, and the
// event that is set while any is queued; for good once the last (Stopped)
// is queued, as Aculab's endpoints stay signalled after stopping.
template <class Status>
class StatusQueue {
 public:
  StatusQueue() : event_(std::make_shared<detail::EventObject>()) {}
  void push(const Status& status, bool last = false) {
    std::lock_guard<std::mutex> lock(m_);
    statuses_.push_back(status);
    last_queued_ = last_queued_ || last;
    event_->set(this, true);
  }
  // The oldest status not yet read; false if none is queued.
  bool pop(Status& status) {
    std::lock_guard<std::mutex> lock(m_);
    if (statuses_.empty()) return false;
    status = statuses_.front();
    statuses_.pop_front();
    if (statuses_.empty() && !last_queued_) event_->set(this, false);
    return true;
  }
  const std::shared_ptr<detail::EventObject>& event() const noexcept { return event_; }

 private:
  std::mutex m_;
  std::deque<Status> statuses_;
  bool last_queued_ = false;
  const std::shared_ptr<detail::EventObject> event_;
};

// A local or remote address of either family, as raw bytes in network
// order (4 for IPv4, 16 for IPv6).
struct IpAddress {
  bool ipv6 = false;
  std::uint8_t bytes[16] = {};
  bool any() const;  // INADDR_ANY or in6addr_any
  std::string text() const;
};

struct RxStatus {
  enum Kind { got_ports, new_ssrc, stopped, tone_started, tone_ended } kind = got_ports;
  std::uint32_t ssrc = 0;
  // new_ssrc: where its RTP came from (port 0: not known, as when its
  // RTCP arrived first).
  IpAddress from;
  int from_port = 0;
  // An RFC 4733 event: its code, volume (dBm0) and, when ended, duration
  // (RTP timestamp units, 8 kHz).
  int tone_id = 0;
  double tone_volume = 0.0;
  unsigned tone_duration = 0;
};

struct RxStats {
  std::uint64_t samples_received = 0;  // decoded samples queued
  std::uint64_t samples_lost = 0;      // declared lost by the jitter buffer (queued as missing)
  std::uint64_t frames_concealed = 0;  // frames pulled short: the playout buffer ran dry
  std::uint64_t samples_dropped = 0;   // beyond the maximum delay, or with the ring full
  std::uint64_t rtcp_packets = 0;      // RTCP packets that arrived on the RTCP port
};

class Receiver final : public EndpointSource {
 public:
  // Binds RTP and RTCP ports on address (the system chooses them) and
  // starts receiving. Returns 0 or an ERR_SM_* code.
  static int create(const endpoint::ModuleFormat& format, const IpAddress& address, std::shared_ptr<Receiver>& out);
  ~Receiver() override;

  void pull(float* frame, std::size_t n) override;

  // payload_type -1 removes codec's mapping.
  int set_codec(Codec codec, int payload_type);
  int set_l16_rate(unsigned rate);
  int set_jitter(unsigned max_delay_ms, unsigned initial_delay_ms);
  // Whether RFC 4733 events are reported (DetectTone, EndTone).
  void set_detect_tones(bool detect);
  // Stops receiving; queues the Stopped status. ERR_SM_WRONG_CHANNEL_STATE
  // if already stopped.
  int stop();

  int rtp_port() const noexcept { return rtp_port_; }
  int rtcp_port() const noexcept { return rtcp_port_; }
  const IpAddress& address() const noexcept { return address_; }
  // The oldest status not yet read; false if none is queued.
  bool next_status(RxStatus& status) { return statuses_.pop(status); }
  const std::shared_ptr<detail::EventObject>& event() const noexcept { return statuses_.event(); }
  bool stopped() const;
  RxStats stats() const;

  struct Gst;  // the GStreamer callbacks

 private:
  explicit Receiver(const endpoint::ModuleFormat& format);
  int start(const IpAddress& address);
  void queue_samples(const float* samples, std::size_t n);
  void queue_missing(std::size_t n);
  GstCaps* caps_for(int payload_type);
  // Builds the decoding branch of a new rtpbin pad (streaming thread).
  void decode_pad(GstPad* pad);
  // An RFC 4733 event packet (streaming thread).
  void telephone_event(GstBuffer* rtp);
  // An RTP packet arrived (streaming thread): notes its sender.
  void rtp_arrived(GstBuffer* packet);

  const endpoint::ModuleFormat format_;
  int rtp_port_ = 0;
  int rtcp_port_ = 0;
  IpAddress address_;

  GstElement* pipeline_ = nullptr;  // control side only
  GstElement* rtpbin_ = nullptr;

  // Configuration, read by the streaming threads.
  mutable std::mutex config_m_;
  std::map<int, Codec> codecs_;  // by payload type
  unsigned l16_rate_ = 8000;
  bool stopped_ = false;
  bool detect_tones_ = false;
  StatusQueue<RxStatus> statuses_;
  // The sender of the last RTP packet (rtp_arrived), for NewSSRC.
  std::mutex sender_m_;
  IpAddress last_sender_;
  int last_sender_port_ = 0;
  // The event under way (by its RTP timestamp), and whether its end was seen
  // (the end packet is sent three times).
  bool event_seen_ = false;
  std::uint32_t event_timestamp_ = 0;
  bool event_ended_ = false;

  // The playout buffer. Producer: the streaming threads, one at a time
  // (producer_m_); consumer: the module's processing path.
  std::mutex producer_m_;
  detail::SpscRing<float> ring_;
  std::vector<float> missing_;              // NaNs, for lost packets (producer side)
  std::atomic<std::size_t> start_samples_;  // queued before playing starts
  std::atomic<std::size_t> max_samples_;    // queued at most (beyond: the oldest are dropped)
  // Processing path only.
  bool playing_ = false;
  bool ever_played_ = false;
  std::vector<float> scratch_;

  std::atomic<std::uint64_t> received_{0}, lost_{0}, concealed_{0}, dropped_{0}, rtcp_{0};
};

struct UdpAddress {
  IpAddress ip;
  int port = 0;  // host order; 0: any (a source) or unset
};

struct TxAddresses {
  UdpAddress destination_rtp;
  UdpAddress source_rtp;        // sent from (any: the system chooses)
  UdpAddress destination_rtcp;  // port 0: the RTP destination, port + 1
  UdpAddress source_rtcp;
};

struct TxStatus {
  enum Kind { got_ssrc, tone_ongoing, tone_completed, stopped } kind = got_ssrc;
  std::uint32_t ssrc = 0;
};

// The event code each DTMF digit is sent as, by the digit's RFC 4733
// number (0-9, 10 '*', 11 '#', 12-15 A-D); -1: not sent.
using DigitCodes = std::array<int, 16>;

// In-band tone handling on the audio a VMP[tx] sends.
struct TxTones {
  bool convert = false;    // detected digits go as RFC 4733 events
  bool eliminate = false;  // detected digits are removed from the audio
  bool min_40ms = false;   // shorter digits are not detected
  std::shared_ptr<const DigitCodes> codes;
};

struct TxStats {
  std::uint64_t frames_sent = 0;     // frames handed to the RTP stack
  std::uint64_t frames_skipped = 0;  // frames not sent: no datafeed, not configured, or reconfiguring
};

class Transmitter final : public EndpointSink {
 public:
  explicit Transmitter(const endpoint::ModuleFormat& format);
  ~Transmitter() override;

  void push(const float* frame, std::size_t n) override;

  // Each rebuilds the sending pipeline once both addresses and a codec are
  // set. Returns 0 or an ERR_SM_* code (a source port in use:
  // ERR_SM_NO_RESOURCES).
  int configure(const TxAddresses& addresses);
  // The telephone-event payload type (-1: none; events cannot be sent).
  int set_event_payload_type(int payload_type);
  // Sends RFC 4733 events (codes 0..255), each duration_ms long, interval_ms
  // apart, at volume dBm0. ERR_SM_BAD_PARAMETER outside the documented
  // limits; ERR_SM_WRONG_CHANNEL_STATE without a telephone-event payload
  // type or audio codec, while a sequence is under way, or once stopped.
  int generate_events(const std::vector<int>& codes, int duration_ms, int interval_ms, int volume);
  // Ends the sequence under way (ToneCompleted follows);
  // ERR_SM_WRONG_CHANNEL_STATE if none is.
  int abort_events();
  // Detects DTMF in the audio sent, to convert and/or remove.
  // ERR_SM_WRONG_CHANNEL_STATE if converting without a telephone-event
  // payload type, or once stopped.
  int configure_tones(const TxTones& tones);
  // payload_type -1 on the current codec removes it (nothing is sent).
  int set_codec(Codec codec, int payload_type, int ptime_ms);
  int set_l16_rate(unsigned rate);
  int stop();
  bool stopped() const;
  bool next_status(TxStatus& status) { return statuses_.pop(status); }
  const std::shared_ptr<detail::EventObject>& event() const noexcept { return statuses_.event(); }
  TxStats stats() const;

  struct Gst;  // the GStreamer callbacks

 private:
  int rebuild();  // config_m_ held
  void teardown(GstElement* pipeline);
  unsigned rtp_rate() const;  // config_m_ held
  // An RTP packet leaving the payloader (streaming thread): the first
  // reports the SSRC; an event packet may take its place.
  GstBuffer* outgoing(GstBuffer* rtp);
  // Runs the tone detector on a frame about to be sent (processing path);
  // returns the audio to send.
  const float* detect_tones(const float* frame, std::size_t n);
  void convert(const ToneEvent& tone);  // detect_m_ held

  const endpoint::ModuleFormat format_;
  mutable std::mutex config_m_;  // control calls
  bool configured_ = false;
  TxAddresses addresses_;
  bool has_codec_ = false;
  Codec codec_ = Codec::alaw;
  int payload_type_ = 8;
  int ptime_ms_ = 20;
  unsigned l16_rate_ = 8000;
  bool stopped_ = false;
  GstElement* pipeline_ = nullptr;  // config_m_

  // What push sends into: swapped under send_m_, which push only tries
  // (a frame during a rebuild is skipped, never waited for).
  mutable std::mutex send_m_;
  GstElement* appsrc_ = nullptr;
  std::uint64_t samples_pushed_ = 0;  // send_m_
  std::atomic<std::uint64_t> sent_{0}, skipped_{0};

  // Events, shared by the control calls and the streaming thread.
  std::mutex events_m_;
  int event_payload_type_ = -1;
  EventSequencer sequencer_;
  bool sending_detected_ = false;  // the sequencer sends a detected digit, not a generated sequence
  bool ssrc_known_ = false;
  std::uint32_t ssrc_ = 0;         // the last reported
  unsigned bytes_per_sample_ = 1;  // of the audio payload: G.711 1, L16 2

  // In-band detection: swapped in by configure_tones, used by push.
  std::mutex detect_m_;
  std::unique_ptr<ToneSuppressor> detector_;
  TxTones tones_;
  std::vector<float> eliminated_;  // the frame with detected digits removed
  std::vector<ToneEvent> found_;

  StatusQueue<TxStatus> statuses_;
};

}  // namespace prosody::vmp
