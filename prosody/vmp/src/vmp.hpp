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
// rtpbin (RTCP sender reports) -> udpsink (RTP, RTCP).
#pragma once

#include <gst/gst.h>
#include <netinet/in.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/ring.hpp"
#include "prosody/endpoint.hpp"

namespace prosody::vmp {

// telephone_event: RFC 4733 (2833) events, received only.
enum class Codec { alaw, mulaw, l16, telephone_event };

// Starts GStreamer once per process (a no-op if the application has).
// False if GStreamer or one of the elements used is missing.
bool gstreamer_ready();

// L16's RTP clock rates (G.711's is always 8000).
bool valid_l16_rate(unsigned rate);

struct RxStatus {
  enum Kind { got_ports, new_ssrc, stopped, tone_started, tone_ended } kind = got_ports;
  std::uint32_t ssrc = 0;
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
  // Binds RTP and RTCP ports on address (port 0: the system chooses) and
  // starts receiving. Returns 0 or an ERR_SM_* code.
  static int create(const endpoint::ModuleFormat& format, in_addr address, std::shared_ptr<Receiver>& out);
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
  in_addr address() const noexcept { return address_; }
  // The oldest status not yet read; false if none is queued.
  bool next_status(RxStatus& status);
  bool stopped() const;
  RxStats stats() const;

  struct Gst;  // the GStreamer callbacks

 private:
  explicit Receiver(const endpoint::ModuleFormat& format);
  int start(in_addr address);
  void queue_samples(const float* samples, std::size_t n);
  void queue_missing(std::size_t n);
  void queue_status(const RxStatus& status);
  GstCaps* caps_for(int payload_type);
  // Builds the decoding branch of a new rtpbin pad (streaming thread).
  void decode_pad(GstPad* pad);
  // An RFC 4733 event packet (streaming thread).
  void telephone_event(GstBuffer* rtp);

  const endpoint::ModuleFormat format_;
  int rtp_port_ = 0;
  int rtcp_port_ = 0;
  in_addr address_{};

  GstElement* pipeline_ = nullptr;  // control side only
  GstElement* rtpbin_ = nullptr;

  // Configuration, read by the streaming threads.
  mutable std::mutex config_m_;
  std::map<int, Codec> codecs_;  // by payload type
  unsigned l16_rate_ = 8000;
  bool stopped_ = false;
  bool detect_tones_ = false;
  std::deque<RxStatus> statuses_;
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

struct TxAddresses {
  sockaddr_in destination_rtp{};
  sockaddr_in source_rtp{};
  sockaddr_in destination_rtcp{};
  sockaddr_in source_rtcp{};
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
  // payload_type -1 on the current codec removes it (nothing is sent).
  int set_codec(Codec codec, int payload_type, int ptime_ms);
  int set_l16_rate(unsigned rate);
  int stop();
  bool stopped() const;
  // The SSRC the RTP session chose (0 until the first packet).
  std::uint32_t ssrc() const;
  TxStats stats() const;

 private:
  int rebuild();  // config_m_ held
  void teardown(GstElement* pipeline);

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
  GstElement* payloader_ = nullptr;
  std::uint64_t samples_pushed_ = 0;  // send_m_
  std::atomic<std::uint64_t> sent_{0}, skipped_{0};
};

}  // namespace prosody::vmp
