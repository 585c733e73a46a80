// callstate.cpp - sm_catsig_listen_for, sm_adjust_catsig_module_params and
// sm_onhook_listen_for: what the far end did (a live answer or a machine; a
// hang-up click).
#include <map>
#include <memory>
#include <mutex>

#include "capi.hpp"
#include "prosody/prospapi.h"

using namespace prosody;
using prosody::capi::raw;
using prosody::capi::rc;

namespace {

// sm_adjust_catsig_module_params: the classifier's parameters per module
// (the module's engine, by weak reference, so a closed module's entry
// never passes to a new one).
class CatSigParams {
 public:
  static CatSigParams& instance() {
    static CatSigParams p;
    return p;
  }
  LiveSpeakerSettings get(const std::shared_ptr<detail::Engine>& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = params_.find(e);
    return it == params_.end() ? LiveSpeakerSettings{} : it->second;
  }
  void set(const std::shared_ptr<detail::Engine>& e, const LiveSpeakerSettings& s) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = params_.begin(); it != params_.end();) it = it->first.expired() ? params_.erase(it) : std::next(it);
    params_[e] = s;
  }

 private:
  std::mutex mutex_;
  std::map<std::weak_ptr<detail::Engine>, LiveSpeakerSettings, std::owner_less<std::weak_ptr<detail::Engine>>> params_;
};

// A parameter's field in LiveSpeakerSettings, or null for an unknown id.
double LiveSpeakerSettings::*catsig_param(int id) {
  switch (id) {
    case kBESPCatSigParamMinSpeechLevel:
      return &LiveSpeakerSettings::min_speech_dbm0;
    case kBESPCatSigParamMinSpeechDuration:
      return &LiveSpeakerSettings::min_speech_ms;
    case kBESPCatSigParamMaxLiveSpeech:
      return &LiveSpeakerSettings::max_live_speech_ms;
    case kBESPCatSigParamLiveSilence:
      return &LiveSpeakerSettings::live_silence_ms;
    default:
      return nullptr;
  }
}

bool catsig_algorithm(int id, CatSigAlgorithm& out) {
  switch (id) {
    case kBESPCatSigAlgLiveSpeaker:
      out = CatSigAlgorithm::live_speaker;
      return true;
    case kBESPCatSigAlgLiveSpeakerTone:
      out = CatSigAlgorithm::live_speaker_tone;
      return true;
    default:
      return false;
  }
}

// 0 selects the documented default.
double or_default(double v, double fallback) { return v == 0.0 ? fallback : v; }

}  // namespace

extern "C" {

int sm_catsig_listen_for(struct sm_catsig_listen_for_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  ListenSettings s;
  if (p->abort_catsig_alg == 0) {
    const int alg = capi::enum_value(p->catsig_alg_id);
    if (alg == kBESPCatSigAlgLiveSpeakerToneReport) return ERR_SM_NOT_IMPLEMENTED;
    if (!catsig_algorithm(alg, s.catsig)) return ERR_SM_BAD_PARAMETER;
    s.live_speaker = CatSigParams::instance().get(e);
  } else if (p->abort_catsig_alg != 1) {
    return ERR_SM_BAD_PARAMETER;
  }
  return rc(e->listen_for(raw(p->channel), s, ListenPart::catsig));
}

int sm_adjust_catsig_module_params(struct sm_catsig_module_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  const auto e = capi::engine_of_module(p->module);
  if (!e) return ERR_SM_NO_SUCH_MODULE;
  CatSigAlgorithm alg;
  if (!catsig_algorithm(capi::enum_value(p->catsig_alg_id), alg)) return ERR_SM_BAD_PARAMETER;
  double LiveSpeakerSettings::*field = catsig_param(capi::enum_value(p->param_id));
  if (!field) return ERR_SM_BAD_PARAMETER;
  LiveSpeakerSettings s = CatSigParams::instance().get(e);
  s.*field = or_default(p->value, LiveSpeakerSettings{}.*field);
  if (!live_speaker_settings_valid(s)) return ERR_SM_BAD_PARAMETER;
  CatSigParams::instance().set(e, s);
  return 0;
}

int sm_onhook_listen_for(struct sm_onhook_listen_for_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  ListenSettings s;
  s.onhook = p->enable != 0;
  if (s.onhook) {
    const OnHookSettings d;
    OnHookSettings& o = s.onhook_settings;
    o.pre_pulse_max_dbm0 = or_default(p->pre_pulse_max_power, d.pre_pulse_max_dbm0);
    o.pulse_min_dbm0 = or_default(p->pulse_min_power, d.pulse_min_dbm0);
    o.post_pulse_floor_dbm0 = or_default(p->post_pulse_floor, d.post_pulse_floor_dbm0);
    o.latitude_db = or_default(p->latitude, d.latitude_db);
    o.count_ratio = or_default(p->count_ratio, d.count_ratio);
    o.total_ratio = or_default(p->total_ratio, d.total_ratio);
    o.max_duration_ms = p->max_duration == 0 ? d.max_duration_ms : p->max_duration;
  }
  return rc(e->listen_for(raw(p->channel), s, ListenPart::onhook));
}

}  // extern "C"
