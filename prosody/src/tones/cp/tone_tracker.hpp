// tone_tracker.hpp - turns per-block classifications into tone segments
// (with edges located to a few ms), simple-tone events, and cadence-matched
// call-progress events.
#pragma once

#include <cstdint>
#include <vector>

#include "block_analyser.hpp"
#include "prosody/tones.hpp"
#include "repertoire.hpp"

namespace prosody::tones::cp {

// Blocks searched for a tone's onset, ending with the first block whose
// window held the tone: a pair's first windows (partial, biased) often read
// as something else, so the onset can lie three blocks earlier.
constexpr int kOnsetBlocks = 4;

struct TrackerConfig {
  bool report_simple_tones = false;
  bool report_cptones = false;
  unsigned min_duration_ms = 0;
  int cadence_tolerance_ms = 16;  // half of Prosody's 32 ms cadence quantum
  // A user tone set (the blocks' kinds are its tones), or null for tone set 1.
  const ToneSetSpec* tone_set = nullptr;
  // The call-progress repertoire, or null for Prosody's default. Both must
  // outlive the tracker's use of them.
  const CadencePattern* patterns = nullptr;
  int pattern_count = 0;
};

class ToneTracker {
 public:
  ToneTracker();
  void configure(const TrackerConfig& config) noexcept;
  void reset(std::uint64_t stream_start) noexcept;

  // One block of kBlock samples starting at block_start (timeline samples).
  void on_block(const BlockResult& r, std::uint64_t block_start, std::vector<ToneEvent>& events);

  // The stream ends: every call-progress tone still active (its cadence
  // could have gone on after a long pause) ends at its last burst.
  void end_all(std::vector<ToneEvent>& events);

  // The tone kind being followed (for the analyser's level hysteresis).
  int held_kind() const noexcept { return current_.kind; }
  bool tone_present() const noexcept;
  bool tone_candidate() const noexcept;

 private:
  // A segment under construction.
  struct Building {
    int kind = kNoTone;
    std::int64_t first_block = 0;
    std::int64_t last_block = -1;
    int blocks = 0;
    int stable_blocks = 0;
    std::int64_t last_stable_block = -100;
    bool qualified = false;  // simple tone confirmed (start event due/sent)
    bool start_known = true;
    std::uint64_t start = 0;
    double level_sum = 0.0;  // strongest component power, summed over blocks
    int level_count = 0;
    double first_level = 0.0, last_level = 0.0;  // edge blocks are usually partial
    double ms_sum = 0.0;                         // block mean square after the first block (edge reference)
    int ms_count = 0;
    double last_ms = 0.0;  // mean square of the newest block (may be partial)
    // The tone's own power (its components, from the FFT: unlike the block
    // energy it does not beat), after the first block; and the newest.
    double tone_power_sum = 0.0;
    int tone_power_count = 0;
    double last_tone_power = 0.0;
    // Sub-block energies around the onset (the first window's two blocks and
    // the two before), kept so the onset can be located again at the end
    // with a better reference level.
    float onset_energy[kOnsetBlocks * kSubBlocks] = {};
    int onset_energy_count = 0;
    std::uint64_t onset_region_start = 0;
    std::uint64_t onset_not_before = 0;  // a tone just before: search after it
    int dial_pair_blocks = 0;            // dial evidence: 350 Hz with 440/450 Hz
    int ref_count = 0;                   // the tone's frequencies, from its first steady block
    double ref_freq[2] = {0.0, 0.0};
    int measured_count = 0;  // the newest phase-measured frequencies
    double measured_freq[2] = {0.0, 0.0};
    double single_freq_sum = 0.0;
    int single_count = 0;
    int low_blocks = 0;
  };
  struct BlockInfo {
    std::uint64_t start = 0;
    float sub_energy[kSubBlocks] = {};
    std::int64_t index = -1;
    int components = 0;  // the window's components, to split a change of tone
    float freq_hz[2] = {0.f, 0.f};
    float power[2] = {0.f, 0.f};
  };
  struct ActiveTone {
    int id = 0;
    std::uint64_t start = 0;
    std::uint64_t last_tone_end = 0;
    double level_power = 0.0;
  };
  static constexpr int kRing = 8;
  static constexpr int kHistory = 16;  // a user's cadence has up to 16 states
  static constexpr int kMaxActive = 4;
  // Dropouts up to 48 ms inside a tone are bridged: lost packets, and the
  // three windows a V.25 phase reversal disturbs. (The shortest silence in
  // the repertoire is 160 ms.)
  static constexpr int kBridgeBlocks = 3;

  static bool same_tone(const Building& b, const BlockResult& r);
  bool repeats_recent(const Building& b) const;
  void begin(Building& b, int kind, const BlockResult& r, std::int64_t index) const;
  void extend(Building& b, const BlockResult& r, std::int64_t index) const;
  void switch_to_pending(std::vector<ToneEvent>& events);
  void end_tone_into_silence(std::vector<ToneEvent>& events);
  void close_segment(const Building& b, std::uint64_t end, std::vector<ToneEvent>& events);
  void open_segment(std::vector<ToneEvent>& events);
  void check_qualification(std::vector<ToneEvent>& events);
  void check_ongoing(std::vector<ToneEvent>& events);

  Segment snapshot(const Building& b, std::uint64_t end) const;
  static double tone_level(const Building& b);
  bool dial_like(const Building& b) const;
  double reference_energy(const Building& b) const;
  void keep_onset_energy(Building& b) const;
  // Edges from sub-block energies, using only sub-blocks inside [not_before, not_after).
  std::uint64_t locate_onset(const Building& b) const;
  std::uint64_t locate_offset(const Building& b, std::uint64_t not_after = UINT64_MAX) const;
  std::uint64_t quietest_between(std::int64_t first_block, std::int64_t last_block) const;
  bool split_change(const Building& a, const Building& b, std::uint64_t& at) const;
  const BlockInfo* block(std::int64_t index) const;
  std::uint64_t block_start(std::int64_t index) const;
  std::uint64_t block_end(std::int64_t index) const { return block_start(index) + kBlock; }

  void push_history(const Segment& s);
  void try_patterns(const Segment& newest, bool ongoing, std::vector<ToneEvent>& events);
  bool fits_active(const ActiveTone& a, const Segment& s, bool ongoing) const;
  void end_active(int slot, std::vector<ToneEvent>& events);
  void emit_simple(const Building& b, bool is_end, std::uint64_t end, std::vector<ToneEvent>& events) const;

  TrackerConfig config_;
  const CadencePattern* patterns_ = nullptr;
  int pattern_count_ = 0;

  std::uint64_t stream_start_ = 0;
  std::int64_t next_index_ = 0;
  BlockInfo ring_[kRing];
  Building current_;
  Building pending_;
  int miss_ = 0;
  int last_block_kind_ = kNoTone;
  bool last_block_steady_ = false;

  // The last confirmed tone: a new burst of it needs less confirmation.
  struct RecentTone {
    int kind = kNoTone;
    int count = 0;
    double freq[2] = {0.0, 0.0};
    std::uint64_t end = 0;
  } recent_;

  Segment history_[kHistory];  // closed segments, oldest first
  int history_count_ = 0;
  ActiveTone active_[kMaxActive];
  int active_count_ = 0;
};

}  // namespace prosody::tones::cp
