// transmitter.cpp - VMP[tx] (vmp.hpp): the module's frames out through an
// encoder, a payloader and rtpbin to udpsink.
#include <arpa/inet.h>
#include <gst/app/gstappsrc.h>

#include <cstring>
#include <string>

#include "prosody/smerror.h"
#include "vmp.hpp"

namespace prosody::vmp {

namespace {

// RTCP sender reports about once a second (RFC 3550's 5 s minimum is for
// large sessions; this is a point-to-point link).
constexpr GstClockTime kRtcpInterval = GST_SECOND;

std::string host_of(const sockaddr_in& a) {
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
  return text;
}

int port_of(const sockaddr_in& a) { return ntohs(a.sin_port); }

// "bind-address=... bind-port=..." for a source address (empty for any).
std::string bind_of(const sockaddr_in& a) {
  std::string s;
  if (a.sin_addr.s_addr != htonl(INADDR_ANY)) s += " bind-address=" + host_of(a);
  if (a.sin_port != 0) s += " bind-port=" + std::to_string(port_of(a));
  return s;
}

}  // namespace

Transmitter::Transmitter(const endpoint::ModuleFormat& format) : format_(format) {}

Transmitter::~Transmitter() { stop(); }

int Transmitter::configure(const TxAddresses& addresses) {
  if (addresses.destination_rtp.sin_port == 0 || addresses.destination_rtp.sin_addr.s_addr == htonl(INADDR_ANY))
    return ERR_SM_BAD_PARAMETER;
  std::lock_guard<std::mutex> lock(config_m_);
  if (stopped_) return ERR_SM_WRONG_CHANNEL_STATE;
  const TxAddresses previous = addresses_;
  const bool was_configured = configured_;
  addresses_ = addresses;
  if (addresses_.destination_rtcp.sin_port == 0) {
    addresses_.destination_rtcp.sin_addr = addresses.destination_rtp.sin_addr;
    addresses_.destination_rtcp.sin_port = htons(static_cast<std::uint16_t>(port_of(addresses.destination_rtp) + 1));
  }
  configured_ = true;
  const int e = rebuild();
  if (e) {  // the endpoint keeps sending as it was
    addresses_ = previous;
    configured_ = was_configured;
    rebuild();
  }
  return e;
}

int Transmitter::set_codec(Codec codec, int payload_type, int ptime_ms) {
  if (payload_type < -1 || payload_type > 127) return ERR_SM_BAD_PARAMETER;
  if (payload_type >= 0 && (ptime_ms <= 0 || ptime_ms % 10 != 0 || ptime_ms > 200)) return ERR_SM_BAD_PARAMETER;
  std::lock_guard<std::mutex> lock(config_m_);
  if (stopped_) return ERR_SM_WRONG_CHANNEL_STATE;
  if (payload_type < 0) {
    if (!has_codec_ || codec_ != codec) return ERR_SM_BAD_PARAMETER;  // not the current codec
    has_codec_ = false;
  } else {
    has_codec_ = true;
    codec_ = codec;
    payload_type_ = payload_type;
    ptime_ms_ = ptime_ms;
  }
  return rebuild();
}

int Transmitter::set_l16_rate(unsigned rate) {
  if (!valid_l16_rate(rate)) return ERR_SM_BAD_PARAMETER;
  std::lock_guard<std::mutex> lock(config_m_);
  if (stopped_) return ERR_SM_WRONG_CHANNEL_STATE;
  l16_rate_ = rate;
  return rebuild();
}

int Transmitter::rebuild() {
  GstElement* old = pipeline_;
  GstElement* pipeline = nullptr;
  GstElement* appsrc = nullptr;
  GstElement* payloader = nullptr;
  if (configured_ && has_codec_) {
    const unsigned rtp_rate = codec_ == Codec::l16 ? l16_rate_ : 8000;
    const char* encode = codec_ == Codec::alaw    ? "format=S16LE ! alawenc ! rtppcmapay"
                         : codec_ == Codec::mulaw ? "format=S16LE ! mulawenc ! rtppcmupay"
                                                  : "format=S16BE ! rtpL16pay";
    const std::string ptime = std::to_string(GstClockTime(ptime_ms_) * GST_MSECOND);
    const std::string description =
        "appsrc name=src format=time is-live=true max-bytes=" + std::to_string(format_.sample_rate * 4) +
        " leaky-type=downstream caps=audio/x-raw,format=F32LE,layout=interleaved,channels=1,rate=" +
        std::to_string(format_.sample_rate) +
        " ! audioresample ! audioconvert ! audio/x-raw,channels=1,rate=" + std::to_string(rtp_rate) + "," + encode +
        " name=pay pt=" + std::to_string(payload_type_) + " min-ptime=" + ptime + " max-ptime=" + ptime +
        " ! rtpbin.send_rtp_sink_0 rtpbin name=rtpbin rtpbin.send_rtp_src_0 ! udpsink sync=false async=false host=" +
        host_of(addresses_.destination_rtp) + " port=" + std::to_string(port_of(addresses_.destination_rtp)) +
        bind_of(addresses_.source_rtp) +
        " rtpbin.send_rtcp_src_0 ! udpsink sync=false async=false host=" + host_of(addresses_.destination_rtcp) +
        " port=" + std::to_string(port_of(addresses_.destination_rtcp)) + bind_of(addresses_.source_rtcp);
    GError* error = nullptr;
    pipeline = gst_parse_launch(description.c_str(), &error);
    g_clear_error(&error);
    if (!pipeline) return ERR_SM_NO_RESOURCES;
    GstElement* rtpbin = gst_bin_get_by_name(GST_BIN(pipeline), "rtpbin");
    GObject* session = nullptr;
    g_signal_emit_by_name(rtpbin, "get-internal-session", 0u, &session);
    if (session) {
      g_object_set(session, "rtcp-min-interval", guint64(kRtcpInterval), nullptr);
      g_object_unref(session);
    }
    gst_object_unref(rtpbin);
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      // A source port in use (udpsink could not bind it).
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
      return ERR_SM_NO_RESOURCES;
    }
    appsrc = gst_bin_get_by_name(GST_BIN(pipeline), "src");
    payloader = gst_bin_get_by_name(GST_BIN(pipeline), "pay");
  }
  {
    std::lock_guard<std::mutex> lock(send_m_);
    if (appsrc_) gst_object_unref(appsrc_);
    if (payloader_) gst_object_unref(payloader_);
    appsrc_ = appsrc;
    payloader_ = payloader;
  }
  pipeline_ = pipeline;
  teardown(old);
  return 0;
}

void Transmitter::teardown(GstElement* pipeline) {
  if (!pipeline) return;
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

int Transmitter::stop() {
  std::lock_guard<std::mutex> lock(config_m_);
  if (stopped_) return ERR_SM_WRONG_CHANNEL_STATE;
  stopped_ = true;
  configured_ = false;
  rebuild();
  return 0;
}

bool Transmitter::stopped() const {
  std::lock_guard<std::mutex> lock(config_m_);
  return stopped_;
}

void Transmitter::push(const float* frame, std::size_t n) {
  std::unique_lock<std::mutex> lock(send_m_, std::try_to_lock);
  if (!lock || !appsrc_ || !frame) {
    // No RTP until a datafeed is connected (as the reference has it); the
    // RTP clock runs on, so the receiver sees the gap.
    if (lock) samples_pushed_ += n;
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, n * sizeof(float), nullptr);
  gst_buffer_fill(buffer, 0, frame, n * sizeof(float));
  GST_BUFFER_PTS(buffer) = gst_util_uint64_scale(samples_pushed_, GST_SECOND, format_.sample_rate);
  GST_BUFFER_DURATION(buffer) = gst_util_uint64_scale(n, GST_SECOND, format_.sample_rate);
  samples_pushed_ += n;
  gst_app_src_push_buffer(GST_APP_SRC(appsrc_), buffer);
  sent_.fetch_add(1, std::memory_order_relaxed);
}

std::uint32_t Transmitter::ssrc() const {
  GstElement* payloader = nullptr;
  {
    std::lock_guard<std::mutex> lock(send_m_);
    if (payloader_) payloader = GST_ELEMENT(gst_object_ref(payloader_));
  }
  if (!payloader) return 0;
  GstStructure* stats = nullptr;
  g_object_get(payloader, "stats", &stats, nullptr);
  guint ssrc = 0;
  if (stats) {
    gst_structure_get_uint(stats, "ssrc", &ssrc);
    gst_structure_free(stats);
  }
  gst_object_unref(payloader);
  return ssrc;
}

TxStats Transmitter::stats() const {
  TxStats s;
  s.frames_sent = sent_.load(std::memory_order_relaxed);
  s.frames_skipped = skipped_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace prosody::vmp
