#include "tone_tracker.hpp"

#include <algorithm>
#include <cmath>

namespace prosody::tones::cp {
namespace {

constexpr double kSamplesPerMs = kSampleRate / 1000.0;
// An unbounded silence state still ends a cadence that has stopped: the
// longest off-time in the repertoire is 4.8 s.
constexpr double kSilenceCapMs = 6000.0;
// Dial tone: 350 Hz with 440 Hz (US) or 450 Hz (UK), or 425 Hz alone (CEPT),
// each within the plans' 2 % plus measurement margin.
constexpr double kDialLowMin = 350.0 * (1.0 - kPairTolerance), kDialLowMax = 350.0 * (1.0 + kPairTolerance);
constexpr double kDialHighMin = 440.0 * (1.0 - kPairTolerance), kDialHighMax = 450.0 * (1.0 + kPairTolerance);
constexpr double kDialSingleHz = 425.0;
constexpr double kDialSingleTolerance = 0.025;
// A tone stays present for the suppressor only while it keeps being steady.
constexpr int kPresentHoldBlocks = 3;
// Steady blocks needed to confirm a tone: each compares two phase steps,
// so three mean the tone held still over five windows (96..112 ms from its
// onset). Fewer let sustained vowels through as 350..480 Hz tones.
constexpr int kConfirmSteadyBlocks = 3;
// A new burst of the tone confirmed last (a cadence) needs one, if it comes
// within this time at the same frequencies.
constexpr double kRepeatWindowMs = 6000.0;
// Only a tone that was long and steady is remembered as a cadence's tone.
constexpr double kRememberMinMs = 150.0;
// A block continues a tone only near the frequencies it started with: a
// tone does not drift (speech does); a close pair's leakage makes honest
// estimates wobble by a few Hz.
constexpr double kSameToneShare = 0.01;
constexpr double kSameToneMinHz = 4.0;
constexpr double kSamePairHz = 9.0;

bool is_dial_pair(const BlockResult& r) {
  return r.components == 2 && r.freq_hz[0] >= kDialLowMin && r.freq_hz[0] <= kDialLowMax &&
         r.freq_hz[1] >= kDialHighMin && r.freq_hz[1] <= kDialHighMax;
}

double duration_ms(const Segment& s) { return double(s.end - s.start) / kSamplesPerMs; }

// Simple-tone codes: band-1 index within tone set 1, band-2 index or -1.
void tone_codes(int kind, int& code, int& code2) {
  code2 = -1;
  switch (kind) {
    case kLow:
      code = kBandLow;
      break;
    case kSitLow:
      code = kBandSitLow;
      break;
    case kSitMid:
      code = kBandSitMid;
      break;
    case kSitHigh:
      code = kBandSitHigh;
      break;
    case k620:
      code = kBand620;
      break;
    case kLowPlus620:
      code = kBandLow;
      code2 = kBand620;
      break;
    case kCng:
      code = kBandCng;
      break;
    case kCed:
      code = kBandCed;
      break;
    default:
      code = -1;
      break;
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
  if (config.patterns) {
    patterns_ = config.patterns;
    pattern_count_ = config.pattern_count;
  } else {
    patterns_ = default_repertoire(pattern_count_);
  }
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
  last_block_steady_ = false;
  history_count_ = 0;
  active_count_ = 0;
  recent_ = RecentTone{};
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
  if (r.stable) b.last_stable_block = index;
  if (r.measured && kind != kNoTone) {
    b.measured_count = r.components;
    for (int i = 0; i < r.components; ++i) b.measured_freq[i] = r.freq_hz[i];
  }
  if (r.stable && kind != kNoTone) {
    b.ref_count = r.components;
    for (int i = 0; i < r.components; ++i) b.ref_freq[i] = r.freq_hz[i];
  }
  if (kind != kNoTone) {
    b.level_sum = b.first_level = b.last_level = r.strongest_power;
    b.level_count = 1;
  }
  if (kind == kLow) {
    b.dial_pair_blocks = is_dial_pair(r) ? 1 : 0;
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
  if (r.measured && b.kind != kNoTone) {
    b.measured_count = r.components;
    for (int i = 0; i < r.components; ++i) b.measured_freq[i] = r.freq_hz[i];
  }
  if (r.stable) {
    ++b.stable_blocks;
    b.last_stable_block = index;
    if (b.ref_count == 0 && b.kind != kNoTone) {
      b.ref_count = r.components;
      for (int i = 0; i < r.components; ++i) b.ref_freq[i] = r.freq_hz[i];
    }
  }
  b.ms_sum += r.mean_square;
  ++b.ms_count;
  b.last_ms = r.mean_square;
  if (b.kind == kNoTone) return;
  b.level_sum += r.strongest_power;
  b.last_level = r.strongest_power;
  ++b.level_count;
  b.last_tone_power = r.power[0] + r.power[1];
  b.tone_power_sum += b.last_tone_power;
  ++b.tone_power_count;
  if (b.kind == kLow) {
    if (is_dial_pair(r)) ++b.dial_pair_blocks;
    ++b.low_blocks;
    if (r.components == 1 && r.stable) {
      b.single_freq_sum += r.freq_hz[0];
      ++b.single_count;
    }
  }
}

// A new burst of the last confirmed tone: the same kind, soon after, and a
// phase-measured frequency (possibly the first, from a partly filled
// window: a few Hz of bias allowed) at the remembered frequencies.
bool ToneTracker::repeats_recent(const Building& b) const {
  if (recent_.kind != b.kind || b.measured_count == 0 || b.measured_count != recent_.count) return false;
  if (b.start > recent_.end && double(b.start - recent_.end) > kRepeatWindowMs * kSamplesPerMs) return false;
  for (int i = 0; i < b.measured_count; ++i)
    if (std::fabs(b.measured_freq[i] - recent_.freq[i]) >
        std::max(kSameToneMinHz, kSameToneShare * recent_.freq[i]) + 5.0)
      return false;
  return true;
}

// Every component of the block lies near one of the tone's own (speech
// glides from one pitch to the next within a "kind"; a tone does not).
bool ToneTracker::same_tone(const Building& b, const BlockResult& r) {
  if (b.ref_count == 0) return true;
  const bool close_pair = b.ref_count == 2 && b.ref_freq[1] - b.ref_freq[0] < 100.0;
  for (int i = 0; i < r.components; ++i) {
    bool near = false;
    for (int j = 0; j < b.ref_count && !near; ++j) {
      // A coarse estimate (no phase history, e.g. after lost audio) is only
      // good to about a bin.
      const double allowed = !r.measured  ? kBinHz
                             : close_pair ? kSamePairHz
                                          : std::max(kSameToneMinHz, kSameToneShare * b.ref_freq[j]);
      near = std::fabs(r.freq_hz[i] - b.ref_freq[j]) <= allowed;
    }
    if (!near) return false;
  }
  return true;
}

bool ToneTracker::dial_like(const Building& b) const {
  if (b.kind != kLow || b.low_blocks == 0) return false;
  if (b.dial_pair_blocks * 2 >= b.low_blocks) return true;
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
  // Blocks at either end straddle the neighbouring tones' edges: leave them out.
  s.mean_square = b.ms_count >= 2 ? (b.ms_sum - b.last_ms) / (b.ms_count - 1) : 0.0;
  return s;
}

// Sub-block energy while the tone sounds (with whatever noise is under it).
// Over a whole burst the mean block energy is exact, even for a beating
// pair; early on, a block or two of it beats, and the components' power
// from the FFT (which does not, though it reads a close pair a little high)
// is the better guess.
double ToneTracker::reference_energy(const Building& b) const {
  double ms;
  if (b.ms_count >= 4)
    ms = (b.ms_sum - b.last_ms) / (b.ms_count - 1);
  else if (b.tone_power_count >= 2)
    ms = (b.tone_power_sum - b.last_tone_power) / (b.tone_power_count - 1);
  else if (b.tone_power_count == 1)
    ms = b.tone_power_sum;
  else
    ms = b.level_count > 0 ? b.level_sum / b.level_count : 0.0;
  return ms * kSubBlock;
}

// The first window that held the tone spans its first block and the one
// before; the tone may have begun earlier still if its first windows were
// misread.
void ToneTracker::keep_onset_energy(Building& b) const {
  b.onset_energy_count = 0;
  b.onset_region_start = block_start(b.first_block);
  bool started = false;
  for (std::int64_t i = b.first_block - (kOnsetBlocks - 1); i <= b.first_block; ++i) {
    const BlockInfo* blk = block(i);
    if (!blk) continue;
    if (!started) b.onset_region_start = blk->start;
    started = true;
    for (float v : blk->sub_energy) b.onset_energy[b.onset_energy_count++] = v;
  }
}

namespace {
// How many samples' worth of tone the sub-blocks e[0..n) hold, given the
// energy per sub-block while the tone sounds: the energy over the floor of
// the quieter side of the edge (noise), counted as a whole rather than
// sub-block by sub-block, because two-component tones beat and a 4 ms window
// can fall in a beat trough.
double tone_samples(const float* e, int n, double ref) {
  double floor = *std::min_element(e, e + n);
  if (floor > 0.3 * ref) floor = 0.0;  // no quiet side in the region
  if (ref <= floor) return 0.0;
  double energy = 0.0;
  for (int j = 0; j < n; ++j) energy += std::max(0.0, double(e[j]) - floor);
  return energy / (ref - floor) * kSubBlock;
}
}  // namespace

// The tone fills the end of its first block and perhaps part of the blocks
// before: count back as many samples as the tone energy there amounts to.
std::uint64_t ToneTracker::locate_onset(const Building& b) const {
  const std::uint64_t not_before = b.onset_not_before;
  const int n_all = b.onset_energy_count;
  if (n_all < kSubBlocks) return std::max(block_start(b.first_block), not_before);
  const std::uint64_t end = b.onset_region_start + std::uint64_t(n_all) * kSubBlock;
  int skip = 0;  // leading sub-blocks before the limit
  while (skip < n_all - 1 && b.onset_region_start + std::uint64_t(skip) * kSubBlock < not_before) ++skip;
  const int n = n_all - skip;
  const double samples = std::min(tone_samples(b.onset_energy + skip, n, reference_energy(b)), double(n * kSubBlock));
  return end - std::uint64_t(std::llround(samples));
}

// The last window that held the tone spans its last block and the one
// before; the tone may have lasted into the block after.
std::uint64_t ToneTracker::locate_offset(const Building& b, std::uint64_t not_after) const {
  float e[3 * kSubBlocks] = {};
  int n = 0;
  std::uint64_t region_start = 0;
  for (std::int64_t i = b.last_block - 1; i <= b.last_block + 1; ++i) {
    const BlockInfo* blk = block(i);
    if (!blk) continue;
    if (n == 0) region_start = blk->start;
    for (int s = 0; s < kSubBlocks; ++s)
      if (blk->start + std::uint64_t(s + 1) * kSubBlock <= not_after || n == 0) e[n++] = blk->sub_energy[s];
  }
  if (n == 0) return block_end(b.last_block);
  const double samples = std::min(tone_samples(e, n, reference_energy(b)), double(n * kSubBlock));
  return std::max(b.start, region_start + std::uint64_t(std::llround(samples)));
}

// Middle of the quietest 4 ms between two tones: where one's edge search
// stops and the other's starts.
std::uint64_t ToneTracker::quietest_between(std::int64_t first_block, std::int64_t last_block) const {
  std::uint64_t at = block_start(first_block);
  float least = 1e30f;
  for (std::int64_t i = first_block; i <= last_block; ++i) {
    const BlockInfo* blk = block(i);
    if (!blk) continue;
    for (int s = 0; s < kSubBlocks; ++s)
      if (blk->sub_energy[s] < least) {
        least = blk->sub_energy[s];
        at = blk->start + std::uint64_t(s) * kSubBlock + kSubBlock / 2;
      }
  }
  return at;
}

// One tone straight after another: a window across the change holds a
// fragment of each, with amplitudes in proportion to their lengths. Returns
// false when no window between them shows both.
bool ToneTracker::split_change(const Building& a, const Building& b, std::uint64_t& at) const {
  if (a.ref_count == 0 || b.measured_count == 0) return false;
  const double amp_a = std::sqrt(std::max(1e-20, tone_level(a))), amp_b = std::sqrt(std::max(1e-20, tone_level(b)));
  double sum = 0.0;
  int count = 0;
  for (std::int64_t j = a.last_block + 1; j < b.first_block; ++j) {
    const BlockInfo* w = block(j);
    if (!w || w->components != 2) continue;
    double pa = -1.0, pb = -1.0;
    for (int c = 0; c < 2; ++c) {
      const double f = w->freq_hz[c];
      for (int k = 0; k < a.ref_count; ++k)
        if (std::fabs(f - a.ref_freq[k]) < 2.0 * kBinHz) pa = w->power[c];
      for (int k = 0; k < b.measured_count; ++k)
        if (std::fabs(f - b.measured_freq[k]) < 2.0 * kBinHz) pb = w->power[c];
    }
    if (pa < 0.0 || pb < 0.0) continue;
    const double fa = std::sqrt(pa) / amp_a, fb = std::sqrt(pb) / amp_b;
    const double share_a = fa / (fa + fb);  // of the window, from its start
    sum += double(block_start(j) - kBlock) + share_a * kWindow;
    ++count;
  }
  if (count == 0) return false;
  at = std::uint64_t(std::llround(sum / count));
  return true;
}

void ToneTracker::on_block(const BlockResult& r, std::uint64_t start, std::vector<ToneEvent>& events) {
  const std::int64_t index = next_index_++;
  BlockInfo& info = ring_[index % kRing];
  info.index = index;
  info.start = start;
  for (int s = 0; s < kSubBlocks; ++s) info.sub_energy[s] = r.sub_energy[s];
  info.components = r.components;
  for (int i = 0; i < 2; ++i) {
    info.freq_hz[i] = float(r.freq_hz[i]);
    info.power[i] = float(r.power[i]);
  }
  last_block_kind_ = r.kind;
  last_block_steady_ = r.stable;

  int kind = r.kind;
  // The same kind at other frequencies is another sound, not this tone.
  if (kind != kNoTone && kind == current_.kind && !same_tone(current_, r)) kind = kNoTone;
  if (kind != kNoTone && kind == pending_.kind && !same_tone(pending_, r)) kind = kNoTone;
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
  } else if (old.kind == kNoTone || !old.qualified) {
    // From silence, or from a tone never confirmed (often the new tone's own
    // first windows, misread): find the onset in the energy.
    keep_onset_energy(next);
    next_start = std::max(locate_onset(next), old.kind == kNoTone ? std::uint64_t(0) : old.start);
    old_end = next_start;
  } else {
    const std::int64_t junk = next.first_block - old.last_block - 1;
    // A short pause between the tones (SIT allows up to 32 ms) shows as a dip
    // in the energy; without one, the tones follow each other directly.
    const std::uint64_t middle = quietest_between(old.last_block, next.first_block - 1);
    const BlockInfo* dip = block(old.last_block + std::int64_t((middle - block_start(old.last_block)) / kBlock));
    const double dip_energy = dip ? dip->sub_energy[(middle - dip->start) / kSubBlock] : 0.0;
    const bool pause = dip_energy < 0.25 * std::min(reference_energy(old), reference_energy(next));
    std::uint64_t change = 0;
    if (!pause && junk <= 2 && split_change(old, next, change)) {
      old_end = next_start = change;
    } else if (!pause) {
      // A window is centred on the start of its newest block: the change
      // lies midway between the last window of one tone and the first of
      // the other.
      old_end = next_start = (block_start(old.last_block) + block_start(next.first_block)) / 2;
    } else {
      // A pause between them: each edge is searched on its own side of it.
      old_end = locate_offset(old, middle);
      keep_onset_energy(next);
      next.onset_not_before = middle;
      next_start = std::max(old_end, locate_onset(next));
      gap = true;
    }
    old_end = std::max(old_end, old.start);
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

void ToneTracker::emit_simple(const Building& b, bool is_end, std::uint64_t end, std::vector<ToneEvent>& events) const {
  ToneEvent e;
  e.type = RecognitionType::tone;
  if (config_.tone_set)
    config_.tone_set->codes(b.kind, e.code, e.code2);
  else
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
  if (current_.blocks < 2) return;
  if (current_.stable_blocks < kConfirmSteadyBlocks && !repeats_recent(current_)) return;
  // The newest window spans two blocks; count the tone only to the middle
  // of its newest block, so that a short tone is not credited too long.
  const std::uint64_t end = block_start(current_.last_block) + kBlock / 2;
  if (end < current_.start || double(end - current_.start) < config_.min_duration_ms * kSamplesPerMs) return;
  current_.qualified = true;
  if (config_.report_simple_tones) emit_simple(current_, false, 0, events);
}

void ToneTracker::close_segment(const Building& closing, std::uint64_t end, std::vector<ToneEvent>& events) {
  Building b = closing;
  // Now that the whole tone has been seen, its level is known better than
  // when it began: place the onset again.
  if (b.kind != kNoTone && b.onset_energy_count > 0 && b.start_known) b.start = std::min(locate_onset(b), end);
  if (b.kind != kNoTone && b.qualified && config_.report_simple_tones) emit_simple(b, true, end, events);
  Segment s = snapshot(b, end);
  // A tone that was never confirmed, or was steady less than half of the
  // time (speech), is no tone for the cadence: it joins the silence.
  if (s.kind != kNoTone && (!b.qualified || 2 * b.stable_blocks < b.blocks)) s.kind = kNoTone;
  if (s.kind != kNoTone && b.ref_count > 0 && duration_ms(s) >= kRememberMinMs &&
      10 * b.stable_blocks >= 7 * b.blocks) {
    recent_.kind = s.kind;
    recent_.count = b.ref_count;
    recent_.freq[0] = b.ref_freq[0];
    recent_.freq[1] = b.ref_freq[1];
    recent_.end = s.end;
  }
  push_history(s);
  if (!config_.report_cptones) return;
  // A pause is judged whole: silence closed after silence (an unconfirmed
  // fragment between them) was merged into it.
  if (s.kind == kNoTone) s = history_[history_count_ - 1];
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
  if (s.kind == kNoTone && history_count_ > 0) {
    Segment& last = history_[history_count_ - 1];
    if (last.kind == kNoTone && last.end >= s.start) {
      const double a = double(last.end - last.start), b = double(s.end - s.start);
      if (a + b > 0.0) last.mean_square = (last.mean_square * a + s.mean_square * b) / (a + b);
      last.end = std::max(last.end, s.end);
      return;
    }
  }
  if (history_count_ == kHistory) {
    for (int i = 1; i < kHistory; ++i) history_[i - 1] = history_[i];
    --history_count_;
  }
  history_[history_count_++] = s;
}

void ToneTracker::check_ongoing(std::vector<ToneEvent>& events) {
  if (current_.kind == kNoTone && active_count_ == 0) return;
  const std::uint64_t end = current_.kind == kNoTone ? block_end(next_index_ - 1) : block_end(current_.last_block);
  Segment s = snapshot(current_, end);
  // Ongoing silence continues the pause already in the history, if any.
  if (s.kind == kNoTone && history_count_ > 0) {
    const Segment& last = history_[history_count_ - 1];
    if (last.kind == kNoTone && last.end >= s.start) {
      const double a = double(last.end - last.start), b = double(s.end - s.start);
      if (a + b > 0.0) s.mean_square = (last.mean_square * a + s.mean_square * b) / (a + b);
      s.start = last.start;
      s.start_known = last.start_known;
    }
  }
  // A tone not (yet) confirmed, or mostly unsteady, is judged when it ends.
  const bool confirmed =
      current_.kind == kNoTone || (current_.qualified && 2 * current_.stable_blocks >= current_.blocks);
  if (!confirmed) return;
  for (int i = 0; i < active_count_;) {
    if (fits_active(active_[i], s, true)) {
      if (s.kind != kNoTone) active_[i].last_tone_end = s.end;
      ++i;
    } else {
      end_active(i, events);
    }
  }
  if (current_.kind != kNoTone) try_patterns(s, true, events);
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
      if (!kind_matches(st, s)) continue;
      if (st.kind == StateKind::silence && s.mean_square > quiet_threshold(a.level_power) && ms >= 80.0) continue;
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

void ToneTracker::end_all(std::vector<ToneEvent>& events) {
  while (active_count_ > 0) end_active(0, events);
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
  return current_.kind != kNoTone && current_.qualified &&
         next_index_ - 1 - current_.last_stable_block <= kPresentHoldBlocks;
}

// A steady tone of the set in the newest block, or a tone being followed
// that has been steady, which is not (or no longer) confirmed present.
bool ToneTracker::tone_candidate() const noexcept {
  if (tone_present()) return false;
  if (last_block_kind_ != kNoTone && last_block_steady_) return true;
  return current_.kind != kNoTone && current_.stable_blocks > 0 &&
         next_index_ - 1 - current_.last_stable_block <= kPresentHoldBlocks;
}

}  // namespace prosody::tones::cp
