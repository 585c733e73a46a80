// live_speaker.hpp - who answered a call: a live speaker or a machine
// (sm_catsig_listen_for), from the rhythm of the speech heard at 8 kHz.
//
// A person who answers says something short ("Hello?") and waits for the
// caller; a machine plays a greeting, long speech with only short gaps. The
// classifier marks each 10 ms block speech or silence by its level (over an
// absolute threshold and over a tracked noise floor), and after the first
// speech burst long enough to be speech it decides once:
//   live    - live_silence_ms of silence after at most max_live_speech_ms
//             of speech;
//   machine - more than max_live_speech_ms of speech before such a silence;
//             with the tone variant, also a beep or a modem answer tone.
// Silence alone never decides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../answer/answer_tones.hpp"
#include "block_power.hpp"
#include "prosody/tones.hpp"

namespace prosody::tones {

// What decided the category (ToneEvent::code of a catsig report).
enum class CatSigEvidence { speech = 0, beep = 1, answer_tone = 2 };
// The category (ToneEvent::code2), as Aculab's param1.
enum class CatSigCategory { machine = 0, live = 1 };

// Speech or silence of one block, by its level and the noise floor under
// it: pure, so the rule is testable on its own.
bool is_speech_block(double level_dbm0, double noise_floor_dbm0, double min_speech_dbm0) noexcept;

// Reports the category once, as a ToneEvent of type RecognitionType::catsig:
// code = CatSigEvidence, code2 = CatSigCategory, start_sample = the onset of
// the speech (or tone) that decided, duration_ms = ms from that onset to the
// decision, level_dbm0 = the speech's mean level (or the tone's).
class LiveSpeakerClassifier {
 public:
  static constexpr std::size_t kBlock = 80;  // 10 ms
  static constexpr double kBlockMs = 10.0;
  // The noise floor starts at the first block's level, follows quieter
  // blocks at once and rises by this much per block (5 dB a second):
  // steady noise is floor, speech (with its gaps) is not.
  static constexpr double kFloorRiseDb = 0.05;
  static constexpr double kSpeechOverFloorDb = 12.0;

  void configure(const LiveSpeakerSettings& settings, bool with_tones);
  void reset();
  void process(const float* x, std::size_t n, std::uint64_t first_sample, std::vector<ToneEvent>& events);
  bool decided() const noexcept { return decided_; }

 private:
  void block(double mean_square, std::uint64_t first, std::vector<ToneEvent>& events);
  void decide(CatSigEvidence why, CatSigCategory what, std::uint64_t onset, std::uint64_t now, double level,
              std::vector<ToneEvent>& events);
  void listen_for_tones(const float* x, std::size_t n, std::uint64_t first_sample, std::vector<ToneEvent>& events);

  LiveSpeakerSettings settings_;
  bool with_tones_ = false;
  AnswerToneDetector answer_;
  BeepDetector beep_;
  std::vector<ToneEvent> tone_events_;

  BlockPower<kBlock> power_;
  double noise_floor_dbm0_ = -200.0;
  bool first_block_ = true;  // sets the floor
  bool decided_ = false;
  // The current run of speech blocks (not yet an utterance while shorter
  // than min_speech_ms).
  std::size_t run_blocks_ = 0;
  std::uint64_t run_start_ = 0;
  double run_power_ = 0.0;
  // The utterance: from its first long-enough run to now.
  bool speaking_ = false;
  std::uint64_t onset_ = 0;
  std::size_t speech_blocks_ = 0, silent_blocks_ = 0;  // silent: since the last speech block
  double speech_power_ = 0.0;                          // sum of the speech blocks' mean squares
};

}  // namespace prosody::tones
