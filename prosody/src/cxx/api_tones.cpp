// api_tones.cpp - the C++ face of tone and digit generation: Module's output
// tone table and Channel's tone jobs, translated to the engine.
#include "engine/engine.hpp"
#include "engine/tonegen.hpp"
#include "prosody/prosody.hpp"

namespace prosody {

using detail::ToneJobKind;

namespace {

void check_tone(Errc e, const char* what) {
  if (e != Errc::ok) throw Error(e, what);
}

detail::Engine& tone_engine(const std::shared_ptr<detail::Engine>& e, const char* what) {
  if (!e) throw Error(Errc::no_such_channel, what);
  return *e;
}

}  // namespace

int Module::add_output_freq(double freq_hz, double level_dbm0) {
  int id = -1;
  check_tone(tone_engine(engine_, "Module::add_output_freq").add_output_freq(freq_hz, level_dbm0, id),
             "Module::add_output_freq");
  return id;
}

int Module::add_output_tone(int component1, int component2) {
  int id = -1;
  check_tone(tone_engine(engine_, "Module::add_output_tone").add_output_tone(component1, component2, id),
             "Module::add_output_tone");
  return id;
}

void Channel::play_tone(int tone_id, std::uint32_t duration_ms) {
  const ToneCadence c{tone_id, 0, 0};
  check_tone(tone_engine(engine_, "Channel::play_tone")
                 .tone_play(id_.value, ToneJobKind::tone, CPToneType::continuous, &c, 1, duration_ms),
             "Channel::play_tone");
}

void Channel::play_cptone(CPToneType type, Span<const ToneCadence> cadences, std::uint32_t duration_ms) {
  check_tone(tone_engine(engine_, "Channel::play_cptone")
                 .tone_play(id_.value, ToneJobKind::cptone, type, cadences.data(), cadences.size(), duration_ms),
             "Channel::play_cptone");
}

void Channel::play_digits(const std::string& digits, std::uint32_t on_ms, std::uint32_t off_ms) {
  std::vector<ToneCadence> cadences;
  check_tone(detail::digit_cadences(digits, on_ms, off_ms, cadences), "Channel::play_digits");
  // A digit string is longer than sm_play_cptone's eight cadences: the job
  // takes any number.
  check_tone(tone_engine(engine_, "Channel::play_digits")
                 .tone_play(id_.value, ToneJobKind::digits, CPToneType::one_shot, cadences.data(), cadences.size(), 0),
             "Channel::play_digits");
}

void Channel::play_tone_list(Span<const ToneItem> items) {
  check_tone(tone_engine(engine_, "Channel::play_tone_list").tone_list(id_.value, items.data(), items.size()),
             "Channel::play_tone_list");
}

void Channel::tone_list_phase_reverse(std::uint32_t period_ms) {
  check_tone(tone_engine(engine_, "Channel::tone_list_phase_reverse").tone_phase_reverse(id_.value, period_ms),
             "Channel::tone_list_phase_reverse");
}

ToneJobState Channel::tone_status() {
  ToneJobState s{};
  check_tone(tone_engine(engine_, "Channel::tone_status").tone_status(id_.value, detail::kAnyToneJob, s),
             "Channel::tone_status");
  return s;
}

void Channel::tone_abort() {
  check_tone(tone_engine(engine_, "Channel::tone_abort").tone_abort(id_.value, detail::kAnyToneJob),
             "Channel::tone_abort");
}

}  // namespace prosody
