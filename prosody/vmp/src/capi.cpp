// capi.cpp - the C API of the RTP endpoints (smrtp.h, prosody_vmp.h): the
// endpoints by handle, on their modules through the external-endpoint hook.
// A handle is the endpoint's id on its module (for a VMP[rx], also its
// datafeed).
#include <arpa/inet.h>

#include <cstring>
#include <map>
#include <mutex>

#include "capi/capi.hpp"
#include "prosody/prosody_vmp.h"
#include "prosody/smerror.h"
#include "prosody/smrtp.h"
#include "vmp.hpp"

using namespace prosody;
using prosody::capi::enum_value;

namespace {

template <class Endpoint>
class Registry {
 public:
  void add(std::uintptr_t id, std::shared_ptr<Endpoint> e) {
    std::lock_guard<std::mutex> lock(m_);
    endpoints_[id].endpoint = std::move(e);
  }
  std::shared_ptr<Endpoint> find(const void* handle) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = endpoints_.find(reinterpret_cast<std::uintptr_t>(handle));
    return it == endpoints_.end() ? nullptr : it->second.endpoint;
  }
  // The endpoint's event as a tSMEventId, made at the first call.
  int event(const void* handle, tSMEventId& out) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = endpoints_.find(reinterpret_cast<std::uintptr_t>(handle));
    if (it == endpoints_.end()) return ERR_SM_BAD_PARAMETER;
    Entry& entry = it->second;
    if (!entry.has_event) {
      if (int e = capi::make_owned_event(entry.endpoint->event(), entry.event)) return e;
      entry.has_event = true;
    }
    out = entry.event;
    return 0;
  }
  // Removes the endpoint (and frees its event).
  std::shared_ptr<Endpoint> take(const void* handle) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = endpoints_.find(reinterpret_cast<std::uintptr_t>(handle));
    if (it == endpoints_.end()) return nullptr;
    auto e = std::move(it->second.endpoint);
    if (it->second.has_event) capi::free_owned_event(it->second.event);
    endpoints_.erase(it);
    return e;
  }

 private:
  struct Entry {
    std::shared_ptr<Endpoint> endpoint;
    bool has_event = false;
    tSMEventId event{};
  };
  std::mutex m_;
  std::map<std::uintptr_t, Entry> endpoints_;
};

Registry<vmp::Receiver>& receivers() {
  static Registry<vmp::Receiver> r;
  return r;
}
Registry<vmp::Transmitter>& transmitters() {
  static Registry<vmp::Transmitter> r;
  return r;
}

int rx_codec(tSMVMPrxId vmprx, vmp::Codec codec, int payload_type) {
  auto rx = receivers().find(vmprx);
  return rx ? rx->set_codec(codec, payload_type) : ERR_SM_BAD_PARAMETER;
}

int tx_codec(tSMVMPtxId vmptx, vmp::Codec codec, int payload_type, int vad_mode, int ptime) {
  auto tx = transmitters().find(vmptx);
  if (!tx) return ERR_SM_BAD_PARAMETER;
  if (vad_mode != kSMVMPTxVADModeDisabled) return ERR_SM_BAD_PARAMETER;  // no silence suppression here
  return tx->set_codec(codec, payload_type, ptime);
}

// The generic calls' codecs: G.711 only (as the reference's kSMCodecType
// has no L16; the others are not provided).
bool g711_codec(int codec, vmp::Codec& out) {
  if (codec == kSMCodecTypeAlaw)
    out = vmp::Codec::alaw;
  else if (codec == kSMCodecTypeMulaw)
    out = vmp::Codec::mulaw;
  else
    return false;
  return true;
}

vmp::IpAddress ipv4(const in_addr& a) {
  vmp::IpAddress ip;
  std::memcpy(ip.bytes, &a, sizeof a);
  return ip;
}

vmp::IpAddress ipv6(const in6_addr& a) {
  vmp::IpAddress ip;
  ip.ipv6 = true;
  std::memcpy(ip.bytes, &a, sizeof a);
  return ip;
}

vmp::UdpAddress udp(const sockaddr_in& a) { return {ipv4(a.sin_addr), ntohs(a.sin_port)}; }
vmp::UdpAddress udp(const sockaddr_in6& a) { return {ipv6(a.sin6_addr), ntohs(a.sin6_port)}; }

// DTMF: the row (low) and column (high) frequencies, and the RFC 4733
// number of each key by row and column.
constexpr double kDtmfRows[4] = {697, 770, 852, 941};
constexpr double kDtmfColumns[4] = {1209, 1336, 1477, 1633};
constexpr int kDtmfKeys[4][4] = {{1, 2, 3, 12}, {4, 5, 6, 13}, {7, 8, 9, 14}, {10, 0, 11, 15}};

// The default tone set: each DTMF pair (nominal frequency +-1.5 %, Q.24's
// acceptance band) sent as its RFC 4733 code. Its detection thresholds,
// as Aculab's default set gives them, are not used here.
tSMVMPTxTone default_tones[16];
tSMVMPTxToneSet default_tone_set = [] {
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c)
      default_tones[4 * r + c] = {kDtmfRows[r] * 0.985, kDtmfRows[r] * 1.015, kDtmfColumns[c] * 0.985,
                                  kDtmfColumns[c] * 1.015, kDtmfKeys[r][c]};
  return tSMVMPTxToneSet{-36.0, 10.0, 0.079432823, 0.755573455, 16, default_tones};
}();

// The one frequency of set in [low, high]; -1 if none or several.
int only_index_in(const double (&set)[4], double low, double high) {
  int found = -1;
  for (int i = 0; i < 4; ++i) {
    if (set[i] < low || set[i] > high) continue;
    if (found >= 0) return -1;
    found = i;
  }
  return found;
}

// A tone set as the codes its DTMF keys are sent as. ERR_SM_BAD_PARAMETER
// for a malformed set, ERR_SM_NOT_IMPLEMENTED for a tone that is not one
// DTMF pair (only DTMF is detected here).
int digit_codes_of(const tSMVMPTxToneSet* set, vmp::DigitCodes& codes) {
  if (!set || set->number_of_tones < 1 || !set->tones) return ERR_SM_BAD_PARAMETER;
  codes.fill(-1);
  for (int i = 0; i < set->number_of_tones; ++i) {
    const tSMVMPTxTone& tone = set->tones[i];
    if (tone.id < 0 || tone.id > 255) return ERR_SM_BAD_PARAMETER;
    const int row = only_index_in(kDtmfRows, tone.f1_min, tone.f1_max);
    const int column = only_index_in(kDtmfColumns, tone.f2_min, tone.f2_max);
    if (row < 0 || column < 0) return ERR_SM_NOT_IMPLEMENTED;
    codes[std::size_t(kDtmfKeys[row][column])] = tone.id;
  }
  return 0;
}

// The tone sets made by sm_vmptx_create_toneset, by handle. A VMP[tx]
// holds its own reference, so destroying a set in use is safe.
class ToneSets {
 public:
  tSMVMPTxToneSetId add(std::shared_ptr<const vmp::DigitCodes> codes) {
    std::lock_guard<std::mutex> lock(m_);
    const std::uintptr_t id = ++last_;
    sets_[id] = std::move(codes);
    return reinterpret_cast<tSMVMPTxToneSetId>(id);
  }
  std::shared_ptr<const vmp::DigitCodes> find(tSMVMPTxToneSetId handle) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = sets_.find(reinterpret_cast<std::uintptr_t>(handle));
    return it == sets_.end() ? nullptr : it->second;
  }
  bool remove(tSMVMPTxToneSetId handle) {
    std::lock_guard<std::mutex> lock(m_);
    return sets_.erase(reinterpret_cast<std::uintptr_t>(handle)) == 1;
  }

 private:
  std::mutex m_;
  std::uintptr_t last_ = 0;
  std::map<std::uintptr_t, std::shared_ptr<const vmp::DigitCodes>> sets_;
};

ToneSets& tone_sets() {
  static ToneSets sets;
  return sets;
}

template <class Parms>
int tx_config(const Parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  if (!tx) return ERR_SM_BAD_PARAMETER;
  vmp::TxAddresses a;
  a.destination_rtp = udp(p->destination_rtp);
  a.source_rtp = udp(p->source_rtp);
  a.destination_rtcp = udp(p->destination_rtcp);
  a.source_rtcp = udp(p->source_rtcp);
  return tx->configure(a);
}

}  // namespace

extern "C" {

tSMVMPTxToneSet* kSMVMPTxDefaultToneSet = &default_tone_set;

int sm_vmprx_create(struct sm_vmprx_create_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  p->vmprx = kSMNullVMPrxId;
  endpoint::ModuleFormat format;
  if (int e = endpoint::module_format(p->module, format)) return e;
  const int type = enum_value(p->type);
  if ((type != kSMVMPrxTypeIPv4 && type != kSMVMPrxTypeIPv6) || p->mux_rtcp != 0) return ERR_SM_BAD_PARAMETER;
  std::shared_ptr<vmp::Receiver> rx;
  if (int e = vmp::Receiver::create(format, type == kSMVMPrxTypeIPv6 ? ipv6(p->ipv6_address) : ipv4(p->address), rx))
    return e;
  tSMDatafeedId id;
  if (int e = endpoint::add_source(p->module, rx, id)) return e;
  receivers().add(reinterpret_cast<std::uintptr_t>(id), rx);
  p->vmprx = reinterpret_cast<tSMVMPrxId>(id);
  return 0;
}

int sm_vmprx_destroy(tSMVMPrxId vmprx) {
  if (!vmprx) return 0;
  auto rx = receivers().take(vmprx);
  if (!rx) return ERR_SM_BAD_PARAMETER;
  endpoint::remove(reinterpret_cast<std::uintptr_t>(vmprx));  // fails only if its module has closed
  rx->stop();
  return 0;
}

int sm_vmprx_stop(struct sm_vmprx_stop_parms* p) {
  auto rx = p ? receivers().find(p->vmprx) : nullptr;
  return rx ? rx->stop() : ERR_SM_BAD_PARAMETER;
}

int sm_vmprx_get_datafeed(struct sm_vmprx_datafeed_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  p->datafeed = kSMNullDatafeedId;
  if (!receivers().find(p->vmprx)) return ERR_SM_BAD_PARAMETER;
  p->datafeed = reinterpret_cast<tSMDatafeedId>(p->vmprx);
  return 0;
}

int sm_vmprx_get_ports(struct sm_vmprx_port_parms* p) {
  auto rx = p ? receivers().find(p->vmprx) : nullptr;
  if (!rx) return ERR_SM_BAD_PARAMETER;
  p->RTP_port = rx->rtp_port();
  p->RTCP_port = rx->rtcp_port();
  const vmp::IpAddress& local = rx->address();
  std::memset(&p->ipv6_address, 0, sizeof p->ipv6_address);
  if (local.ipv6) {
    p->address.s_addr = INADDR_NONE;  // as Aculab's library: 255.255.255.255
    std::memcpy(&p->ipv6_address, local.bytes, sizeof p->ipv6_address);
  } else {
    std::memcpy(&p->address, local.bytes, sizeof p->address);
  }
  return 0;
}

int sm_vmprx_get_event(struct sm_vmprx_event_parms* p) {
  return p ? receivers().event(p->vmprx, p->event) : ERR_SM_BAD_PARAMETER;
}

int sm_vmprx_status(struct sm_vmprx_status_parms* p) {
  auto rx = p ? receivers().find(p->vmprx) : nullptr;
  if (!rx) return ERR_SM_BAD_PARAMETER;
  std::memset(&p->u, 0, sizeof p->u);
  vmp::RxStatus s;
  if (!rx->next_status(s)) {
    if (rx->stopped()) return ERR_SM_WRONG_CHANNEL_STATE;  // Stopped has been reported
    p->status = kSMVMPrxStatusRunning;
    p->u.run.no_data = rx->stats().samples_received == 0;
    return 0;
  }
  const vmp::IpAddress& local = rx->address();
  switch (s.kind) {
    case vmp::RxStatus::got_ports:
      if (local.ipv6) {
        p->status = kSMVMPrxStatusGotPortsIPv6;
        p->u.ports_ipv6.RTP_Port = rx->rtp_port();
        p->u.ports_ipv6.RTCP_Port = rx->rtcp_port();
        std::memcpy(&p->u.ports_ipv6.address, local.bytes, sizeof p->u.ports_ipv6.address);
      } else {
        p->status = kSMVMPrxStatusGotPorts;
        p->u.ports.RTP_Port = rx->rtp_port();
        p->u.ports.RTCP_Port = rx->rtcp_port();
        std::memcpy(&p->u.ports.address, local.bytes, sizeof p->u.ports.address);
      }
      break;
    case vmp::RxStatus::new_ssrc:
      // The sender's address and port (host order, as the ports); 0 if not
      // known.
      if (local.ipv6) {
        p->status = kSMVMPrxStatusNewSSRCIPv6;
        p->u.ssrc_ipv6.ssrc = static_cast<int>(s.ssrc);
        p->u.ssrc_ipv6.port = s.from_port;
        if (s.from.ipv6) std::memcpy(&p->u.ssrc_ipv6.address, s.from.bytes, sizeof p->u.ssrc_ipv6.address);
      } else {
        p->status = kSMVMPrxStatusNewSSRC;
        p->u.ssrc.ssrc = static_cast<int>(s.ssrc);
        p->u.ssrc.port = s.from_port;
        if (!s.from.ipv6) std::memcpy(&p->u.ssrc.address, s.from.bytes, sizeof p->u.ssrc.address);
      }
      break;
    case vmp::RxStatus::stopped:
      p->status = kSMVMPrxStatusStopped;
      break;
    case vmp::RxStatus::tone_started:
    case vmp::RxStatus::tone_ended:
      p->status = s.kind == vmp::RxStatus::tone_started ? kSMVMPrxStatusDetectTone : kSMVMPrxStatusEndTone;
      p->u.tone.id = s.tone_id;
      p->u.tone.volume = s.tone_volume;
      p->u.tone.duration = s.tone_duration;
      break;
  }
  return 0;
}

int sm_vmprx_config_sample_rate(struct sm_vmprx_sample_rate_parms* p) {
  auto rx = p ? receivers().find(p->vmprx) : nullptr;
  return rx ? rx->set_l16_rate(static_cast<unsigned>(p->sample_rate)) : ERR_SM_BAD_PARAMETER;
}

int sm_vmprx_config_jitter(struct sm_vmprx_jitter_parms* p) {
  auto rx = p ? receivers().find(p->vmprx) : nullptr;
  return rx ? rx->set_jitter(static_cast<unsigned>(p->max_delay_ms), static_cast<unsigned>(p->initial_delay_ms))
            : ERR_SM_BAD_PARAMETER;
}

int sm_vmprx_config_codec(struct sm_vmprx_codec_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  vmp::Codec codec;
  if (!g711_codec(enum_value(p->codec), codec)) return ERR_SM_BAD_PARAMETER;
  return rx_codec(p->vmprx, codec, p->payload_type);
}

int sm_vmprx_config_codec_alaw(struct sm_vmprx_codec_alaw_parms* p) {
  return p ? rx_codec(p->vmprx, vmp::Codec::alaw, p->payload_type) : ERR_SM_BAD_PARAMETER;
}

int sm_vmprx_config_codec_mulaw(struct sm_vmprx_codec_mulaw_parms* p) {
  return p ? rx_codec(p->vmprx, vmp::Codec::mulaw, p->payload_type) : ERR_SM_BAD_PARAMETER;
}

int sm_vmprx_config_codec_l16(struct sm_vmprx_codec_l16_parms* p) {
  return p ? rx_codec(p->vmprx, vmp::Codec::l16, p->payload_type) : ERR_SM_BAD_PARAMETER;
}

int sm_vmprx_config_codec_rfc2833(struct sm_vmprx_codec_rfc2833_parms* p) {
  return p ? rx_codec(p->vmprx, vmp::Codec::telephone_event, p->payload_type) : ERR_SM_BAD_PARAMETER;
}

int sm_vmprx_config_tones(struct sm_vmprx_tone_parms* p) {
  auto rx = p ? receivers().find(p->vmprx) : nullptr;
  if (!rx) return ERR_SM_BAD_PARAMETER;
  if (p->regen_tones) return ERR_SM_NOT_IMPLEMENTED;  // events are reported, not played
  rx->set_detect_tones(p->detect_tones != 0);
  return 0;
}

int sm_vmptx_create(struct sm_vmptx_create_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  p->vmptx = kSMNullVMPtxId;
  endpoint::ModuleFormat format;
  if (int e = endpoint::module_format(p->module, format)) return e;
  if (!vmp::gstreamer_ready()) return ERR_SM_NO_RESOURCES;
  auto tx = std::make_shared<vmp::Transmitter>(format);
  std::uintptr_t id;
  if (int e = endpoint::add_sink(p->module, tx, id)) return e;
  transmitters().add(id, tx);
  p->vmptx = reinterpret_cast<tSMVMPtxId>(id);
  return 0;
}

int sm_vmptx_destroy(tSMVMPtxId vmptx) {
  if (!vmptx) return 0;
  auto tx = transmitters().take(vmptx);
  if (!tx) return ERR_SM_BAD_PARAMETER;
  endpoint::remove(reinterpret_cast<std::uintptr_t>(vmptx));
  tx->stop();
  return 0;
}

int sm_vmptx_stop(struct sm_vmptx_stop_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  return tx ? tx->stop() : ERR_SM_BAD_PARAMETER;
}

int sm_vmptx_config(struct sm_vmptx_config_parms* p) { return tx_config(p); }

int sm_vmptx_config_ipv6(struct sm_vmptx_config_ipv6_parms* p) { return tx_config(p); }

int sm_vmptx_get_event(struct sm_vmptx_event_parms* p) {
  return p ? transmitters().event(p->vmptx, p->event) : ERR_SM_BAD_PARAMETER;
}

int sm_vmptx_datafeed_connect(struct sm_vmptx_datafeed_connect_parms* p) {
  if (!p || !transmitters().find(p->vmptx)) return ERR_SM_BAD_PARAMETER;
  return endpoint::connect_sink(reinterpret_cast<std::uintptr_t>(p->vmptx), p->data_source);
}

int sm_vmptx_status(struct sm_vmptx_status_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  if (!tx) return ERR_SM_BAD_PARAMETER;
  std::memset(&p->u, 0, sizeof p->u);
  vmp::TxStatus s;
  if (!tx->next_status(s)) {
    if (tx->stopped()) return ERR_SM_WRONG_CHANNEL_STATE;  // Stopped has been reported
    p->status = kSMVMPtxStatusRunning;
    return 0;
  }
  switch (s.kind) {
    case vmp::TxStatus::got_ssrc:
      p->status = kSMVMPtxStatusSSRC;
      p->u.ssrc.ssrc = static_cast<int>(s.ssrc);
      break;
    case vmp::TxStatus::tone_ongoing:
      p->status = kSMVMPtxStatusToneOngoing;
      break;
    case vmp::TxStatus::tone_completed:
      p->status = kSMVMPtxStatusToneCompleted;
      break;
    case vmp::TxStatus::stopped:
      p->status = kSMVMPtxStatusStopped;
      break;
  }
  return 0;
}

int sm_vmptx_config_codec_rfc2833(struct sm_vmptx_codec_rfc2833_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  return tx ? tx->set_event_payload_type(p->payload_type) : ERR_SM_BAD_PARAMETER;
}

int sm_vmptx_generate_tones(struct sm_vmptx_generate_tones_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  if (!tx || !p->tones || p->num < 1) return ERR_SM_BAD_PARAMETER;
  return tx->generate_events(std::vector<int>(p->tones, p->tones + p->num), p->duration, p->interval, p->volume);
}

int sm_vmptx_create_toneset(struct sm_vmptx_create_toneset_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  p->tone_set_id = kSMNullVMPTxToneSetId;
  endpoint::ModuleFormat format;
  if (int e = endpoint::module_format(p->module, format)) return e;
  auto codes = std::make_shared<vmp::DigitCodes>();
  if (int e = digit_codes_of(p->toneset, *codes)) return e;
  p->tone_set_id = tone_sets().add(std::move(codes));
  return 0;
}

int sm_vmptx_destroy_toneset(struct sm_vmptx_destroy_toneset_parms* p) {
  return p && tone_sets().remove(p->tone_set_id) ? 0 : ERR_SM_BAD_PARAMETER;
}

int sm_vmptx_config_tones(struct sm_vmptx_tone_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  if (!tx) return ERR_SM_BAD_PARAMETER;
  const int min_duration = enum_value(p->min_duration);
  if (min_duration != kSMVMPtxRFC2833MinDurationNoMinimum && min_duration != kSMVMPtxRFC2833MinDuration40)
    return ERR_SM_BAD_PARAMETER;
  vmp::TxTones tones;
  tones.convert = p->convert_tones != 0;
  tones.eliminate = p->elim_tones != 0;
  tones.min_40ms = min_duration == kSMVMPtxRFC2833MinDuration40;
  if (p->tone_set_id == kSMNullVMPTxToneSetId) {
    auto codes = std::make_shared<vmp::DigitCodes>();
    digit_codes_of(kSMVMPTxDefaultToneSet, *codes);
    tones.codes = std::move(codes);
  } else if (!(tones.codes = tone_sets().find(p->tone_set_id))) {
    return ERR_SM_BAD_PARAMETER;
  }
  return tx->configure_tones(tones);
}

int sm_vmptx_generate_tones_abort(struct sm_vmptx_generate_tones_abort_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  return tx ? tx->abort_events() : ERR_SM_BAD_PARAMETER;
}

int sm_vmptx_config_sample_rate(struct sm_vmptx_sample_rate_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  return tx ? tx->set_l16_rate(static_cast<unsigned>(p->sample_rate)) : ERR_SM_BAD_PARAMETER;
}

int sm_vmptx_config_codec(struct sm_vmptx_codec_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  vmp::Codec codec;
  if (!g711_codec(enum_value(p->codec), codec)) return ERR_SM_BAD_PARAMETER;
  return tx_codec(p->vmptx, codec, p->payload_type, enum_value(p->VADMode), p->ptime);
}

int sm_vmptx_config_codec_alaw(struct sm_vmptx_codec_alaw_parms* p) {
  return p ? tx_codec(p->vmptx, vmp::Codec::alaw, p->payload_type, enum_value(p->VADMode), p->ptime)
           : ERR_SM_BAD_PARAMETER;
}

int sm_vmptx_config_codec_mulaw(struct sm_vmptx_codec_mulaw_parms* p) {
  return p ? tx_codec(p->vmptx, vmp::Codec::mulaw, p->payload_type, enum_value(p->VADMode), p->ptime)
           : ERR_SM_BAD_PARAMETER;
}

int sm_vmptx_config_codec_l16(struct sm_vmptx_codec_l16_parms* p) {
  return p ? tx_codec(p->vmptx, vmp::Codec::l16, p->payload_type, enum_value(p->VADMode), p->ptime)
           : ERR_SM_BAD_PARAMETER;
}

int prosody_vmprx_stats(struct prosody_vmprx_stats_parms* p) {
  auto rx = p ? receivers().find(p->vmprx) : nullptr;
  if (!rx) return ERR_SM_BAD_PARAMETER;
  const vmp::RxStats s = rx->stats();
  p->samples_received = s.samples_received;
  p->samples_lost = s.samples_lost;
  p->frames_concealed = s.frames_concealed;
  p->samples_dropped = s.samples_dropped;
  p->rtcp_packets = s.rtcp_packets;
  return 0;
}

int prosody_vmptx_stats(struct prosody_vmptx_stats_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  if (!tx) return ERR_SM_BAD_PARAMETER;
  const vmp::TxStats s = tx->stats();
  p->frames_sent = s.frames_sent;
  p->frames_skipped = s.frames_skipped;
  return 0;
}

}  // extern "C"
