// capi.cpp - the C API of the RTP endpoints (smrtp.h, prosody_vmp.h): the
// endpoints by handle, on their modules through the external-endpoint hook.
// A handle is the endpoint's id on its module (for a VMP[rx], also its
// datafeed).
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
    endpoints_[id] = std::move(e);
  }
  std::shared_ptr<Endpoint> find(const void* handle) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = endpoints_.find(reinterpret_cast<std::uintptr_t>(handle));
    return it == endpoints_.end() ? nullptr : it->second;
  }
  std::shared_ptr<Endpoint> take(const void* handle) {
    std::lock_guard<std::mutex> lock(m_);
    auto it = endpoints_.find(reinterpret_cast<std::uintptr_t>(handle));
    if (it == endpoints_.end()) return nullptr;
    auto e = std::move(it->second);
    endpoints_.erase(it);
    return e;
  }

 private:
  std::mutex m_;
  std::map<std::uintptr_t, std::shared_ptr<Endpoint>> endpoints_;
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

}  // namespace

extern "C" {

int sm_vmprx_create(struct sm_vmprx_create_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  p->vmprx = kSMNullVMPrxId;
  endpoint::ModuleFormat format;
  if (int e = endpoint::module_format(p->module, format)) return e;
  if (enum_value(p->type) != kSMVMPrxTypeIPv4 || p->mux_rtcp != 0) return ERR_SM_BAD_PARAMETER;
  std::shared_ptr<vmp::Receiver> rx;
  if (int e = vmp::Receiver::create(format, p->address, rx)) return e;
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
  p->address = rx->address();
  std::memset(&p->ipv6_address, 0, sizeof p->ipv6_address);
  return 0;
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
  switch (s.kind) {
    case vmp::RxStatus::got_ports:
      p->status = kSMVMPrxStatusGotPorts;
      p->u.ports.RTP_Port = rx->rtp_port();
      p->u.ports.RTCP_Port = rx->rtcp_port();
      p->u.ports.address = rx->address();
      break;
    case vmp::RxStatus::new_ssrc:
      p->status = kSMVMPrxStatusNewSSRC;
      p->u.ssrc.ssrc = static_cast<int>(s.ssrc);
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

int sm_vmptx_config(struct sm_vmptx_config_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  if (!tx) return ERR_SM_BAD_PARAMETER;
  vmp::TxAddresses a;
  a.destination_rtp = p->destination_rtp;
  a.source_rtp = p->source_rtp;
  a.destination_rtcp = p->destination_rtcp;
  a.source_rtcp = p->source_rtcp;
  return tx->configure(a);
}

int sm_vmptx_datafeed_connect(struct sm_vmptx_datafeed_connect_parms* p) {
  if (!p || !transmitters().find(p->vmptx)) return ERR_SM_BAD_PARAMETER;
  return endpoint::connect_sink(reinterpret_cast<std::uintptr_t>(p->vmptx), p->data_source);
}

int sm_vmptx_status(struct sm_vmptx_status_parms* p) {
  auto tx = p ? transmitters().find(p->vmptx) : nullptr;
  if (!tx) return ERR_SM_BAD_PARAMETER;
  std::memset(&p->u, 0, sizeof p->u);
  if (tx->stopped()) {
    p->status = kSMVMPtxStatusStopped;
    return 0;
  }
  p->status = kSMVMPtxStatusRunning;
  if (const std::uint32_t ssrc = tx->ssrc()) {
    p->status = kSMVMPtxStatusSSRC;
    p->u.ssrc.ssrc = static_cast<int>(ssrc);
  }
  return 0;
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
