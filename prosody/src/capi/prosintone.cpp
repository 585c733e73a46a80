// prosintone.cpp - the C API of a module's input tone tables
// (sm_add_input_freq_coeffs, sm_add_input_tone_set, sm_adjust_input_tone_set,
// sm_add_input_cptone, sm_reset_input_cptones), over the engine's
// InputToneTables.
#include <vector>

#include "capi/capi.hpp"

using namespace prosody;
using detail::InputToneTables;
using prosody::capi::rc;

namespace {

// Runs f(tables) on module's tables, as an ERR_SM_* code.
template <class F>
int with_tables(tSMModuleId module, F&& f) {
  auto e = capi::engine_of_module(module);
  if (!e) return ERR_SM_NO_SUCH_MODULE;
  return rc(e->with_input_tones(f));
}

}  // namespace

extern "C" {

int sm_add_input_freq_coeffs(struct sm_input_freq_coeffs_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  return with_tables(p->module,
                     [&](InputToneTables& t) { return t.add_frequency(p->lower_limit, p->upper_limit, p->id); });
}

int sm_add_input_tone_set(struct sm_input_tone_set_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  return with_tables(p->module, [&](InputToneTables& t) {
    return t.add_tone_set(p->band1_first_freq_coeffs_id, p->band1_freq_count, p->band2_first_freq_coeffs_id,
                          p->band2_freq_count, p->req_third_peak, p->req_signal_to_noise_ratio, p->req_minimum_power,
                          p->req_twist_for_dual_tone, p->id);
  });
}

int sm_adjust_input_tone_set(struct sm_adjust_tone_set_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  const int which = capi::enum_value(p->parameter_id);
  if (which < kAdjustToneSetFPParamId3rdPeak || which > kAdjustToneSetFPParamIdStopFreq) return ERR_SM_BAD_PARAMETER;
  const bool integer = which == kAdjustToneSetIntParamIdMinOnTime || which == kAdjustToneSetIntParamIdMinOffTime;
  const double value = integer ? double(p->parameter_value.int_value) : p->parameter_value.fp_value;
  // kAdjustToneSet's order is ToneSetParameter's.
  const auto parameter = static_cast<detail::ToneSetParameter>(which);
  return with_tables(p->module,
                     [&](InputToneTables& t) { return t.adjust_tone_set(p->tone_set_id, parameter, value); });
}

int sm_add_input_cptone(struct sm_input_cptone_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->state_count < 1 || p->state_count > kSMMaxCPToneStates) return ERR_SM_BAD_PARAMETER;
  std::vector<detail::CPToneStateRequest> states;
  for (int i = 0; i < p->state_count; ++i)
    states.push_back({p->states[i].freq_id, p->states[i].maximum_cadence, p->states[i].minimum_cadence});
  return with_tables(p->module, [&](InputToneTables& t) { return t.add_cptone(p->id, states); });
}

int sm_reset_input_cptones(struct sm_reset_input_cptones_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  return with_tables(p->module, [&](InputToneTables& t) { return t.reset_cptones(p->tone_set_id); });
}

}  // extern "C"
