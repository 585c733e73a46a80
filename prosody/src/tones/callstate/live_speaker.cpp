// live_speaker.cpp - the live speaker / answering machine classifier.
#include "live_speaker.hpp"

#include <algorithm>
#include <cmath>

#include "../cp/cp_common.hpp"

namespace prosody::tones {

using cp::ms_to_dbm0;

bool is_speech_block(double level_dbm0, double noise_floor_dbm0, double min_speech_dbm0) noexcept {
  return level_dbm0 >= min_speech_dbm0 && level_dbm0 >= noise_floor_dbm0 + LiveSpeakerClassifier::kSpeechOverFloorDb;
}

void LiveSpeakerClassifier::configure(const LiveSpeakerSettings& settings, bool with_tones) {
  settings_ = settings;
  with_tones_ = with_tones;
  tone_events_.reserve(8);  // none on the audio path
}

void LiveSpeakerClassifier::reset() {
  answer_.reset();
  beep_.reset();
  power_.reset();
  noise_floor_dbm0_ = -200.0;
  first_block_ = true;
  decided_ = false;
  run_blocks_ = 0;
  run_power_ = 0.0;
  speaking_ = false;
  speech_blocks_ = silent_blocks_ = 0;
  speech_power_ = 0.0;
}

void LiveSpeakerClassifier::process(const float* x, std::size_t n, std::uint64_t first_sample,
                                    std::vector<ToneEvent>& events) {
  if (decided_) return;
  if (with_tones_) listen_for_tones(x, n, first_sample, events);
  power_.feed(x, n, first_sample, [&](double mean_square, std::uint64_t first) {
    if (!decided_) block(mean_square, first, events);
  });
}

void LiveSpeakerClassifier::listen_for_tones(const float* x, std::size_t n, std::uint64_t first_sample,
                                             std::vector<ToneEvent>& events) {
  tone_events_.clear();
  answer_.process(x, n, first_sample, tone_events_);
  beep_.process(x, n, first_sample, tone_events_);
  if (tone_events_.empty()) return;
  const ToneEvent& e = tone_events_.front();  // the first tone decides
  const bool beep = e.type == RecognitionType::beep;
  // A beep is known at its end; an answer tone code2 ms after its onset.
  const std::uint64_t now = beep ? e.end_sample : e.start_sample + std::uint64_t(e.code2) * 8;
  decide(beep ? CatSigEvidence::beep : CatSigEvidence::answer_tone, CatSigCategory::machine, e.start_sample, now,
         e.level_dbm0, events);
}

void LiveSpeakerClassifier::block(double mean_square, std::uint64_t first, std::vector<ToneEvent>& events) {
  const double level = ms_to_dbm0(mean_square);
  if (first_block_) {
    noise_floor_dbm0_ = level;  // the line as the job finds it
    first_block_ = false;
  }
  const bool speech = is_speech_block(level, noise_floor_dbm0_, settings_.min_speech_dbm0);
  noise_floor_dbm0_ = std::min(level, noise_floor_dbm0_ + kFloorRiseDb);
  const std::uint64_t end = first + kBlock;
  if (speech) {
    if (run_blocks_++ == 0) {
      run_start_ = first;
      run_power_ = 0.0;
    }
    run_power_ += mean_square;
  } else {
    run_blocks_ = 0;
  }

  if (!speaking_) {
    // An utterance starts with the first run long enough to be speech.
    if (run_blocks_ * kBlockMs < settings_.min_speech_ms) return;
    speaking_ = true;
    onset_ = run_start_;
    speech_blocks_ = run_blocks_;
    speech_power_ = run_power_;
    silent_blocks_ = 0;
  } else if (speech) {
    ++speech_blocks_;
    speech_power_ += mean_square;
    silent_blocks_ = 0;
  } else {
    ++silent_blocks_;
  }
  const double speech_ms = speech_blocks_ * kBlockMs;
  const double mean_level = ms_to_dbm0(speech_power_ / double(std::max<std::size_t>(1, speech_blocks_)));
  if (speech_ms > settings_.max_live_speech_ms) {
    decide(CatSigEvidence::speech, CatSigCategory::machine, onset_, end, mean_level, events);
  } else if (silent_blocks_ * kBlockMs >= settings_.live_silence_ms) {
    decide(CatSigEvidence::speech, CatSigCategory::live, onset_, end, mean_level, events);
  }
}

void LiveSpeakerClassifier::decide(CatSigEvidence why, CatSigCategory what, std::uint64_t onset, std::uint64_t now,
                                   double level, std::vector<ToneEvent>& events) {
  if (decided_) return;
  decided_ = true;
  ToneEvent e;
  e.type = RecognitionType::catsig;
  e.code = static_cast<int>(why);
  e.code2 = static_cast<int>(what);
  e.start_sample = onset;
  e.end_sample = now;
  e.duration_ms = static_cast<std::uint32_t>((now - std::min(now, onset)) / 8);
  e.level_dbm0 = level;
  events.push_back(e);
}

}  // namespace prosody::tones
