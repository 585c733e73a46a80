// engine_tones.cpp - tone detection on a channel's input (sm_listen_for) and
// its recognition queue.
#include "engine/engine.hpp"

namespace prosody {

bool live_speaker_settings_valid(const LiveSpeakerSettings& l) noexcept {
  return l.min_speech_dbm0 >= -80.0 && l.min_speech_dbm0 <= 0.0 && l.min_speech_ms >= 0.0 &&
         l.min_speech_ms <= 1000.0 && l.max_live_speech_ms >= 100.0 && l.max_live_speech_ms <= 60000.0 &&
         l.live_silence_ms >= 100.0 && l.live_silence_ms <= 10000.0;
}

bool onhook_settings_valid(const OnHookSettings& o) noexcept {
  return o.pre_pulse_max_dbm0 < o.pulse_min_dbm0 && o.post_pulse_floor_dbm0 < o.pulse_min_dbm0 &&
         o.pulse_min_dbm0 <= 3.14 && o.pre_pulse_max_dbm0 >= -100.0 && o.latitude_db <= 0.0 && o.latitude_db >= -40.0 &&
         o.count_ratio > 0.0 && o.total_ratio > 0.0 && o.max_duration_ms >= 1 && o.max_duration_ms <= 1000;
}

}  // namespace prosody

namespace prosody::detail {

namespace {

// The channel's settings with `part` of s in place of its own.
ListenSettings merge_listen(const ListenSettings& own, const ListenSettings& s, ListenPart part) {
  ListenSettings merged = own;
  switch (part) {
    case ListenPart::all:
      merged = s;
      break;
    case ListenPart::tones:
      merged = s;
      merged.answer_tones = own.answer_tones;
      merged.beeps = own.beeps;
      merged.catsig = own.catsig;
      merged.live_speaker = own.live_speaker;
      merged.catsig_start = own.catsig_start;
      merged.onhook = own.onhook;
      merged.onhook_settings = own.onhook_settings;
      break;
    case ListenPart::answer_tones:
      merged.answer_tones = s.answer_tones;
      break;
    case ListenPart::beeps:
      merged.beeps = s.beeps;
      break;
    case ListenPart::catsig:
      merged.catsig = s.catsig;
      merged.live_speaker = s.live_speaker;
      if (s.catsig != CatSigAlgorithm::none) ++merged.catsig_start;  // each start categorises afresh
      break;
    case ListenPart::onhook:
      merged.onhook = s.onhook;
      merged.onhook_settings = s.onhook_settings;
      break;
  }
  return merged;
}

}  // namespace

Errc Engine::listen_for(std::uintptr_t in, const ListenSettings& s, ListenPart part) {
  if (s.enabled) {
    if (s.lookahead_us > 16000) return Errc::bad_parameter;
    if (!(s.twist_normal_db >= 0.0 && s.twist_normal_db <= 20.0) ||
        !(s.twist_reverse_db >= 0.0 && s.twist_reverse_db <= 20.0))
      return Errc::bad_parameter;
  }
  const bool sets_catsig = part == ListenPart::all || part == ListenPart::catsig;
  const bool sets_onhook = part == ListenPart::all || part == ListenPart::onhook;
  if (sets_catsig && s.catsig != CatSigAlgorithm::none && !live_speaker_settings_valid(s.live_speaker))
    return Errc::bad_parameter;
  if (sets_onhook && s.onhook && !onhook_settings_valid(s.onhook_settings)) return Errc::bad_parameter;
  std::shared_ptr<ChannelIo> io;
  const Errc e = with_channel(in, Half::input, [&](ChannelCtl& ch, ChannelKey) {
    if (s.enabled && !model_.input_tones().has_tone_set(s.tone_set)) return Errc::bad_parameter;
    if (part == ListenPart::catsig && s.catsig == CatSigAlgorithm::none && ch.listen.catsig == CatSigAlgorithm::none)
      return Errc::wrong_channel_state;  // nothing to abort
    const ListenSettings merged = merge_listen(ch.listen, s, part);
    ch.listening = merged.enabled || merged.cptone_recognition || merged.answer_tones || merged.beeps ||
                   merged.catsig != CatSigAlgorithm::none || merged.onhook;
    ch.listen = merged;
    ch.io->listening = ch.listening;
    io = ch.io;
    changed();
    return Errc::ok;
  });
  if (e != Errc::ok) return e;
  refresh(*io, kRecognitionEvent);
  return Errc::ok;
}

Errc Engine::get_recognised(std::uintptr_t in, Recognition& result) {
  std::shared_ptr<ChannelIo> io;
  if (Errc e = shared_state(in, Half::input, io); e != Errc::ok) return e;
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    result = Recognition{};
    if (io->recognition_overrun.exchange(false)) {
      result.type = RecognitionType::overrun;
    } else {
      io->recognised.pop(result);
    }
  }
  refresh(*io, kRecognitionEvent);
  return Errc::ok;
}

Errc Engine::discard_recognised(std::uintptr_t in) {
  std::shared_ptr<ChannelIo> io;
  if (Errc e = shared_state(in, Half::input, io); e != Errc::ok) return e;
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    io->recognised.clear();
    io->recognition_overrun = false;
  }
  refresh(*io, kRecognitionEvent);
  return Errc::ok;
}

}  // namespace prosody::detail
