// input_tone_tables.cpp - a module's input tone tables (see the header).
#include "engine/input_tone_tables.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace prosody::detail {

namespace {

using tones::cp::CadencePattern;
using tones::cp::CadenceState;
using tones::cp::FrequencyRange;
using tones::cp::StateKind;
using tones::cp::ToneSetSpec;

// Prosody's pre-loaded input frequencies, ids 0..14: the DTMF low and high
// groups, call progress 1..5, fax CNG and CED.
constexpr FrequencyRange kPreloaded[InputToneTables::kPreloadedFrequencies] = {
    {679.6875, 710.9375},   {742.1875, 789.0625},   {835.9375, 867.1875},   {914.0625, 960.9375},
    {1179.6875, 1242.1875}, {1304.6875, 1367.1875}, {1445.3125, 1507.8125}, {1601.5625, 1664.0625},
    {304.6875, 554.6875},   {898.4375, 1007.8125},  {1335.9375, 1460.9375}, {1742.1875, 1851.5625},
    {589.0, 651.0},         {1062.0, 1138.0},       {2085.0, 2115.0},
};

constexpr double kRangeLowHz = 250.0, kRangeHighHz = 3406.25;  // the detector's range
constexpr int kCadenceQuantumMs = 32;

// Tone set 1's block kinds a cadence state may name (tones::cp::ToneKind).
bool is_set1_kind(int kind) { return (kind >= 1 && kind <= 6) || kind == 8 || kind == 9; }

}  // namespace

InputToneTables::InputToneTables() : frequencies_(std::begin(kPreloaded), std::end(kPreloaded)) {}

Errc InputToneTables::add_frequency(double lower_hz, double upper_hz, int& id) {
  if (!(lower_hz > 0.0 && lower_hz <= upper_hz && upper_hz < 4000.0)) return Errc::bad_parameter;
  if (frequencies_.size() >= kMaxFrequencies) return Errc::no_resources;
  id = static_cast<int>(frequencies_.size());
  frequencies_.push_back({lower_hz, upper_hz});
  return Errc::ok;
}

Errc InputToneTables::add_tone_set(int band1_first, int band1_count, int band2_first, int band2_count,
                                   double third_peak, double snr, double min_power_dbm0, double twist_db, int& id) {
  const int n = static_cast<int>(frequencies_.size());
  auto band_ok = [n](int first, int count) { return count >= 0 && first >= 0 && first + count <= n; };
  if (band1_count < 1 || !band_ok(band1_first, band1_count) || !band_ok(band2_first, band2_count))
    return Errc::bad_parameter;
  if (!(third_peak >= 0.0 && third_peak <= 1.0) || !(snr > 0.0 && snr <= 1.0) ||
      !(min_power_dbm0 >= -60.0 && min_power_dbm0 <= 3.0) || !(twist_db >= 0.0 && twist_db <= 40.0))
    return Errc::bad_parameter;
  if (set_count() >= kMaxToneSets) return Errc::no_resources;
  auto spec = std::make_shared<ToneSetSpec>();
  spec->band1.assign(frequencies_.begin() + band1_first, frequencies_.begin() + band1_first + band1_count);
  spec->band2.assign(frequencies_.begin() + band2_first, frequencies_.begin() + band2_first + band2_count);
  spec->third_peak = third_peak;
  spec->snr = snr;
  spec->min_power_dbm0 = min_power_dbm0;
  spec->twist_db = twist_db;
  id = static_cast<int>(set_count());
  user_sets_.push_back(std::move(spec));
  return Errc::ok;
}

Errc InputToneTables::adjust_tone_set(int set, ToneSetParameter parameter, double value) {
  if (!has_tone_set(set)) return Errc::bad_parameter;
  if (set < kFirstUserSet) return Errc::not_implemented;
  auto spec = std::make_shared<ToneSetSpec>(*user_sets_[std::size_t(set - kFirstUserSet)]);
  switch (parameter) {
    case ToneSetParameter::third_peak:
      if (!(value >= 0.0 && value <= 1.0)) return Errc::bad_parameter;
      spec->third_peak = value;
      break;
    case ToneSetParameter::snr:
      if (!(value > 0.0 && value <= 1.0)) return Errc::bad_parameter;
      spec->snr = value;
      break;
    case ToneSetParameter::min_power:
      if (!(value >= -60.0 && value <= 3.0)) return Errc::bad_parameter;
      spec->min_power_dbm0 = value;
      break;
    case ToneSetParameter::twist:
      if (!(value >= 0.0 && value <= 40.0)) return Errc::bad_parameter;
      spec->twist_db = value;
      break;
    case ToneSetParameter::min_on_ms:
    case ToneSetParameter::min_off_ms: {
      if (!(value >= 0.0 && value <= 10000.0)) return Errc::bad_parameter;
      (parameter == ToneSetParameter::min_on_ms ? spec->min_on_ms : spec->min_off_ms) = unsigned(value);
      // Compatibility (Prosody): if only one of them is 64 ms or more, it
      // is used for both.
      if ((spec->min_on_ms >= 64) != (spec->min_off_ms >= 64))
        spec->min_on_ms = spec->min_off_ms = std::max(spec->min_on_ms, spec->min_off_ms);
      break;
    }
    case ToneSetParameter::start_hz:
      if (!(value >= kRangeLowHz && value < spec->stop_hz)) return Errc::bad_parameter;
      spec->start_hz = value;
      break;
    case ToneSetParameter::stop_hz:
      if (!(value > spec->start_hz && value <= kRangeHighHz)) return Errc::bad_parameter;
      spec->stop_hz = value;
      break;
    default:
      return Errc::bad_parameter;
  }
  user_sets_[std::size_t(set - kFirstUserSet)] = std::move(spec);
  return Errc::ok;
}

std::shared_ptr<const ToneSetSpec> InputToneTables::tone_set(int set) const {
  if (set < kFirstUserSet || !has_tone_set(set)) return nullptr;
  return user_sets_[std::size_t(set - kFirstUserSet)];
}

ToneSuppressor::CallProgressTables InputToneTables::tables_for(int active_set) const {
  static const auto no_cptones = std::make_shared<const std::vector<CadencePattern>>();
  const int analysed = active_set >= 1 ? active_set : cp_base_set_;
  ToneSuppressor::CallProgressTables t;
  t.tone_set = tone_set(analysed);
  t.repertoire = analysed == cp_base_set_ ? repertoire_ : no_cptones;
  return t;
}

bool InputToneTables::valid_tone_of_base(int freq_id) const {
  if (cp_base_set_ == 1) return is_set1_kind(freq_id);
  const auto spec = tone_set(cp_base_set_);
  return spec && freq_id >= 1 && freq_id <= spec->tone_count();
}

Errc InputToneTables::add_cptone(int id, const std::vector<CPToneStateRequest>& states) {
  if (id < 1 || id > 255) return Errc::bad_parameter;
  if (states.empty() || states.size() > std::size_t(tones::cp::kMaxStates)) return Errc::bad_parameter;
  if (user_cptone_count_ >= kMaxUserCPTones) return Errc::no_resources;
  CadencePattern p{};
  p.id = id;
  p.name = "user";
  p.report_early = false;
  p.count = static_cast<int>(states.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    const CPToneStateRequest& r = states[states.size() - 1 - i];  // to time order
    if (r.min_ms < 0 || r.max_ms < r.min_ms) return Errc::bad_parameter;
    if (r.freq_id != 0 && !valid_tone_of_base(r.freq_id)) return Errc::bad_parameter;
    // Prosody keeps durations in 32 ms units; a silence lasts at most 2528 ms.
    const int lo = r.min_ms / kCadenceQuantumMs * kCadenceQuantumMs;
    int hi = (r.max_ms + kCadenceQuantumMs - 1) / kCadenceQuantumMs * kCadenceQuantumMs;
    if (r.freq_id == 0) hi = std::min(hi, kMaxSilenceMs);
    if (hi > 0xFFFE) return Errc::bad_parameter;
    CadenceState& s = p.states[i];
    s.kind = r.freq_id == 0 ? StateKind::silence : StateKind::tone;
    s.tone = r.freq_id;
    s.min_ms = static_cast<std::uint16_t>(lo);
    s.max_ms = static_cast<std::uint16_t>(hi);
  }
  std::vector<CadencePattern> next;
  if (repertoire_) {
    next = *repertoire_;
  } else {
    int count = 0;
    const CadencePattern* defaults = tones::cp::default_repertoire(count);
    next.assign(defaults, defaults + count);
  }
  next.push_back(p);
  repertoire_ = std::make_shared<const std::vector<CadencePattern>>(std::move(next));
  ++user_cptone_count_;
  return Errc::ok;
}

Errc InputToneTables::reset_cptones(int base_set) {
  if (!has_tone_set(base_set) || base_set == 0) return Errc::bad_parameter;
  cp_base_set_ = base_set;
  user_cptone_count_ = 0;
  repertoire_ = std::make_shared<const std::vector<CadencePattern>>();
  return Errc::ok;
}

}  // namespace prosody::detail
