// tones.hpp - tone detection and suppression as a standalone C++ object.
//
// The same detector runs inside a module on every channel that listens for
// tones (sm_listen_for), and stands alone for applications and for the
// prosodytonesuppress element. It accepts any module rate (8, 16, 32 or
// 48 kHz) and analyses at 8 kHz internally.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "prosody.hpp"

namespace prosody {

namespace tones::cp {
struct ToneSetSpec;
struct CadencePattern;
}  // namespace tones::cp

// One detector report. A tone produces a start event when it is confirmed
// and an end event when it ends; consumers pick what the report mode asks.
struct ToneEvent {
  RecognitionType type = RecognitionType::nothing;  // digit, tone, cptone, ans or beep
  // digit: the character '0'..'9', '*', '#', 'A'..'D';
  // cptone: the Prosody call-progress id (1..255; 6 = fax CNG, 7 = fax CED);
  // tone: the band-1 frequency index of the active tone set;
  // ans: the kind (1 ANS, 2 /ANS, 3 ANSam, 4 /ANSam); beep: its frequency in Hz.
  int code = 0;
  int code2 = 0;  // tone: the band-2 index; ans: ms from the onset to the report; beep: duration in ms
  bool is_end = false;
  std::uint64_t start_sample = 0;  // onset, in input samples since construction/reset
  std::uint64_t end_sample = 0;    // end events: first sample after the tone
  std::uint32_t duration_ms = 0;   // end events
  double level_dbm0 = -100.0;      // level of the strongest component
};

// DTMF digit character for a GStreamer dtmf-event number (0-15) and back.
char dtmf_number_to_char(int number) noexcept;  // 10='*', 11='#', 12..15='A'..'D'; '\0' if invalid
int dtmf_char_to_number(char digit) noexcept;   // -1 if not a DTMF character

// Name of a call-progress or fax tone of the default Prosody repertoire, by
// its id ("busy", "ring", "fax-ced", ...; "unknown" for any other id). The
// elements' prosody-tone messages carry these names.
const char* cptone_name(int id) noexcept;

// Detects tones on a stream and removes the ones it detects.
//
// process() runs detection on the undelayed input and writes the output: the
// input delayed by the look-ahead (ListenSettings::lookahead_us), multiplied
// by the suppression gain (ramped, so no clicks). With suppression off the
// output is the delayed input unchanged.
class ToneSuppressor {
 public:
  ToneSuppressor(unsigned sample_rate, const ListenSettings& settings);
  ~ToneSuppressor();
  ToneSuppressor(ToneSuppressor&&) noexcept;
  ToneSuppressor& operator=(ToneSuppressor&&) noexcept;

  // Change settings while running; detection state is kept where it can be.
  void configure(const ListenSettings& settings);
  const ListenSettings& settings() const noexcept;
  // A module's own input tone tables (sm_add_input_tone_set,
  // sm_add_input_cptone): the tone set call-progress detection analyses
  // instead of tone set 1, and the call-progress repertoire instead of
  // Prosody's default (null: those).
  struct CallProgressTables {
    std::shared_ptr<const tones::cp::ToneSetSpec> tone_set;
    std::shared_ptr<const std::vector<tones::cp::CadencePattern>> repertoire;
    bool operator==(const CallProgressTables& o) const { return tone_set == o.tone_set && repertoire == o.repertoire; }
  };
  void set_call_progress_tables(const CallProgressTables& tables);
  const CallProgressTables& call_progress_tables() const noexcept;
  unsigned sample_rate() const noexcept;

  // in and out may be the same buffer. Events found in this block are
  // appended to events.
  void process(const float* in, float* out, std::size_t n, std::vector<ToneEvent>& events);

  // n samples were lost (packet loss, gap): advance the timeline without
  // audio. A digit in progress is neither lost nor duplicated across a gap
  // shorter than the interruption the standard bridges.
  void conceal(std::size_t n, std::vector<ToneEvent>& events);
  // The same, also writing the n output samples that fall due meanwhile:
  // with a look-ahead those are the delayed input from before the loss
  // (then silence for the lost span), so nothing is dropped from the output.
  void conceal(std::size_t n, float* out, std::vector<ToneEvent>& events);

  // Forget all detection state (a new stream).
  void reset();

  // The stream ends: every tone in progress gets its end event, as if the
  // line had gone quiet here (silence for the look-ahead plus 100 ms, then
  // any call-progress tone still active ends at its last burst). tail, if
  // not null, receives the latency_samples() output samples still held by
  // the look-ahead. Then detection starts afresh, as after reset().
  void finish(float* tail, std::vector<ToneEvent>& events);

  // Delay of the output against the input, in samples.
  std::size_t latency_samples() const noexcept;
  // True while a tone is being removed.
  bool suppressing() const noexcept;
  // True if the last process() call wrote its input out unchanged (no
  // look-ahead, no gain below one): a caller converting formats can then
  // leave its own buffer as it was.
  bool last_block_unchanged() const noexcept;
  std::uint64_t samples_processed() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prosody
