// cptone_detector.hpp - call-progress and fax tone detection (Prosody tone
// set 1 and the default call-progress repertoire), at 8 kHz.
//
// Contract between the call-progress detector and the ToneSuppressor, which
// owns rate conversion and feeds this detector 8 kHz samples.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "prosody/tones.hpp"
#include "repertoire.hpp"
#include "tone_set.hpp"

namespace prosody::tones {

struct CallProgressConfig {
  // Report simple tones of tone set 1 (frequency ids 8..14 of the pre-loaded
  // table) as RecognitionType::tone events, code = band-1 index within set 1.
  bool report_simple_tones = false;
  // Report cadence-matched call-progress tones as RecognitionType::cptone
  // events with the Prosody id (1 unobtainable, 2 busy, 3 path engaged,
  // 4 ring, 5 SIT, 6 fax CNG, 7 fax CED, 8 dial, 9 reorder, 11 US intercept).
  bool report_cptones = false;
  // Minimum on-time of a simple tone before it is reported, in ms (0, 40, 64).
  unsigned min_duration_ms = 0;
  // A user tone set (sm_add_input_tone_set) analysed instead of tone set 1:
  // simple tones report its indices, cadence states name its tones.
  std::shared_ptr<const cp::ToneSetSpec> tone_set;
  // A call-progress repertoire (sm_add_input_cptone) instead of Prosody's
  // default one.
  std::shared_ptr<const std::vector<cp::CadencePattern>> repertoire;
};

class CallProgressDetector {
 public:
  explicit CallProgressDetector(const CallProgressConfig& config = {});
  ~CallProgressDetector();
  CallProgressDetector(CallProgressDetector&&) noexcept;
  CallProgressDetector& operator=(CallProgressDetector&&) noexcept;

  void configure(const CallProgressConfig& config);

  // x: n samples at 8 kHz, full scale +/-1.0. first_sample: the 8 kHz sample
  // index of x[0] since the stream began (event times use this timeline).
  void process(const float* x, std::size_t n, std::uint64_t first_sample, std::vector<ToneEvent>& events);
  // n samples at 8 kHz were lost: advance time without audio.
  void conceal(std::size_t n, std::uint64_t first_sample, std::vector<ToneEvent>& events);
  void reset();
  // The stream ends: active call-progress tones end at their last burst
  // (feed some silence first, so that a burst in progress closes).
  void end_all(std::vector<ToneEvent>& events);

  // A tone component of the active set is present now (confirmed): used by
  // the suppressor to remove call-progress and fax tones from a conference.
  bool tone_present() const noexcept;
  // A component looks present but is not yet confirmed (speculative
  // suppression may start on this).
  bool tone_candidate() const noexcept;

 private:
  struct Impl;
  Impl* impl_ = nullptr;
};

}  // namespace prosody::tones
