// engine_tones.cpp - tone detection on a channel's input (sm_listen_for) and
// its recognition queue.
#include "engine/engine.hpp"

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
      break;
    case ListenPart::answer_tones:
      merged.answer_tones = s.answer_tones;
      break;
    case ListenPart::beeps:
      merged.beeps = s.beeps;
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
  std::shared_ptr<ChannelIo> io;
  const Errc e = with_channel(in, Half::input, [&](ChannelCtl& ch, ChannelKey) {
    if (s.enabled && !model_.input_tones().has_tone_set(s.tone_set)) return Errc::bad_parameter;
    const ListenSettings merged = merge_listen(ch.listen, s, part);
    ch.listening = merged.enabled || merged.cptone_recognition || merged.answer_tones || merged.beeps;
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
