// prosptone.cpp - the C API of tone and digit generation on output channels
// (sm_add_output_freq ... sm_play_tone_list_phase_reverse), translated to the
// engine's tone jobs.
#include <cstring>
#include <string>
#include <vector>

#include "capi/capi.hpp"
#include "engine/tonegen.hpp"

using namespace prosody;
using detail::tone_kind_bit;
using detail::ToneJobKind;
using prosody::capi::raw;
using prosody::capi::rc;

namespace {

constexpr unsigned kCadenceJobs =
    tone_kind_bit(ToneJobKind::tone) | tone_kind_bit(ToneJobKind::cptone) | tone_kind_bit(ToneJobKind::digits);

// A cadence from the C struct: a negative value is taken by its magnitude
// (Prosody's undocumented "modulate" flag has no effect here).
std::uint32_t cadence_ms(tSM_INT v) { return static_cast<std::uint32_t>(v < 0 ? -static_cast<long long>(v) : v); }

// Starts the job, and with wait_for_completion blocks until it completes
// (a real-time module only: nothing would advance a stepped one).
int play(tSMChannelId channel, int wait, ToneJobKind kind, CPToneType type, const ToneCadence* cadences,
         std::size_t count, std::uint32_t duration_ms) {
  PROSODY_ENGINE_OR_RETURN(e, channel);
  if (wait && e->drive_mode() != DriveMode::realtime) return ERR_SM_WRONG_MODULE_STATE;
  // Waiting for a tone that never ends would never return.
  if (wait && duration_ms == 0 && type != CPToneType::one_shot) return ERR_SM_BAD_PARAMETER;
  if (int r = rc(e->tone_play(raw(channel), kind, type, cadences, count, duration_ms))) return r;
  return wait ? rc(e->tone_wait(raw(channel))) : 0;
}

// The state of the tone job on channel as the _status calls report it.
int status_of(tSMChannelId channel, unsigned kinds, ToneJobState& state) {
  PROSODY_ENGINE_OR_RETURN(e, channel);
  return rc(e->tone_status(raw(channel), kinds, state));
}

// sm_play_tone_status, sm_play_cptone_status, sm_play_digits_status: each
// its own struct and enum, the same two answers.
template <class Parms, class Status>
int cadence_status(Parms* p, Status complete, Status ongoing) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  // Legacy any-channel mode: a channel bound to an any-channel write event.
  if (!p->channel && !(p->channel = capi::any_channel_needing_service(kSMEventTypeWriteData)))
    return ERR_SM_NO_SUCH_CHANNEL;
  ToneJobState s;
  if (int r = status_of(p->channel, kCadenceJobs, s)) return r;
  p->status = s == ToneJobState::complete ? complete : ongoing;
  return 0;
}

int abort_job(tSMChannelId channel, unsigned kinds) {
  PROSODY_ENGINE_OR_RETURN(e, channel);
  return rc(e->tone_abort(raw(channel), kinds));
}

}  // namespace

extern "C" {

int sm_add_output_freq(struct sm_output_freq_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  auto e = capi::engine_of_module(p->module);
  if (!e) return ERR_SM_NO_SUCH_MODULE;
  int id = -1;
  const int r = rc(e->add_output_freq(p->freq, p->amplitude, id));
  if (r == 0) p->id = id;
  return r;
}

int sm_add_output_tone(struct sm_output_tone_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  auto e = capi::engine_of_module(p->module);
  if (!e) return ERR_SM_NO_SUCH_MODULE;
  int id = -1;
  const int r = rc(e->add_output_tone(p->component1_id, p->component2_id, id));
  if (r == 0) p->id = id;
  return r;
}

// A simple tone is a one-cadence continuous call-progress tone (as TiNG
// plays it).
int sm_play_tone(struct sm_play_tone_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->duration > detail::kMaxToneMs) return ERR_SM_BAD_PARAMETER;
  const ToneCadence c{p->tone_id, 0, 0};
  return play(p->channel, p->wait_for_completion, ToneJobKind::tone, CPToneType::continuous, &c, 1,
              static_cast<std::uint32_t>(p->duration));
}

int sm_play_tone_status(struct sm_play_tone_status_parms* p) {
  return cadence_status(p, kSMPlayToneStatusComplete, kSMPlayToneStatusOngoing);
}

int sm_play_tone_abort(tSMChannelId channel) {
  return abort_job(channel, tone_kind_bit(ToneJobKind::tone) | tone_kind_bit(ToneJobKind::cptone));
}

int sm_play_cptone(struct sm_play_cptone_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->tone_count < 1 || p->tone_count > kSMMaxPlayCPToneCadences) return ERR_SM_BAD_PARAMETER;
  if (p->duration > detail::kMaxToneMs) return ERR_SM_BAD_PARAMETER;
  const int type = capi::enum_value(p->type);
  if (type < kSMPlayCPToneTypeOneShot || type > kSMPlayCPToneTypeContinuous) return ERR_SM_BAD_PARAMETER;
  ToneCadence c[kSMMaxPlayCPToneCadences];
  for (int i = 0; i < p->tone_count; ++i)
    c[i] = {p->cadences[i].tone_id, cadence_ms(p->cadences[i].on_cadence), cadence_ms(p->cadences[i].off_cadence)};
  return play(p->channel, p->wait_for_completion, ToneJobKind::cptone, static_cast<CPToneType>(type), c,
              static_cast<std::size_t>(p->tone_count), static_cast<std::uint32_t>(p->duration));
}

int sm_play_cptone_status(struct sm_play_cptone_status_parms* p) {
  return cadence_status(p, kSMPlayCPToneStatusComplete, kSMPlayCPToneStatusOngoing);
}

int sm_play_cptone_abort(tSMChannelId channel) {
  return abort_job(channel, tone_kind_bit(ToneJobKind::tone) | tone_kind_bit(ToneJobKind::cptone));
}

int sm_play_digits(struct sm_play_digits_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (capi::enum_value(p->digits.type) != kSMDTMFDigits || p->digits.qualifier != 0) return ERR_SM_BAD_PARAMETER;
  if (p->digits.inter_digit_delay < 0 || p->digits.digit_duration < 0) return ERR_SM_BAD_PARAMETER;
  const char* s = p->digits.digit_string;
  const std::string digits(s, strnlen(s, kSMMaxDigits_plus1));
  if (digits.size() > kSMMaxDigits) return ERR_SM_BAD_PARAMETER;  // not terminated within the array
  std::vector<ToneCadence> cadences;
  if (int r = rc(detail::digit_cadences(digits, static_cast<std::uint32_t>(p->digits.digit_duration),
                                        static_cast<std::uint32_t>(p->digits.inter_digit_delay), cadences)))
    return r;
  return play(p->channel, p->wait_for_completion, ToneJobKind::digits, CPToneType::one_shot, cadences.data(),
              cadences.size(), 0);
}

int sm_play_digits_status(struct sm_play_digits_status_parms* p) {
  return cadence_status(p, kSMPlayDigitsStatusComplete, kSMPlayDigitsStatusOngoing);
}

int sm_play_tone_list(struct sm_play_tone_list_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->tone_count < 1 || !p->tones) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  std::vector<ToneItem> items(static_cast<std::size_t>(p->tone_count));
  for (std::size_t i = 0; i < items.size(); ++i) {
    const sm_play_tone_list_parms::sm_play_tone_item& t = p->tones[i];
    const int op = capi::enum_value(t.operation);
    if (op < kSMToneOperationStop || op > kSMToneOperationModulate) return ERR_SM_BAD_PARAMETER;
    if (t.duration > detail::kMaxToneMs) return ERR_SM_BAD_PARAMETER;
    items[i] = {static_cast<ToneOperation>(op),
                static_cast<std::uint32_t>(t.duration),
                t.frequency1,
                t.amplitude1,
                t.frequency2,
                t.amplitude2};
  }
  return rc(e->tone_list(raw(p->channel), items.data(), items.size()));
}

int sm_play_tone_list_status(struct sm_play_tone_list_status_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  if (p->channel == kSMNullChannelId) return ERR_SM_NOT_IMPLEMENTED;  // no any-channel mode (as TiNG)
  ToneJobState s;
  if (int r = status_of(p->channel, tone_kind_bit(ToneJobKind::list), s)) return r;
  switch (s) {
    case ToneJobState::complete:
      p->status = kSMPlayToneListStatusComplete;
      break;
    case ToneJobState::ongoing:
      p->status = kSMPlayToneListStatusOngoing;
      break;
    case ToneJobState::has_capacity:
      p->status = kSMPlayToneListStatusHasCapacity;
      break;
    case ToneJobState::underrun:
      p->status = kSMPlayToneListStatusUnderrun;
      break;
  }
  return 0;
}

int sm_play_tone_list_abort(tSMChannelId channel) { return abort_job(channel, tone_kind_bit(ToneJobKind::list)); }

int sm_play_tone_list_phase_reverse(struct sm_play_tone_list_phase_reverse_parms* p) {
  if (!p) return ERR_SM_BAD_PARAMETER;
  PROSODY_ENGINE_OR_RETURN(e, p->channel);
  if (p->period > detail::kMaxToneMs) return ERR_SM_BAD_PARAMETER;
  return rc(e->tone_phase_reverse(raw(p->channel), static_cast<std::uint32_t>(p->period)));
}

}  // extern "C"
