#include "tone_tracker.hpp"

#include <algorithm>
#include <cmath>

namespace prosody::tones::cp {
namespace {

constexpr double kSamplesPerMs = kSampleRate / 1000.0;
// An unbounded silence state still ends a cadence that has stopped: the
// longest off-time in the repertoire is 4.8 s.
constexpr double kSilenceCapMs = 6000.0;
// Dial tone: each of 350 Hz and 440/450 Hz holds this share of the band
// (equal components hold about half each; a lone 400 Hz puts 1.5 % at 350 Hz).
constexpr double kDialComponentShare = 0.12;
constexpr double kDialSingleHz = 425.0;         // CEPT dial tone
constexpr double kDialSingleTolerance = 0.025;  // 2 % plus measurement margin

double duration_ms(const Segment& s) { return double(s.end - s.start) / kSamplesPerMs; }

// Simple-tone codes: band-1 index within tone set 1, band-2 index or -1.
void tone_codes(int kind, int& code, int& code2) {
  code2 = -1;
  switch (kind) {
    case kLow: code = kBandLow; break;
    case kSitLow: code = kBandSitLow; break;
    case kSitMid: code = kBandSitMid; break;
    case kSitHigh: code = kBandSitHigh; break;
    case k620: code = kBand620; break;
    case kLowPlus620: code = kBandLow; code2 = kBand620; break;
    case kCng: code = kBandCng; break;
    case kCed: code = kBandCed; break;
    default: code = -1; break;
  }
}

}  // namespace

ToneTracker::ToneTracker() {
  patterns_ = default_repertoire(pattern_count_);
  reset(0);
}

void ToneTracker::configure(const TrackerConfig& config) noexcept {
  if (!config.report_cptones) active_count_ = 0;
  config_ = config;
}

void ToneTracker::reset(std::uint64_t stream_start) noexcept {
  stream_start_ = stream_start;
  next_index_ = 0;
  for (auto& b : ring_) b = BlockInfo{};
  current_ = Building{};
  current_.kind = kNoTone;
  current_.first_block = 0;
  current_.last_block = -1;
  current_.start = stream_start;
  current_.start_known = false;
  pending_ = Building{};
  pending_.kind = -1;
  miss_ = 0;
  last_block_kind_ = kNoTone;
  history_count_ = 0;
  active_count_ = 0;
}

const ToneTracker::BlockInfo* ToneTracker::block(std::int64_t index) const {
  if (index < 0) return nullptr;
  const BlockInfo& b = ring_[index % kRing];
  return b.index == index ? &b : nullptr;
}

std::uint64_t ToneTracker::block_start(std::int64_t index) const {
  if (const BlockInfo* b = block(index)) return b->start;
  // Outside the ring: extrapolate from the newest block.
  const std::int64_t newest = next_index_ - 1;
  const BlockInfo* n = block(newest);
  if (!n) return stream_start_ + std::uint64_t(std::max<std::int64_t>(index, 0)) * kBlock;
  const std::int64_t delta = (index - newest) * kBlock;
  return delta < 0 && std::uint64_t(-delta) > n->start ? 0 : n->start + delta;
}

void ToneTracker::begin(Building& b, int kind, const BlockResult& r, std::int64_t index) const {
  b = Building{};
  b.kind = kind;
  b.first_block = index;
  b.last_block = index;
  b.blocks = 1;
  b.stable_blocks = r.stable ? 1 : 0;
  if (kind != kNoTone) {
    b.level_sum = b.first_level = b.last_level = r.strongest_power;
    b.level_count = 1;
  }
  if (kind == kLow) {
    b.p350 = r.power_350;
    b.p445 = r.power_445;
    b.low_band = r.low_band_power;
    b.low_blocks = 1;
    if (r.components == 1 && r.stable) {
      b.single_freq_sum = r.freq_hz[0];
      b.single_count = 1;
    }
  }
}

void ToneTracker::extend(Building& b, const BlockResult& r, std::int64_t index) const {
  b.last_block = index;
  ++b.blocks;
  if (r.stable) ++b.stable_blocks;
  b.ms_sum += r.mean_square;
  ++b.ms_count;
  b.last_ms = r.mean_square;
  if (b.kind == kNoTone) return;
  b.level_sum += r.strongest_power;
  b.last_level = r.strongest_power;
  ++b.level_count;
  if (b.kind == kLow) {
    b.p350 += r.power_350;
    b.p445 += r.power_445;
    b.low_band += r.low_band_power;
    ++b.low_blocks;
    if (r.components == 1 && r.stable) {
      b.single_freq_sum += r.freq_hz[0];
      ++b.single_count;
    }
  }
}

bool ToneTracker::dial_like(const Building& b) const {
  if (b.kind != kLow || b.low_blocks == 0 || b.low_band <= 0.0) return false;
  if (b.p350 >= kDialComponentShare * b.low_band && b.p445 >= kDialComponentShare * b.low_band)
    return true;
  if (b.single_count >= 0.7 * b.low_blocks && b.single_count > 0) {
    const double f = b.single_freq_sum / b.single_count;
    return std::fabs(f - kDialSingleHz) <= kDialSingleHz * kDialSingleTolerance;
  }
  return false;
}

// Mean power of the strongest component over the blocks the tone filled.
double ToneTracker::tone_level(const Building& b) {
  if (b.level_count >= 3) return (b.level_sum - b.first_level - b.last_level) / (b.level_count - 2);
  if (b.level_count == 2) return b.last_level;
  return b.level_count == 1 ? b.level_sum : 0.0;
}

Segment ToneTracker::snapshot(const Building& b, std::uint64_t end) const {
  Segment s;
  s.kind = b.kind;
  s.dial_like = dial_like(b);
  s.start_known = b.start_known;
  s.start = b.start;
  s.end = std::max(end, b.start);
  s.level_power = tone_level(b);
  return s;
}

// Sub-block energy of the tone alone: the mean square of its full blocks
// (the first and the newest may be partial).
double ToneTracker::reference_energy(const Building& b) const {
  double ms;
  if (b.ms_count >= 2)
    ms = (b.ms_sum - b.last_ms) / (b.ms_count - 1);
  else if (b.ms_count == 1)
    ms = b.ms_sum;
  else
    ms = b.level_count > 0 ? b.level_sum / b.level_count : 0.0;
  return ms * kSubBlock;
}

void ToneTracker::keep_onset_energy(Building& b) const {
  b.onset_energy_count = 0;
  const BlockInfo* first = block(b.first_block);
  const BlockInfo* before = block(b.first_block - 1);
  b.onset_region_start = before ? before->start : block_start(b.first_block);
  if (before)
    for (float v : before->sub_energy) b.onset_energy[b.onset_energy_count++] = v;
  if (first)
    for (float v : first->sub_energy) b.onset_energy[b.onset_energy_count++] = v;
}

namespace {
// How many samples' worth of tone the sub-blocks e[0..n) hold, over the
// floor of the quieter signal around the edge. Whole-region energy rather
// than sub-block by sub-block: two-component tones beat, and a 4 ms window
// can fall in a beat trough.
double tone_samples(const float* e, int n, double ref) {
  double floor = *std::min_element(e, e + n);
  if (floor > 0.3 * ref) floor = 0.0;
  if (ref <= floor) return 0.0;
  double energy = 0.0;
  for (int j = 0; j < n; ++j) energy += std::max(0.0, double(e[j]) - floor);
  return energy / (ref - floor) * kSubBlock;
}
}  // namespace

// The tone fills the end of its first block and perhaps part of the block
// before: count back as many samples as the tone energy there amounts to.
std::uint64_t ToneTracker::locate_onset(const Building& b) const {
  const int n = b.onset_energy_count;
  if (n < kSubBlocks) return block_start(b.first_block);
  const std::uint64_t end = b.onset_region_start + std::uint64_t(n) * kSubBlock;
  const double samples = std::min(tone_samples(b.onset_energy, n, reference_energy(b)), double(n * kSubBlock));
  return end - std::uint64_t(std::llround(samples));
}

// The tone fills the start of its last block and perhaps part of the next.
std::uint64_t ToneTracker::locate_offset(const Building& b) const {
  const BlockInfo* last = block(b.last_block);
  if (!last) return block_end(b.last_block);
  const BlockInfo* after = block(b.last_block + 1);
  float e[2 * kSubBlocks] = {};
  int n = 0;
  for (float v : last->sub_energy) e[n++] = v;
  if (after)
    for (float v : after->sub_energy) e[n++] = v;
  const double samples = std::min(tone_samples(e, n, reference_energy(b)), double(n * kSubBlock));
  return last->start + std::uint64_t(std::llround(samples));
}

void ToneTracker::on_block(const BlockResult& r, std::uint64_t start, std::vector<ToneEvent>& events) {
  const std::int64_t index = next_index_++;
  BlockInfo& info = ring_[index % kRing];
  info.index = index;
  info.start = start;
  for (int s = 0; s < kSubBlocks; ++s) info.sub_energy[s] = r.sub_energy[s];
  last_block_kind_ = r.kind;

  const int kind = r.kind;
  if (kind == current_.kind) {
    extend(current_, r, index);
    miss_ = 0;
    pending_.kind = -1;
  } else {
    ++miss_;
    if (pending_.kind == kind)
      extend(pending_, r, index);
    else
      begin(pending_, kind, r, index);
    // Two blocks start a tone or change it; ending one into silence takes
    // one more, so that short dropouts are bridged.
    const int needed = current_.kind == kNoTone ? 2 : (kind == kNoTone ? kBridgeBlocks + 1 : 2);
    if (pending_.blocks >= needed)
      switch_to_pending(events);
    else if (current_.kind != kNoTone && miss_ > kBridgeBlocks)
      end_tone_into_silence(events);
  }
  check_qualification(events);
  if (config_.report_cptones) check_ongoing(events);
}

void ToneTracker::switch_to_pending(std::vector<ToneEvent>& events) {
  const Building old = current_;
  Building next = pending_;
  std::uint64_t old_end, next_start;
  bool gap = false;
  if (old.kind != kNoTone && next.kind == kNoTone) {
    old_end = locate_offset(old);
    next_start = old_end;
  } else if (old.kind == kNoTone) {
    keep_onset_energy(next);
    next_start = locate_onset(next);
    old_end = next_start;
  } else {
    const std::int64_t junk = next.first_block - old.last_block - 1;
    if (junk <= 0) {
      old_end = next_start = block_start(next.first_block);
    } else if (junk == 1) {
      // One mixed block between two tones: split it.
      old_end = next_start = block_start(old.last_block + 1) + kBlock / 2;
    } else {
      old_end = locate_offset(old);
      keep_onset_energy(next);
      next_start = std::max(old_end, locate_onset(next));
      gap = true;
    }
  }
  next.start = next_start;
  next.start_known = !(next.kind != kNoTone && next_start < stream_start_ + kSubBlock);
  if (old.blocks > 0 || old_end > old.start) close_segment(old, old_end, events);
  if (gap) {
    Building silence;
    silence.kind = kNoTone;
    silence.start = old_end;
    close_segment(silence, next_start, events);
  }
  current_ = next;
  miss_ = 0;
  pending_ = Building{};
  pending_.kind = -1;
}

void ToneTracker::end_tone_into_silence(std::vector<ToneEvent>& events) {
  const Building old = current_;
  const std::uint64_t old_end = locate_offset(old);
  close_segment(old, old_end, events);
  current_ = Building{};
  current_.kind = kNoTone;
  current_.first_block = old.last_block + 1;
  current_.last_block = next_index_ - 1;
  current_.blocks = int(current_.last_block - current_.first_block + 1);
  current_.start = old_end;
  miss_ = 0;
  if (pending_.kind == kNoTone) {
    pending_ = Building{};
    pending_.kind = -1;
  }
}

void ToneTracker::emit_simple(const Building& b, bool is_end, std::uint64_t end,
                              std::vector<ToneEvent>& events) const {
  ToneEvent e;
  e.type = RecognitionType::tone;
  tone_codes(b.kind, e.code, e.code2);
  e.is_end = is_end;
  e.start_sample = b.start;
  if (is_end) {
    e.end_sample = end;
    e.duration_ms = static_cast<std::uint32_t>(std::llround(double(end - b.start) / kSamplesPerMs));
  }
  e.level_dbm0 = ms_to_dbm0(tone_level(b));
  events.push_back(e);
}

void ToneTracker::check_qualification(std::vector<ToneEvent>& events) {
  if (current_.kind == kNoTone || current_.qualified) return;
  // A steady frequency (phase continuity over two block pairs) for single
  // tones; the 350..480 Hz group may beat (440+480 Hz) and is judged by
  // band membership alone.
  const int stable_needed = current_.kind == kLow ? 0 : 2;
  if (current_.blocks < 2 || current_.stable_blocks < stable_needed) return;
  const std::uint64_t end = block_end(current_.last_block);
  if (double(end - current_.start) < config_.min_duration_ms * kSamplesPerMs) return;
  current_.qualified = true;
  if (config_.report_simple_tones) emit_simple(current_, false, 0, events);
}

void ToneTracker::close_segment(const Building& closing, std::uint64_t end, std::vector<ToneEvent>& events) {
  Building b = closing;
  // Now that the whole tone has been seen, its level is known better than
  // when it began: place the onset again.
  if (b.kind != kNoTone && b.onset_energy_count > 0 && b.start_known) b.start = std::min(locate_onset(b), end);
  if (b.kind != kNoTone && b.qualified && config_.report_simple_tones) emit_simple(b, true, end, events);
  const Segment s = snapshot(b, end);
  push_history(s);
  if (!config_.report_cptones) return;
  for (int i = 0; i < active_count_;) {
    if (fits_active(active_[i], s, false)) {
      if (s.kind != kNoTone) active_[i].last_tone_end = s.end;
      ++i;
    } else {
      end_active(i, events);
    }
  }
  try_patterns(s, false, events);
}

void ToneTracker::push_history(const Segment& s) {
  if (history_count_ == kHistory) {
    for (int i = 1; i < kHistory; ++i) history_[i - 1] = history_[i];
    --history_count_;
  }
  history_[history_count_++] = s;
}

void ToneTracker::check_ongoing(std::vector<ToneEvent>& events) {
  if (current_.kind == kNoTone && active_count_ == 0) return;
  const std::uint64_t end =
      current_.kind == kNoTone ? block_end(next_index_ - 1) : block_end(current_.last_block);
  const Segment s = snapshot(current_, end);
  for (int i = 0; i < active_count_;) {
    if (fits_active(active_[i], s, true)) {
      if (s.kind != kNoTone) active_[i].last_tone_end = s.end;
      ++i;
    } else {
      end_active(i, events);
    }
  }
  if (current_.kind != kNoTone && current_.blocks >= 2) try_patterns(s, true, events);
}

void ToneTracker::try_patterns(const Segment& newest, bool ongoing, std::vector<ToneEvent>& events) {
  Segment segs[kHistory + 1];
  int n = 0;
  for (int i = 0; i < history_count_; ++i) segs[n++] = history_[i];
  if (ongoing) segs[n++] = newest;
  for (int p = 0; p < pattern_count_; ++p) {
    const CadencePattern& pattern = patterns_[p];
    if (ongoing && !pattern.report_early) continue;
    bool already = false;
    for (int i = 0; i < active_count_; ++i) already = already || active_[i].id == pattern.id;
    if (already || active_count_ == kMaxActive) continue;
    const int first = match_pattern(pattern, segs, n, config_.cadence_tolerance_ms);
    if (first < 0) continue;
    ActiveTone a;
    a.id = pattern.id;
    a.start = newest.start;
    a.last_tone_end = newest.end;
    double level = 0.0;
    int tones = 0;
    for (int j = first; j < n; ++j) {
      if (segs[j].kind == kNoTone) continue;
      if (tones == 0) a.start = segs[j].start;
      level += segs[j].level_power;
      ++tones;
    }
    a.level_power = tones > 0 ? level / tones : 0.0;
    active_[active_count_++] = a;
    ToneEvent e;
    e.type = RecognitionType::cptone;
    e.code = a.id;
    e.start_sample = a.start;
    e.level_dbm0 = ms_to_dbm0(a.level_power);
    events.push_back(e);
  }
}

// Does segment s continue the cadence of an active tone? Any state of any
// pattern with the same id will do; an ongoing segment only has to be
// short enough so far.
bool ToneTracker::fits_active(const ActiveTone& a, const Segment& s, bool ongoing) const {
  const double ms = duration_ms(s);
  const int tol = config_.cadence_tolerance_ms;
  for (int p = 0; p < pattern_count_; ++p) {
    const CadencePattern& pattern = patterns_[p];
    if (pattern.id != a.id) continue;
    for (int i = 0; i < pattern.count; ++i) {
      const CadenceState& st = pattern.states[i];
      if (!kind_matches(st.kind, s)) continue;
      double hi = st.max_ms == kNoMax ? 1e18 : double(st.max_ms) + tol;
      if (s.kind == kNoTone) hi = std::min(hi, kSilenceCapMs);
      if (ongoing) {
        if (ms <= hi) return true;
      } else {
        const double lo = st.min_ms == 0 ? 0.0 : double(st.min_ms) - tol;
        if (ms >= lo && ms <= hi) return true;
      }
    }
  }
  return false;
}

void ToneTracker::end_active(int slot, std::vector<ToneEvent>& events) {
  const ActiveTone a = active_[slot];
  for (int i = slot + 1; i < active_count_; ++i) active_[i - 1] = active_[i];
  --active_count_;
  ToneEvent e;
  e.type = RecognitionType::cptone;
  e.code = a.id;
  e.is_end = true;
  e.start_sample = a.start;
  e.end_sample = std::max(a.last_tone_end, a.start);
  e.duration_ms = static_cast<std::uint32_t>(std::llround(double(e.end_sample - a.start) / kSamplesPerMs));
  e.level_dbm0 = ms_to_dbm0(a.level_power);
  events.push_back(e);
}

bool ToneTracker::tone_present() const noexcept {
  return current_.kind != kNoTone && current_.qualified;
}

bool ToneTracker::tone_candidate() const noexcept {
  if (tone_present()) return false;
  return last_block_kind_ != kNoTone || pending_.kind > kNoTone || current_.kind != kNoTone;
}

}  // namespace prosody::tones::cp
