// control.hpp - the control model of a module: what the application has set
// up (channels, participant ids, conference outputs, datafeeds, jobs and
// settings). Control calls change it under the engine's control mutex; the
// processing path reads it only at a frame boundary, when Runtime::adopt
// builds the runtime from it (runtime.hpp).
//
// Also here: the state one channel shares between API threads and the
// processing path (ChannelIo), which never goes through the control mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/bitset.hpp"
#include "engine/endpoints.hpp"
#include "engine/events.hpp"
#include "engine/handles.hpp"
#include "engine/input_tone_tables.hpp"
#include "engine/ring.hpp"
#include "prosody/prosody.hpp"

namespace prosody::detail {

// ---------------------------------------------------------------------------
// Jobs: the application feeds a replay and drains a record through rings.

struct ReplayJob {
  explicit ReplayJob(std::size_t capacity_bytes) : data(capacity_bytes) {}
  SpscRing<std::uint8_t> data;
  ReplaySettings settings;
  unsigned bytes_per_sample = 2;
  std::atomic<bool> last_put{false};
  std::atomic<std::uint64_t> bytes_put{0};
  std::atomic<std::uint64_t> bytes_played{0};
  std::atomic<bool> underrun{false};  // reported once, then cleared
  std::atomic<bool> finished{false};  // all data played (or aborted)
  std::atomic<bool> abort_requested{false};
};

struct RecordJob {
  explicit RecordJob(std::size_t capacity_bytes) : data(capacity_bytes) {}
  SpscRing<std::uint8_t> data;
  RecordSettings settings;
  RecordAgcSettings agc_settings;  // guarded by the control mutex; adopted at a frame boundary
  // sm_record_agc_adjust: a gain for the processing path to take at its next frame.
  std::atomic<bool> agc_gain_forced{false};
  std::atomic<double> agc_forced_gain_db{0.0};
  ChannelKey source;  // channel whose input or output is recorded
  unsigned bytes_per_sample = 2;
  std::atomic<bool> overrun{false};
  std::atomic<int> termination{static_cast<int>(RecordTermination::not_yet)};
  std::atomic<std::uint64_t> octets_out{0};
  std::atomic<std::uint64_t> termination_octets{0};
  std::atomic<bool> abort_requested{false};
  std::atomic<bool> discard{false};
};

struct ToneJob;  // tonegen.hpp

// ---------------------------------------------------------------------------
// What one channel shares between API threads and the processing path:
// host-port rings, job queues, recognition and activity queues, statistics.
// Created with the channel and immutable in identity: a Channel handle keeps
// it from allocation on, so host-port audio never takes the control mutex.

// A channel's events (events[] below).
enum EventIndex : int { kWriteEvent = 0, kReadEvent = 1, kRecognitionEvent = 2 };

// sm_channel_set_output_threshold / _input_threshold: when a replay has
// room (or little enough queued), and when a record has data to read.
inline bool replay_ready(const ReplayJob& job, int minimum_bits) {
  if (minimum_bits > 0) return job.data.free_space() * 8 >= std::size_t(minimum_bits);
  if (minimum_bits < 0) return job.data.size() * 8 < std::size_t(-minimum_bits);
  return job.data.free_space() >= 2048;
}
inline bool record_ready(const RecordJob& job, int minimum_bits) {
  if (minimum_bits > 0) return job.data.size() * 8 >= std::size_t(minimum_bits);
  return job.data.size() > 0;
}

struct ChannelIo {
  // -- Host-port audio (any thread). Each port is a single-producer
  //    single-consumer ring; api_mutex serialises callers of one channel.
  //    Errc::no_such_channel once released, wrong_channel_state without the
  //    port, bad_parameter for null samples.
  Errc write_input(const float* samples, std::size_t n, std::size_t& accepted);
  Errc write_input(const std::int16_t* samples, std::size_t n, std::size_t& accepted);
  Errc read_output(float* samples, std::size_t n, std::size_t& delivered);
  Errc read_output(std::int16_t* samples, std::size_t n, std::size_t& delivered);
  Errc host_levels(std::size_t& queued_in, std::size_t& available_out);

  std::mutex api_mutex;  // serialises API data calls on this channel
  std::atomic<bool> released{false};

  // Host ports. Swapped under api_mutex by the control side; the processing
  // path holds its own reference from the last frame boundary.
  std::shared_ptr<SpscRing<float>> host_in;
  std::shared_ptr<SpscRing<float>> host_out;

  std::shared_ptr<ReplayJob> replay;  // guarded by the control mutex
  std::shared_ptr<RecordJob> record;  // guarded by the control mutex
  std::shared_ptr<ToneJob> tone;      // guarded by the control mutex

  SpscRing<Recognition> recognised{64};
  std::atomic<bool> recognition_overrun{false};
  SpscRing<ActivityReport> activity{16};
  std::atomic<bool> conf_stopped_pending{false};

  // Event thresholds in bits (0 = default; see replay_ready, record_ready).
  std::atomic<int> output_threshold_bits{0};
  std::atomic<int> input_threshold_bits{0};

  // What the channel is doing, for the idle wake-up of events.
  std::atomic<bool> output_busy{false};
  std::atomic<bool> record_busy{false};
  std::atomic<bool> listening{false};

  // Statistics, written by the processing path.
  std::atomic<std::uint64_t> in_frames{0};
  std::atomic<std::uint64_t> in_concealed{0};
  std::atomic<std::uint64_t> in_dropped{0};
  std::atomic<std::uint64_t> in_nonfinite{0};
  // Short-term levels as mean squares (negative: none yet); the API side
  // turns them into dBm0, so the processing path takes no logarithms.
  std::atomic<double> in_level_ms{-1.0};
  std::atomic<bool> in_active{false};
  std::atomic<std::uint64_t> out_frames{0};
  std::atomic<std::uint64_t> out_dropped{0};
  std::atomic<std::uint64_t> out_limited{0};
  std::atomic<double> out_level_ms{-1.0};

  EventBinding events[3];  // write, read, recognition

  // Processing path: the cause of an event appeared.
  void raise(EventIndex t) {
    if (auto ev = events[t].get()) ev->set(this, true);
  }
};

// ---------------------------------------------------------------------------
// One channel in the control model.

enum class OutputJob : std::uint8_t { none, conference, replay, tone };
// Where a channel's input comes from. A datafeed (of a channel, or of an
// endpoint: a TDM[rx] or VMP[rx]), while connected, overrides the channel's
// port (host or frame), which takes over again on disconnect.
enum class InputFeed : std::uint8_t { none, datafeed, host, frame, endpoint };

struct ConferenceOutputCtl {
  IdSet members;
  std::vector<float> factors;  // individual-volume type: per participant id
  OutputSettings settings;
  int conf_type = 0;
  unsigned activity_delay_ms = 0;
  unsigned activity_sensitivity = 0;
  std::uint64_t version = 0;  // bumped on every membership change
};

struct ChannelCtl {
  bool allocated = false;
  std::uint32_t gen = 0;
  ChannelType type = ChannelType::full_duplex;
  std::shared_ptr<ChannelIo> io;

  // Input half
  InputFeed feed = InputFeed::none;
  ChannelKey feed_source;  // datafeed: the channel whose output feeds us; endpoint: the source endpoint
  bool host_input = false;
  bool frame_input = false;
  int pid = -1;  // participant id while attached
  bool explicit_attach = false;
  int attach_type = 0;
  std::uint32_t member_of = 0;  // number of conference outputs holding pid
  InputSettings input;
  InputAgcSettings input_agc;
  TrackingSettings tracking;
  bool gating = true;
  ChannelKey sidetone;
  bool has_sidetone = false;
  bool listening = false;
  ListenSettings listen;

  // Output half
  OutputJob out_job = OutputJob::none;
  ConferenceOutputCtl conf;
  bool datafeed_referenced = false;
  bool host_output = false;
  bool frame_output = false;

  // The port the input falls back to when no datafeed feeds it.
  InputFeed port_feed() const {
    return frame_input ? InputFeed::frame : host_input ? InputFeed::host : InputFeed::none;
  }
};

inline bool has_input(ChannelType t) { return t != ChannelType::output; }
inline bool has_output(ChannelType t) { return t != ChannelType::input; }

// ---------------------------------------------------------------------------

class ControlModel {
 public:
  explicit ControlModel(std::uint32_t module_no) : module_no_(module_no), endpoints_(module_no) {}

  std::uint32_t module_no() const noexcept { return module_no_; }

  // -- Lookup
  // The live channel of this module named by id, or null.
  ChannelCtl* find(std::uintptr_t id, ChannelKey* key = nullptr);
  // The live channel with this key, or null.
  ChannelCtl* find(const ChannelKey& key);
  const ChannelCtl* find(const ChannelKey& key) const;

  // -- Channels
  Errc allocate(ChannelType type, ChannelKey& key);
  // Aborts everything on the channel and frees its slot.
  void release(const ChannelKey& key);
  std::vector<std::uintptr_t> live_ids() const;

  // -- Participants and conference outputs
  int attach_input(ChannelCtl& ch, bool explicit_attach, int conf_type);
  void detach_input(ChannelCtl& ch);
  // Drops a member from one output; an implicitly attached input that no
  // output holds any more is detached. Returns true if it was a member.
  bool leave(ChannelCtl& out, std::size_t pid);
  void stop_output(ChannelCtl& ch);
  bool pid_in_use(std::size_t pid) const { return pids_.in_use(pid); }
  std::size_t pid_bound() const noexcept { return pids_.bound(); }
  // The input channel holding an attached participant id.
  ChannelCtl& holder(std::size_t pid) { return slots_[pid_slot_[pid]]; }
  const ChannelCtl& holder(std::size_t pid) const { return slots_[pid_slot_[pid]]; }
  std::uint32_t holder_slot(std::size_t pid) const { return pid_slot_[pid]; }

  // -- Records (by the recording channel's slot)
  std::shared_ptr<RecordJob>& record(std::uint32_t slot) { return records_[slot]; }
  const std::shared_ptr<RecordJob>& record(std::uint32_t slot) const { return records_[slot]; }
  void abort_record(std::uint32_t slot, bool discard);

  // -- What the runtime builders read
  const std::vector<ChannelCtl>& slots() const noexcept { return slots_; }
  // Bumped when the mix plan must be recomputed (membership, participants).
  std::uint64_t plan_version() const noexcept { return plan_version_; }
  void plan_changed() noexcept { ++plan_version_; }

  // -- The module's input tone tables (sm_add_input_tone_set and family)
  InputToneTables& input_tones() noexcept { return input_tones_; }
  const InputToneTables& input_tones() const noexcept { return input_tones_; }
  // -- Endpoints (TDM, VMP) on this module
  EndpointTable& endpoints() noexcept { return endpoints_; }
  const EndpointTable& endpoints() const noexcept { return endpoints_; }

 private:
  void clear_members(ChannelCtl& ch);

  const std::uint32_t module_no_;
  std::vector<ChannelCtl> slots_;
  std::vector<std::uint32_t> free_slots_;
  IdAllocator pids_;
  std::vector<std::uint32_t> pid_slot_;              // participant id -> slot
  std::vector<std::shared_ptr<RecordJob>> records_;  // by slot (null = none)
  std::uint64_t plan_version_ = 1;
  InputToneTables input_tones_;
  EndpointTable endpoints_;
};

}  // namespace prosody::detail
