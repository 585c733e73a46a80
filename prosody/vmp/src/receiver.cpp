// receiver.cpp - VMP[rx] (vmp.hpp): RTP in through rtpbin, decoded per
// payload type, queued in the playout buffer the module pulls from.
#include <arpa/inet.h>
#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/net/gstnetaddressmeta.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "prosody/smerror.h"
#include "prosodytsan.h"
#include "vmp.hpp"

namespace prosody::vmp {

namespace {

// Ring capacity: the longest maximum delay config_jitter accepts, and more.
constexpr unsigned kMaxDelayLimitMs = 1000;
constexpr unsigned kDefaultMaxDelayMs = 100;
constexpr unsigned kDefaultInitialDelayMs = 50;

const float kMissing = std::numeric_limits<float>::quiet_NaN();

std::size_t samples_of_ms(unsigned ms, unsigned rate) { return std::size_t{ms} * rate / 1000; }

// A UDP socket bound to address and a port the system chooses; its port in port.
GSocket* bind_udp(const IpAddress& address, int& port) {
  const GSocketFamily family = address.ipv6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
  GSocket* socket = g_socket_new(family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, nullptr);
  if (!socket) return nullptr;
  GInetAddress* inet = g_inet_address_new_from_bytes(address.bytes, family);
  GSocketAddress* where = g_inet_socket_address_new(inet, 0);
  const gboolean bound = g_socket_bind(socket, where, FALSE, nullptr);
  g_object_unref(where);
  g_object_unref(inet);
  GSocketAddress* local = bound ? g_socket_get_local_address(socket, nullptr) : nullptr;
  if (!local) {
    g_object_unref(socket);
    return nullptr;
  }
  port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
  g_object_unref(local);
  return socket;
}

const char* encoding_name(Codec c) {
  switch (c) {
    case Codec::alaw:
      return "PCMA";
    case Codec::mulaw:
      return "PCMU";
    case Codec::l16:
      return "L16";
    case Codec::telephone_event:
      return "TELEPHONE-EVENT";
  }
  return "";
}

const char* depayload_chain(Codec c) {
  switch (c) {
    case Codec::alaw:
      return "rtppcmadepay ! alawdec";
    case Codec::mulaw:
      return "rtppcmudepay ! mulawdec";
    case Codec::l16:
      return "rtpL16depay";
    case Codec::telephone_event:
      break;  // not decoded to audio
  }
  return "";
}

}  // namespace

bool gstreamer_ready() {
  static const bool ready = [] {
    if (!gst_init_check(nullptr, nullptr, nullptr)) return false;
    for (const char* name : {"rtpbin", "udpsrc", "udpsink", "appsrc", "appsink", "rtppcmapay", "rtppcmadepay",
                             "rtppcmupay", "rtppcmudepay", "rtpL16pay", "rtpL16depay", "alawenc", "alawdec", "mulawenc",
                             "mulawdec", "audioconvert", "audioresample"}) {
      GstElementFactory* f = gst_element_factory_find(name);
      if (!f) return false;
      gst_object_unref(f);
    }
    return true;
  }();
  return ready;
}

bool IpAddress::any() const {
  const std::size_t n = ipv6 ? 16 : 4;
  return std::all_of(bytes, bytes + n, [](std::uint8_t b) { return b == 0; });
}

std::string IpAddress::text() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, buffer, sizeof buffer);
  return buffer;
}

bool valid_l16_rate(unsigned rate) { return rate == 8000 || rate == 16000 || rate == 32000 || rate == 48000; }

// The GStreamer callbacks, with the receiver as user data. They run on
// streaming threads while the pipeline runs; stop() ends them. Each marks
// the hand-over for ThreadSanitizer, which cannot see GLib's locks.
struct Receiver::Gst {
  static GstCaps* request_pt_map(GstElement*, guint, guint pt, gpointer self) {
    ProsodyTsanScope tsan(self);
    return static_cast<Receiver*>(self)->caps_for(static_cast<int>(pt));
  }
  // A new SSRC: rtpbin saw its first packet, just after rtp_arrived saw it
  // on the same streaming thread (or its first RTCP packet, on another).
  static void new_ssrc(GstElement*, guint, guint ssrc, gpointer self) {
    ProsodyTsanScope tsan(self);
    auto* r = static_cast<Receiver*>(self);
    RxStatus s;
    s.kind = RxStatus::new_ssrc;
    s.ssrc = ssrc;
    {
      std::lock_guard<std::mutex> lock(r->sender_m_);
      s.from = r->last_sender_;
      s.from_port = r->last_sender_port_;
    }
    r->statuses_.push(s);
  }
  static GstPadProbeReturn rtp_arrived(GstPad*, GstPadProbeInfo* info, gpointer self) {
    ProsodyTsanScope tsan(self);
    static_cast<Receiver*>(self)->rtp_arrived(GST_PAD_PROBE_INFO_BUFFER(info));
    return GST_PAD_PROBE_OK;
  }
  static void pad_added(GstElement*, GstPad* pad, gpointer self) {
    ProsodyTsanScope tsan(self);
    gchar* name = gst_pad_get_name(pad);
    const bool rtp = g_str_has_prefix(name, "recv_rtp_src_");
    g_free(name);
    if (rtp) static_cast<Receiver*>(self)->decode_pad(pad);
  }
  static GstFlowReturn new_sample(GstAppSink* sink, gpointer self) {
    ProsodyTsanScope tsan(self);
    GstSample* sample = gst_app_sink_pull_sample(sink);
    if (!sample) return GST_FLOW_EOS;
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      static_cast<Receiver*>(self)->queue_samples(reinterpret_cast<const float*>(map.data), map.size / sizeof(float));
      gst_buffer_unmap(buffer, &map);
    }
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }
  // A GAP event on the decoded stream: packets the jitter buffer declared lost.
  static GstPadProbeReturn gap(GstPad*, GstPadProbeInfo* info, gpointer self) {
    ProsodyTsanScope tsan(self);
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) != GST_EVENT_GAP) return GST_PAD_PROBE_OK;
    GstClockTime at, duration;
    gst_event_parse_gap(event, &at, &duration);
    auto* r = static_cast<Receiver*>(self);
    if (GST_CLOCK_TIME_IS_VALID(duration))
      r->queue_missing(gst_util_uint64_scale_round(duration, r->format_.sample_rate, GST_SECOND));
    return GST_PAD_PROBE_OK;
  }
  static GstPadProbeReturn event_packet(GstPad*, GstPadProbeInfo* info, gpointer self) {
    ProsodyTsanScope tsan(self);
    static_cast<Receiver*>(self)->telephone_event(GST_PAD_PROBE_INFO_BUFFER(info));
    return GST_PAD_PROBE_DROP;
  }
  static GstPadProbeReturn rtcp_arrived(GstPad*, GstPadProbeInfo*, gpointer self) {
    ProsodyTsanScope tsan(self);
    static_cast<Receiver*>(self)->rtcp_.fetch_add(1, std::memory_order_relaxed);
    return GST_PAD_PROBE_OK;
  }
};

Receiver::Receiver(const endpoint::ModuleFormat& format)
    : format_(format),
      ring_(samples_of_ms(kMaxDelayLimitMs, format.sample_rate) + 2 * format.frame_samples),
      missing_(format.frame_samples, kMissing),
      start_samples_(samples_of_ms(kDefaultInitialDelayMs, format.sample_rate)),
      max_samples_(samples_of_ms(kDefaultMaxDelayMs, format.sample_rate)),
      scratch_(format.frame_samples) {}

int Receiver::create(const endpoint::ModuleFormat& format, const IpAddress& address, std::shared_ptr<Receiver>& out) {
  if (!gstreamer_ready()) return ERR_SM_NO_RESOURCES;
  std::shared_ptr<Receiver> r(new Receiver(format));
  if (int e = r->start(address)) return e;
  out = std::move(r);
  return 0;
}

int Receiver::start(const IpAddress& address) {
  GSocket* rtp = bind_udp(address, rtp_port_);
  GSocket* rtcp = rtp ? bind_udp(address, rtcp_port_) : nullptr;
  if (!rtp || !rtcp) {
    if (rtp) g_object_unref(rtp);
    return ERR_SM_BAD_PARAMETER;  // an address not of this host
  }
  address_ = address;
  GError* error = nullptr;
  pipeline_ = gst_parse_launch(
      "rtpbin name=rtpbin do-lost=true "
      "udpsrc name=rtp caps=application/x-rtp,media=audio ! rtpbin.recv_rtp_sink_0 "
      "udpsrc name=rtcp caps=application/x-rtcp ! rtpbin.recv_rtcp_sink_0",
      &error);
  if (!pipeline_) {
    g_clear_error(&error);
    g_object_unref(rtp);
    g_object_unref(rtcp);
    return ERR_SM_NO_RESOURCES;
  }
  GstBin* bin = GST_BIN(pipeline_);
  rtpbin_ = gst_bin_get_by_name(bin, "rtpbin");
  g_object_set(rtpbin_, "latency", guint(kDefaultInitialDelayMs), nullptr);
  GstElement* rtp_src = gst_bin_get_by_name(bin, "rtp");
  GstElement* rtcp_src = gst_bin_get_by_name(bin, "rtcp");
  g_object_set(rtp_src, "socket", rtp, nullptr);
  g_object_set(rtcp_src, "socket", rtcp, nullptr);
  g_object_unref(rtp);
  g_object_unref(rtcp);
  GstPad* rtp_pad = gst_element_get_static_pad(rtp_src, "src");
  gst_pad_add_probe(rtp_pad, GST_PAD_PROBE_TYPE_BUFFER, &Gst::rtp_arrived, this, nullptr);
  gst_object_unref(rtp_pad);
  GstPad* rtcp_pad = gst_element_get_static_pad(rtcp_src, "src");
  gst_pad_add_probe(rtcp_pad, GST_PAD_PROBE_TYPE_BUFFER, &Gst::rtcp_arrived, this, nullptr);
  gst_object_unref(rtcp_pad);
  gst_object_unref(rtp_src);
  gst_object_unref(rtcp_src);
  g_signal_connect(rtpbin_, "request-pt-map", G_CALLBACK(&Gst::request_pt_map), this);
  g_signal_connect(rtpbin_, "on-new-ssrc", G_CALLBACK(&Gst::new_ssrc), this);
  g_signal_connect(rtpbin_, "pad-added", G_CALLBACK(&Gst::pad_added), this);
  PROSODY_TSAN_RELEASE(this);
  if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) return ERR_SM_NO_RESOURCES;
  RxStatus ports;
  ports.kind = RxStatus::got_ports;
  statuses_.push(ports);
  return 0;
}

Receiver::~Receiver() {
  stop();
  if (rtpbin_) gst_object_unref(rtpbin_);
  if (pipeline_) gst_object_unref(pipeline_);
}

int Receiver::stop() {
  {
    std::lock_guard<std::mutex> lock(config_m_);
    if (stopped_) return ERR_SM_WRONG_CHANNEL_STATE;
    stopped_ = true;
  }
  // Joins the streaming threads: no callback runs after this.
  if (pipeline_) gst_element_set_state(pipeline_, GST_STATE_NULL);
  PROSODY_TSAN_ACQUIRE(this);
  RxStatus s;
  s.kind = RxStatus::stopped;
  statuses_.push(s, true);
  return 0;
}

bool Receiver::stopped() const {
  std::lock_guard<std::mutex> lock(config_m_);
  return stopped_;
}

int Receiver::set_codec(Codec codec, int payload_type) {
  if (payload_type < -1 || payload_type > 127) return ERR_SM_BAD_PARAMETER;
  {
    std::lock_guard<std::mutex> lock(config_m_);
    for (auto it = codecs_.begin(); it != codecs_.end();) it = it->second == codec ? codecs_.erase(it) : std::next(it);
    if (payload_type >= 0) codecs_[payload_type] = codec;
  }
  // rtpbin asks again for every payload type it sees next.
  g_signal_emit_by_name(rtpbin_, "clear-pt-map");
  return 0;
}

int Receiver::set_l16_rate(unsigned rate) {
  if (!valid_l16_rate(rate)) return ERR_SM_BAD_PARAMETER;
  {
    std::lock_guard<std::mutex> lock(config_m_);
    l16_rate_ = rate;
  }
  g_signal_emit_by_name(rtpbin_, "clear-pt-map");
  return 0;
}

int Receiver::set_jitter(unsigned max_delay_ms, unsigned initial_delay_ms) {
  if (max_delay_ms <= initial_delay_ms || max_delay_ms > kMaxDelayLimitMs) return ERR_SM_BAD_PARAMETER;
  start_samples_.store(samples_of_ms(initial_delay_ms, format_.sample_rate));
  max_samples_.store(samples_of_ms(max_delay_ms, format_.sample_rate));
  // A missing packet is waited for as long as the initial delay covers;
  // then it is lost, and its samples are concealed.
  g_object_set(rtpbin_, "latency", guint(initial_delay_ms), nullptr);
  return 0;
}

void Receiver::set_detect_tones(bool detect) {
  std::lock_guard<std::mutex> lock(config_m_);
  detect_tones_ = detect;
}

void Receiver::telephone_event(GstBuffer* buffer) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return;
  // RFC 4733 section 2.3: event (8 bits), E, R, volume (6 bits: -dBm0),
  // duration (16 bits, timestamp units); one event per RTP timestamp.
  const std::uint32_t timestamp = gst_rtp_buffer_get_timestamp(&rtp);
  const guint8* payload = static_cast<const guint8*>(gst_rtp_buffer_get_payload(&rtp));
  const bool whole = gst_rtp_buffer_get_payload_len(&rtp) >= 4;
  RxStatus s;
  if (whole) {
    s.tone_id = payload[0];
    s.tone_volume = -double(payload[1] & 0x3F);
    s.tone_duration = (unsigned(payload[2]) << 8) | payload[3];
  }
  const bool end = whole && (payload[1] & 0x80);
  gst_rtp_buffer_unmap(&rtp);
  if (!whole) return;
  std::lock_guard<std::mutex> lock(config_m_);
  if (!event_seen_ || timestamp != event_timestamp_) {
    event_seen_ = true;
    event_timestamp_ = timestamp;
    event_ended_ = false;
    if (detect_tones_) {
      s.kind = RxStatus::tone_started;
      const unsigned duration = s.tone_duration;
      s.tone_duration = 0;
      statuses_.push(s);
      s.tone_duration = duration;
    }
  }
  if (end && !event_ended_) {
    event_ended_ = true;
    if (detect_tones_) {
      s.kind = RxStatus::tone_ended;
      statuses_.push(s);
    }
  }
}

void Receiver::rtp_arrived(GstBuffer* packet) {
  // udpsrc puts the sender on each buffer.
  auto* meta = reinterpret_cast<GstNetAddressMeta*>(gst_buffer_get_meta(packet, GST_NET_ADDRESS_META_API_TYPE));
  if (!meta || !G_IS_INET_SOCKET_ADDRESS(meta->addr)) return;
  GInetSocketAddress* from = G_INET_SOCKET_ADDRESS(meta->addr);
  GInetAddress* ip = g_inet_socket_address_get_address(from);
  IpAddress sender;
  sender.ipv6 = g_inet_address_get_family(ip) == G_SOCKET_FAMILY_IPV6;
  std::memcpy(sender.bytes, g_inet_address_to_bytes(ip), g_inet_address_get_native_size(ip));
  std::lock_guard<std::mutex> lock(sender_m_);
  last_sender_ = sender;
  last_sender_port_ = g_inet_socket_address_get_port(from);
}

GstCaps* Receiver::caps_for(int payload_type) {
  std::lock_guard<std::mutex> lock(config_m_);
  auto it = codecs_.find(payload_type);
  if (it == codecs_.end()) return nullptr;
  // G.711 and telephone-event run at 8 kHz (RFC 3551, RFC 4733 here).
  const bool l16 = it->second == Codec::l16;
  return gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "payload", G_TYPE_INT, payload_type,
                             "clock-rate", G_TYPE_INT, l16 ? int(l16_rate_) : 8000, "encoding-name", G_TYPE_STRING,
                             encoding_name(it->second), "channels", G_TYPE_INT, 1, nullptr);
}

void Receiver::decode_pad(GstPad* pad) {
  GstCaps* caps = gst_pad_get_current_caps(pad);
  int payload_type = -1;
  if (caps) {
    gst_structure_get_int(gst_caps_get_structure(caps, 0), "payload", &payload_type);
    gst_caps_unref(caps);
  }
  Codec codec;
  {
    std::lock_guard<std::mutex> lock(config_m_);
    auto it = codecs_.find(payload_type);
    if (it == codecs_.end() || stopped_) return;
    codec = it->second;
  }
  if (codec == Codec::telephone_event) {
    // Events are read from the packets themselves (and dropped).
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &Gst::event_packet, this, nullptr);
    return;
  }
  const std::string description = std::string(depayload_chain(codec)) +
                                  " ! audioconvert ! audioresample ! audio/x-raw,format=F32LE,layout=interleaved,"
                                  "channels=1,rate=" +
                                  std::to_string(format_.sample_rate) + " ! appsink name=sink sync=false";
  GstElement* branch = gst_parse_bin_from_description(description.c_str(), TRUE, nullptr);
  if (!branch) return;
  GstElement* sink = gst_bin_get_by_name(GST_BIN(branch), "sink");
  GstAppSinkCallbacks callbacks{};
  callbacks.new_sample = &Gst::new_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &callbacks, this, nullptr);
  GstPad* sink_pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &Gst::gap, this, nullptr);
  gst_object_unref(sink_pad);
  gst_object_unref(sink);
  gst_bin_add(GST_BIN(pipeline_), branch);
  gst_element_sync_state_with_parent(branch);
  GstPad* in = gst_element_get_static_pad(branch, "sink");
  gst_pad_link(pad, in);
  gst_object_unref(in);
}

void Receiver::queue_samples(const float* samples, std::size_t n) {
  std::lock_guard<std::mutex> lock(producer_m_);
  const std::size_t written = ring_.write(samples, n);
  received_.fetch_add(written, std::memory_order_relaxed);
  if (written < n) dropped_.fetch_add(n - written, std::memory_order_relaxed);
}

void Receiver::queue_missing(std::size_t n) {
  std::lock_guard<std::mutex> lock(producer_m_);
  lost_.fetch_add(n, std::memory_order_relaxed);
  for (std::size_t left = n; left > 0;) {
    const std::size_t chunk = std::min(left, missing_.size());
    const std::size_t written = ring_.write(missing_.data(), chunk);
    if (written < chunk) {
      dropped_.fetch_add(left - written, std::memory_order_relaxed);
      return;
    }
    left -= chunk;
  }
}

void Receiver::pull(float* frame, std::size_t n) {
  const std::size_t start = start_samples_.load(std::memory_order_relaxed);
  const std::size_t most = std::max(max_samples_.load(std::memory_order_relaxed), start + n);
  std::size_t queued = ring_.size();
  if (!playing_) {
    if (queued < n + start) {
      if (ever_played_) {  // after a shortfall: missing until the buffer has refilled
        concealed_.fetch_add(1, std::memory_order_relaxed);
        std::fill(frame, frame + n, kMissing);
      } else {  // before the first packet: silence
        std::fill(frame, frame + n, 0.0f);
      }
      return;
    }
    playing_ = ever_played_ = true;
  }
  if (queued > n + most) {
    // Too much queued (the sender's clock is fast, or a burst after a
    // stall): drop the oldest, back to the initial delay.
    const std::size_t drop = queued - (n + start);
    for (std::size_t left = drop; left > 0;) left -= ring_.read(scratch_.data(), std::min(left, scratch_.size()));
    dropped_.fetch_add(drop, std::memory_order_relaxed);
  }
  const std::size_t got = ring_.read(frame, n);
  if (got < n) {
    playing_ = false;
    concealed_.fetch_add(1, std::memory_order_relaxed);
    std::fill(frame + got, frame + n, kMissing);
  }
}

RxStats Receiver::stats() const {
  RxStats s;
  s.samples_received = received_.load(std::memory_order_relaxed);
  s.samples_lost = lost_.load(std::memory_order_relaxed);
  s.frames_concealed = concealed_.load(std::memory_order_relaxed);
  s.samples_dropped = dropped_.load(std::memory_order_relaxed);
  s.rtcp_packets = rtcp_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace prosody::vmp
