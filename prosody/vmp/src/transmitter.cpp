// transmitter.cpp - VMP[tx] (vmp.hpp): the module's frames out through an
// encoder, a payloader and rtpbin to udpsink.
#include <arpa/inet.h>
#include <gst/app/gstappsrc.h>

#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "prosody/smerror.h"
#include "prosodytsan.h"
#include "vmp.hpp"

namespace prosody::vmp {

namespace {

// A detected digit is sent as one event of at most this long (RFC 4733's
// 16-bit duration: 8 s at 8 kHz; longer ones would need segments).
constexpr std::uint32_t kLongestDetectedEvent = 0xFFFF;

// RTCP sender reports about once a second (RFC 3550's 5 s minimum is for
// large sessions; this is a point-to-point link).
constexpr GstClockTime kRtcpInterval = GST_SECOND;

// "bind-address=... bind-port=..." for a source address (empty for any).
std::string bind_of(const UdpAddress& a) {
  std::string s;
  if (!a.ip.any()) s += " bind-address=" + a.ip.text();
  if (a.port != 0) s += " bind-port=" + std::to_string(a.port);
  return s;
}

std::string sink_to(const UdpAddress& destination, const UdpAddress& source) {
  return " ! udpsink sync=false async=false host=" + destination.ip.text() +
         " port=" + std::to_string(destination.port) + bind_of(source);
}

}  // namespace

// The GStreamer callbacks, with the transmitter as user data (streaming
// thread; a rebuild or stop ends them).
struct Transmitter::Gst {
  static GstPadProbeReturn outgoing(GstPad*, GstPadProbeInfo* info, gpointer self) {
    ProsodyTsanScope tsan(self);
    GST_PAD_PROBE_INFO_DATA(info) = static_cast<Transmitter*>(self)->outgoing(GST_PAD_PROBE_INFO_BUFFER(info));
    return GST_PAD_PROBE_OK;
  }
};

Transmitter::Transmitter(const endpoint::ModuleFormat& format) : format_(format) {}

Transmitter::~Transmitter() { stop(); }

int Transmitter::configure(const TxAddresses& addresses) {
  if (addresses.destination_rtp.port == 0 || addresses.destination_rtp.ip.any()) return ERR_SM_BAD_PARAMETER;
  std::lock_guard<std::mutex> lock(config_m_);
  if (stopped_) return ERR_SM_WRONG_CHANNEL_STATE;
  const TxAddresses previous = addresses_;
  const bool was_configured = configured_;
  addresses_ = addresses;
  if (addresses_.destination_rtcp.port == 0) {
    addresses_.destination_rtcp.ip = addresses.destination_rtp.ip;
    addresses_.destination_rtcp.port = addresses.destination_rtp.port + 1;
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

unsigned Transmitter::rtp_rate() const { return codec_ == Codec::l16 ? l16_rate_ : 8000; }

int Transmitter::rebuild() {
  GstElement* old = pipeline_;
  GstElement* pipeline = nullptr;
  GstElement* appsrc = nullptr;
  if (configured_ && has_codec_) {
    const char* encode = codec_ == Codec::alaw    ? "format=S16LE ! alawenc ! rtppcmapay"
                         : codec_ == Codec::mulaw ? "format=S16LE ! mulawenc ! rtppcmupay"
                                                  : "format=S16BE ! rtpL16pay";
    const std::string ptime = std::to_string(GstClockTime(ptime_ms_) * GST_MSECOND);
    const std::string description =
        "appsrc name=src format=time is-live=true max-bytes=" + std::to_string(format_.sample_rate * 4) +
        " leaky-type=downstream caps=audio/x-raw,format=F32LE,layout=interleaved,channels=1,rate=" +
        std::to_string(format_.sample_rate) +
        " ! audioresample ! audioconvert ! audio/x-raw,channels=1,rate=" + std::to_string(rtp_rate()) + "," + encode +
        " name=pay pt=" + std::to_string(payload_type_) + " min-ptime=" + ptime + " max-ptime=" + ptime +
        " ! rtpbin.send_rtp_sink_0 rtpbin name=rtpbin rtpbin.send_rtp_src_0" +
        sink_to(addresses_.destination_rtp, addresses_.source_rtp) + " rtpbin.send_rtcp_src_0" +
        sink_to(addresses_.destination_rtcp, addresses_.source_rtcp);
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
    GstElement* payloader = gst_bin_get_by_name(GST_BIN(pipeline), "pay");
    GstPad* out = gst_element_get_static_pad(payloader, "src");
    gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, &Gst::outgoing, this, nullptr);
    gst_object_unref(out);
    gst_object_unref(payloader);
    {
      std::lock_guard<std::mutex> lock(events_m_);
      bytes_per_sample_ = codec_ == Codec::l16 ? 2 : 1;
      // A new RTP stream (another SSRC and clock): a sequence under way
      // cannot go on in it.
      if (sequencer_.new_stream() && !sending_detected_) {
        TxStatus s;
        s.kind = TxStatus::tone_completed;
        statuses_.push(s);
      }
      sending_detected_ = false;
    }
    PROSODY_TSAN_RELEASE(this);
    if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      // A source port in use (udpsink could not bind it).
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
      return ERR_SM_NO_RESOURCES;
    }
    appsrc = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  }
  {
    std::lock_guard<std::mutex> lock(send_m_);
    if (appsrc_) gst_object_unref(appsrc_);
    appsrc_ = appsrc;
  }
  pipeline_ = pipeline;
  teardown(old);
  return 0;
}

void Transmitter::teardown(GstElement* pipeline) {
  if (!pipeline) return;
  gst_element_set_state(pipeline, GST_STATE_NULL);  // joins its streaming threads
  PROSODY_TSAN_ACQUIRE(this);
  gst_object_unref(pipeline);
}

int Transmitter::stop() {
  std::lock_guard<std::mutex> lock(config_m_);
  if (stopped_) return ERR_SM_WRONG_CHANNEL_STATE;
  stopped_ = true;
  configured_ = false;
  rebuild();
  TxStatus s;
  s.kind = TxStatus::stopped;
  statuses_.push(s, true);
  return 0;
}

bool Transmitter::stopped() const {
  std::lock_guard<std::mutex> lock(config_m_);
  return stopped_;
}

void Transmitter::push(const float* frame, std::size_t n) {
  if (frame) frame = detect_tones(frame, n);
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

int Transmitter::set_event_payload_type(int payload_type) {
  if (payload_type < -1 || payload_type > 127) return ERR_SM_BAD_PARAMETER;
  std::lock_guard<std::mutex> lock(config_m_);
  if (stopped_) return ERR_SM_WRONG_CHANNEL_STATE;
  std::lock_guard<std::mutex> events(events_m_);
  event_payload_type_ = payload_type;
  return 0;
}

int Transmitter::generate_events(const std::vector<int>& codes, int duration_ms, int interval_ms, int volume) {
  if (codes.empty() || duration_ms <= 0 || duration_ms % 10 != 0 || interval_ms < 0 || interval_ms % 10 != 0 ||
      volume < -15 || volume > 0)
    return ERR_SM_BAD_PARAMETER;
  for (int code : codes)
    if (code < 0 || code > 255) return ERR_SM_BAD_PARAMETER;
  std::lock_guard<std::mutex> lock(config_m_);
  if (stopped_ || !has_codec_) return ERR_SM_WRONG_CHANNEL_STATE;
  const unsigned rate = rtp_rate();
  std::lock_guard<std::mutex> events(events_m_);
  if (event_payload_type_ < 0 || sequencer_.busy()) return ERR_SM_WRONG_CHANNEL_STATE;
  // Durations in the RTP clock of the audio they share a stream with.
  sequencer_.start(codes, std::uint32_t(duration_ms) * rate / 1000, std::uint32_t(interval_ms) * rate / 1000, volume);
  return 0;
}

int Transmitter::abort_events() {
  std::lock_guard<std::mutex> events(events_m_);
  if (!sequencer_.busy() || sending_detected_) return ERR_SM_WRONG_CHANNEL_STATE;
  if (sequencer_.abort()) {
    TxStatus s;
    s.kind = TxStatus::tone_completed;
    statuses_.push(s);
  }
  return 0;
}

GstBuffer* Transmitter::outgoing(GstBuffer* buffer) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return buffer;
  const std::uint32_t ssrc = gst_rtp_buffer_get_ssrc(&rtp);
  const std::uint32_t timestamp = gst_rtp_buffer_get_timestamp(&rtp);
  const std::uint16_t seq = gst_rtp_buffer_get_seq(&rtp);
  const std::uint32_t bytes = gst_rtp_buffer_get_payload_len(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  std::lock_guard<std::mutex> lock(events_m_);
  if (!ssrc_known_ || ssrc != ssrc_) {  // a configuration's first packet
    ssrc_known_ = true;
    ssrc_ = ssrc;
    TxStatus s;
    s.kind = TxStatus::got_ssrc;
    s.ssrc = ssrc;
    statuses_.push(s);
  }
  if (event_payload_type_ < 0 || !sequencer_.busy()) return buffer;
  const std::uint32_t samples = bytes / bytes_per_sample_;
  EventPacket packet;
  const EventStep step = sequencer_.next(timestamp, samples, packet);
  if (sending_detected_) {  // not a generate_tones sequence: no statuses
    sending_detected_ = !step.completed;
  } else if (step.started || step.completed) {
    TxStatus s;
    s.kind = step.started ? TxStatus::tone_ongoing : TxStatus::tone_completed;
    statuses_.push(s);
    if (step.started && step.completed) {
      s.kind = TxStatus::tone_completed;
      statuses_.push(s);
    }
  }
  if (!step.replaced) return buffer;
  // The event packet, in the audio packet's place in the stream.
  GstBuffer* event = gst_rtp_buffer_new_allocate(sizeof packet.payload, 0, 0);
  if (gst_rtp_buffer_map(event, GST_MAP_WRITE, &rtp)) {
    gst_rtp_buffer_set_ssrc(&rtp, ssrc);
    gst_rtp_buffer_set_seq(&rtp, seq);
    gst_rtp_buffer_set_timestamp(&rtp, packet.timestamp);
    gst_rtp_buffer_set_payload_type(&rtp, static_cast<guint8>(event_payload_type_));
    gst_rtp_buffer_set_marker(&rtp, packet.marker);
    std::memcpy(gst_rtp_buffer_get_payload(&rtp), packet.payload, sizeof packet.payload);
    gst_rtp_buffer_unmap(&rtp);
  }
  gst_buffer_copy_into(event, buffer, GST_BUFFER_COPY_TIMESTAMPS, 0, static_cast<gsize>(-1));
  gst_buffer_unref(buffer);
  return event;
}

int Transmitter::configure_tones(const TxTones& tones) {
  std::unique_ptr<ToneSuppressor> detector;
  if (tones.convert || tones.eliminate) {
    ListenSettings settings;
    settings.enabled = true;
    settings.report = ToneReport::start_and_end;
    settings.min_duration = tones.min_40ms ? ToneMinDuration::ms40 : ToneMinDuration::none;
    settings.suppress = tones.eliminate;
    detector = std::make_unique<ToneSuppressor>(format_.sample_rate, settings);
  }
  {
    std::lock_guard<std::mutex> lock(config_m_);
    if (stopped_) return ERR_SM_WRONG_CHANNEL_STATE;
  }
  {
    std::lock_guard<std::mutex> events(events_m_);
    if (tones.convert && event_payload_type_ < 0) return ERR_SM_WRONG_CHANNEL_STATE;
    if (sending_detected_ && sequencer_.abort()) sending_detected_ = false;  // a digit under way ends
  }
  std::lock_guard<std::mutex> lock(detect_m_);
  tones_ = tones;
  detector_.swap(detector);  // the old one goes after the lock
  eliminated_.assign(format_.frame_samples, 0.0f);
  return 0;
}

const float* Transmitter::detect_tones(const float* frame, std::size_t n) {
  std::lock_guard<std::mutex> lock(detect_m_);
  if (!detector_) return frame;
  found_.clear();
  if (eliminated_.size() < n) eliminated_.resize(n);
  detector_->process(frame, eliminated_.data(), n, found_);
  if (tones_.convert)
    for (const ToneEvent& tone : found_) convert(tone);
  return tones_.eliminate ? eliminated_.data() : frame;
}

void Transmitter::convert(const ToneEvent& tone) {
  const int number = tone.type == RecognitionType::digit ? dtmf_char_to_number(static_cast<char>(tone.code)) : -1;
  const int code = number >= 0 && tones_.codes ? (*tones_.codes)[std::size_t(number)] : -1;
  if (code < 0) return;
  std::lock_guard<std::mutex> lock(events_m_);
  if (!tone.is_end) {
    // A generate_tones sequence has the stream: the digit is not sent.
    if (sequencer_.busy() || event_payload_type_ < 0) return;
    const int volume = std::clamp(static_cast<int>(std::lround(tone.level_dbm0)), -63, 0);
    sequencer_.start({code}, kLongestDetectedEvent, 0, volume);
    sending_detected_ = true;
  } else if (sending_detected_ && sequencer_.abort()) {
    sending_detected_ = false;  // ended before its first packet went
  }
}

TxStats Transmitter::stats() const {
  TxStats s;
  s.frames_sent = sent_.load(std::memory_order_relaxed);
  s.frames_skipped = skipped_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace prosody::vmp
