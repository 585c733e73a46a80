// input_tone_tables.hpp - a module's input tone tables: frequency
// coefficients (sm_add_input_freq_coeffs), tone sets (sm_add_input_tone_set,
// sm_adjust_input_tone_set) and the call-progress repertoire
// (sm_add_input_cptone, sm_reset_input_cptones).
//
// Control side only. What the detectors read are immutable snapshots
// (shared_ptr<const ...>), replaced whenever a table changes, so the
// processing thread never sees a table half-written.
#pragma once

#include <memory>
#include <vector>

#include "prosody/prosody.hpp"
#include "prosody/tones.hpp"
#include "tones/cp/repertoire.hpp"
#include "tones/cp/tone_set.hpp"

namespace prosody::detail {

// One state of a user call-progress tone, as sm_add_input_cptone takes it.
struct CPToneStateRequest {
  int freq_id = 0;  // 0: silence; k >= 1: tone k - 1 of the base tone set
  int max_ms = 0;
  int min_ms = 0;  // 0: the state is optional
};

enum class ToneSetParameter { third_peak, snr, min_power, twist, min_on_ms, min_off_ms, start_hz, stop_hz };

class InputToneTables {
 public:
  static constexpr int kPreloadedFrequencies = 15;  // ids 0..14
  static constexpr int kMaxFrequencies = 64;
  static constexpr int kFirstUserSet = 2;  // 0: DTMF, 1: call progress and fax
  static constexpr int kMaxToneSets = 32;
  static constexpr int kMaxUserCPTones = 64;
  static constexpr int kMaxSilenceMs = 2528;  // 0x4F x 32 ms

  InputToneTables();

  Errc add_frequency(double lower_hz, double upper_hz, int& id);
  Errc add_tone_set(int band1_first, int band1_count, int band2_first, int band2_count, double third_peak, double snr,
                    double min_power_dbm0, double twist_db, int& id);
  // Sets 0 and 1 run on dedicated detectors whose thresholds are fixed:
  // adjusting them is Errc::not_implemented.
  Errc adjust_tone_set(int set, ToneSetParameter parameter, double value);
  // states in reverse time order (newest first), as Prosody takes them.
  Errc add_cptone(int id, const std::vector<CPToneStateRequest>& states);
  Errc reset_cptones(int base_set);

  bool has_tone_set(int set) const { return set >= 0 && set < static_cast<int>(set_count()); }
  // A user tone set (null for sets 0 and 1, which have their own detectors).
  std::shared_ptr<const tones::cp::ToneSetSpec> tone_set(int set) const;
  int cptone_base_set() const noexcept { return cp_base_set_; }
  // The call-progress repertoire; null: Prosody's default.
  std::shared_ptr<const std::vector<tones::cp::CadencePattern>> repertoire() const { return repertoire_; }

  // What a channel's call-progress detection uses, listening with
  // active_set (sm_listen_for's active_tone_set_id): set 1 or a user set
  // analyses that set; DTMF (0) leaves the detector to call-progress tones
  // of the base set. The repertoire's states name tones of its base set,
  // so a detector analysing another set gets no call-progress tones.
  ToneSuppressor::CallProgressTables tables_for(int active_set) const;

 private:
  std::size_t set_count() const noexcept { return kFirstUserSet + user_sets_.size(); }
  // The block kinds of the base set that a state's freq_id may name.
  bool valid_tone_of_base(int freq_id) const;

  std::vector<tones::cp::FrequencyRange> frequencies_;
  std::vector<std::shared_ptr<const tones::cp::ToneSetSpec>> user_sets_;  // set kFirstUserSet + i
  int cp_base_set_ = 1;                                                   // never 0: DTMF has no cadences
  int user_cptone_count_ = 0;
  std::shared_ptr<const std::vector<tones::cp::CadencePattern>> repertoire_;
};

}  // namespace prosody::detail
