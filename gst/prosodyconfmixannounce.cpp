/* prosodyconfmixannounce.cpp - announcements: tones and digits played to
 * one party or to every party, mixed under the conference, as bridges play
 * join and leave tones.
 *
 * Each target (a party index, or -1 for everyone) has an Announcer: a
 * generator output channel whose datafeed feeds an input channel attached
 * to the conference and added to the target's output only (or to every
 * output). The action signals start a tone job on the generator; the mixing
 * task posts a prosody-announcement message in the frame the job ends.
 */
#include <tuple>

#include "prosodyconfmixprivate.h"

using prosody_gst::Announcer;
using prosody_gst::Inner;
using prosody_gst::Party;

namespace {

bool hears_announcer(const Announcer& a, const Party& p) { return a.target < 0 || guint(a.target) == p.index; }

/* The announcer for target, created on first use. Lock held; throws
 * prosody::Error. */
Announcer& announcer_for(Inner& in, gint target) {
  auto& slot = in.announcers[target];
  if (slot) return *slot;
  auto a = std::make_unique<Announcer>();
  a->target = target;
  a->generator = in.module.allocate(prosody::ChannelType::output);
  a->voice = in.module.allocate(prosody::ChannelType::input);
  a->voice.connect_input(a->generator.datafeed());
  a->voice.conf_attach();
  a->voice.conf_set_gating(false); /* heard whether or not it "talks" */
  for (auto& kv : in.parties)
    if (kv.second->output_started && hears_announcer(*a, *kv.second)) kv.second->channel.conf_add(a->voice);
  slot = std::move(a);
  return *slot;
}

/* Runs start(announcer) for target: FALSE (with a warning) if there is no
 * module yet, no such party, an announcement to it is playing, or the
 * module refuses the job. */
template <class Start>
gboolean announce(ProsodyConfMix* self, gint target, const char* kind, Start&& start) {
  Inner& in = *self->inner;
  std::lock_guard<std::mutex> lock(in.lock);
  if (!in.module) {
    GST_WARNING_OBJECT(self, "no announcement before the rate is known (caps or the rate property)");
    return FALSE;
  }
  if (target >= 0 && in.parties.find(guint(target)) == in.parties.end()) {
    GST_WARNING_OBJECT(self, "no party %d to announce to", target);
    return FALSE;
  }
  try {
    Announcer& a = announcer_for(in, target);
    if (a.playing) {
      GST_WARNING_OBJECT(self, "an announcement to %d is still playing", target);
      return FALSE;
    }
    start(in, a);
    a.playing = true;
    a.kind = kind;
  } catch (const std::exception& e) {
    GST_WARNING_OBJECT(self, "announcement refused: %s", e.what());
    return FALSE;
  }
  return TRUE;
}

gboolean play_digits(ProsodyConfMix* self, gint target, const gchar* digits, guint on_ms, guint off_ms) {
  if (!digits) return FALSE;
  const std::string text(digits);
  return announce(self, target, "digits", [&](Inner&, Announcer& a) { a.generator.play_digits(text, on_ms, off_ms); });
}

gboolean play_tone(ProsodyConfMix* self, gint target, gdouble freq1_hz, gdouble freq2_hz, gdouble level_dbm0,
                   guint duration_ms) {
  if (duration_ms == 0) {
    GST_WARNING_OBJECT(self, "play-tone needs a duration");
    return FALSE;
  }
  return announce(self, target, "tone", [&](Inner& in, Announcer& a) {
    /* The module's tone table only grows: a tone asked for again is reused. */
    const auto key = std::make_tuple(freq1_hz, freq2_hz, level_dbm0);
    auto it = in.announce_tones.find(key);
    if (it == in.announce_tones.end()) {
      const int c1 = in.module.add_output_freq(freq1_hz, level_dbm0);
      const int c2 = freq2_hz > 0.0 ? in.module.add_output_freq(freq2_hz, level_dbm0) : 0;
      it = in.announce_tones.emplace(key, in.module.add_output_tone(c1, c2)).first;
    }
    a.generator.play_tone(it->second, duration_ms);
  });
}

}  // namespace

void prosody_conf_mix_install_announce_signals(GObjectClass* klass) {
  const auto flags = static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION);
  /**
   * ProsodyConfMix::play-digits:
   * @party: the party index N of sink_N/src_N, or -1 for every party
   * @digits: DTMF digits '0'-'9', '*', '#', 'A'-'D' (at most 32)
   * @on_ms: length of each digit (0: 100 ms); @off_ms: pause after it (0: 100 ms)
   *
   * Returns: whether the digits started.
   */
  g_signal_new_class_handler("play-digits", G_TYPE_FROM_CLASS(klass), flags, G_CALLBACK(play_digits), nullptr, nullptr,
                             nullptr, G_TYPE_BOOLEAN, 4, G_TYPE_INT, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_UINT);
  /**
   * ProsodyConfMix::play-tone:
   * @party: the party index, or -1 for every party
   * @freq1: Hz (150-3600); @freq2: Hz, or 0 for a single frequency
   * @level: dBm0 of each frequency (-35 to +3)
   * @duration_ms: how long (at least 1 ms)
   *
   * Returns: whether the tone started.
   */
  g_signal_new_class_handler("play-tone", G_TYPE_FROM_CLASS(klass), flags, G_CALLBACK(play_tone), nullptr, nullptr,
                             nullptr, G_TYPE_BOOLEAN, 5, G_TYPE_INT, G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_DOUBLE,
                             G_TYPE_UINT);
}

void prosody_conf_mix_announce_to_new_output(Inner& in, Party& p) {
  for (auto& kv : in.announcers)
    if (hears_announcer(*kv.second, p)) p.channel.conf_add(kv.second->voice);
}

void prosody_conf_mix_collect_announcements(ProsodyConfMix* self, Inner& in, std::vector<GstMessage*>& out) {
  for (auto& kv : in.announcers) {
    Announcer& a = *kv.second;
    if (!a.playing) continue;
    try {
      if (a.generator.tone_status() != prosody::ToneJobState::complete) continue;
    } catch (const std::exception& e) {
      prosody_conf_mix_report_error(self, "reading an announcement's status", e);
    }
    a.playing = false;
    const GstClockTime end = in.pos_to_time(in.position);
    GstStructure* s = gst_structure_new("prosody-announcement", "party", G_TYPE_INT, a.target, "kind", G_TYPE_STRING,
                                        a.kind, "running-time", G_TYPE_UINT64, (guint64)end, nullptr);
    out.push_back(gst_message_new_element(GST_OBJECT(self), s));
  }
}
