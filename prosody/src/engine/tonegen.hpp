// tonegen.hpp - tone and digit generation on an output half (sm_play_tone,
// sm_play_cptone, sm_play_digits, sm_play_tone_list): the module's output
// tone table, the job a channel's output runs, and the pure functions that
// turn a request into the job's program of segments.
//
// Every kind of request becomes one job: a program of segments (a stretch of
// one or two sines, or of silence) played once or looped and cut at a total
// length, or, for a tone list, segments the application keeps appending
// through a ring while the job plays.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "dsp/tonegen.hpp"
#include "engine/ring.hpp"
#include "prosody/prosody.hpp"

namespace prosody::detail {

// Ranges of sm_add_output_freq (and of tone-list components).
constexpr double kMinOutputFreqHz = 150.0;
constexpr double kMaxOutputFreqHz = 3600.0;
constexpr double kMinOutputLevelDbm0 = -35.0;
constexpr double kMaxOutputLevelDbm0 = 3.0;
// Longest cadence or item: durations travel as ms x 8 in 31 bits on Prosody.
constexpr std::uint32_t kMaxToneMs = 0x7fffffffu / 8;
constexpr std::uint32_t kDefaultDigitMs = 100;  // on and off, when 0 is given
constexpr std::size_t kMaxDigits = 32;
constexpr std::size_t kMaxCadences = 8;
// Tone-list items the job holds ahead of what it plays.
constexpr std::size_t kToneListCapacity = 64;

// The module's output tone repertoire: component frequencies (id 0 is
// silence) and tones made of two components. Preloaded as Prosody's
// (prospapi_outtones); sm_add_output_freq / sm_add_output_tone append.
class OutputToneTable {
 public:
  OutputToneTable();
  Errc add_frequency(double freq_hz, double level_dbm0, int& id);
  Errc add_tone(int component1, int component2, int& id);
  bool has_tone(int tone_id) const { return tone_id >= 0 && std::size_t(tone_id) < tones_.size(); }
  // The two sines of a tone at its components' levels.
  dsp::ToneSpec spec(int tone_id) const;
  int tone_count() const { return static_cast<int>(tones_.size()); }

 private:
  struct Frequency {
    double hz;
    double dbm0;
  };
  struct Pair {
    int c1, c2;
  };
  std::vector<Frequency> freqs_;
  std::vector<Pair> tones_;
};

// The preloaded tone id of a DTMF digit ('0'..'9', 'A'..'D' or 'a'..'d',
// '*', '#'), or -1.
int digit_tone_id(char digit);

enum class ToneJobKind { tone, cptone, digits, list };
constexpr unsigned tone_kind_bit(ToneJobKind k) { return 1u << static_cast<unsigned>(k); }
constexpr unsigned kAnyToneJob = 0xFu;

struct ToneSegment {
  std::uint64_t samples = 0;  // in the list ring, 0 is the Stop item
  dsp::ToneSpec spec;
};

struct ToneJob {
  explicit ToneJob(ToneJobKind k, std::size_t list_capacity = 0) : kind(k), items(list_capacity) {}
  const ToneJobKind kind;
  // A fixed program (every kind but the list), immutable once the job runs.
  std::vector<ToneSegment> program;
  bool repeat = false;
  std::uint64_t limit = 0;  // total samples (0: no limit): a repeat cut mid-cadence
  // A tone list: segments appended by the application (one producer at a
  // time, under the control lock), consumed by the processing path.
  SpscRing<ToneSegment> items;
  std::atomic<bool> stop_queued{false};
  std::atomic<std::uint64_t> reverse_period{0};  // samples between phase reversals; 0: none

  std::atomic<bool> underrun{false};  // a list ran dry before its Stop: reported once, then cleared
  std::atomic<bool> finished{false};  // played to the end, or aborted
  std::atomic<bool> abort_requested{false};
  std::atomic<std::uint64_t> samples_played{0};
};

// What the job's channel reports through its write event and status.
bool tone_job_needs_service(const ToneJob& job);
ToneJobState tone_job_state(ToneJob& job);  // clears a reported underrun

// -- Building programs (pure: the table and the request in, the job out).

// Cadences of a call-progress tone as sm_play_cptone plays them (also
// sm_play_tone: continuous; sm_play_digits: one shot), any number of them.
// duration_ms: 0 plays forever (continuous, repeat) and is ignored for a one
// shot.
Errc build_cadence_program(const OutputToneTable& table, unsigned rate, CPToneType type, const ToneCadence* cadences,
                           std::size_t count, std::uint32_t duration_ms, ToneJob& job);
// A digit string as cadences (on_ms/off_ms 0: the 100 ms defaults).
Errc digit_cadences(const std::string& digits, std::uint32_t on_ms, std::uint32_t off_ms,
                    std::vector<ToneCadence>& out);
// One tone-list item as a segment (Stop: samples 0).
Errc tone_item_segment(const ToneItem& item, unsigned rate, ToneSegment& out);

// The processing path's side of a job (per output, in the runtime).
struct ToneRt {
  std::shared_ptr<ToneJob> job;
  std::size_t next = 0;    // program index of the next segment
  std::uint64_t left = 0;  // samples left of the current segment
  ToneSegment current;
  dsp::ToneOscillator osc;
  bool sounding = false;  // the last sample written was a tone (phase continues)
  std::uint64_t since_reversal = 0;
  float sign = 1.0f;
};

// Writes the job's next n samples into y (silence once it has finished) and
// advances it; sets the job's finished and underrun flags.
void render_tone_job(ToneRt& t, unsigned rate, float* y, std::size_t n);

}  // namespace prosody::detail
