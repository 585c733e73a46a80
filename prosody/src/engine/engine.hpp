// engine.hpp - one software Prosody module: channels, datafeeds, conference
// outputs and inputs, replay, record, tone detection, events.
//
// Threads. Control calls (any thread) change the *control model* under
// ctl_mutex_ and bump a version. The processing path (the module's real-time
// thread, or the caller of step()) owns the *runtime*: per-channel DSP state
// and the mix plan. At each frame boundary it brings the runtime up to date
// from the control model, taking ctl_mutex_ with try_lock in real time, so
// the processing path never waits for a control call; a change that misses
// one boundary takes effect at the next. Audio, recognition results and
// reports cross between the two through single-producer single-consumer
// rings, never through the control lock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dsp/activity.hpp"
#include "dsp/agc.hpp"
#include "dsp/limiter.hpp"
#include "engine/bitset.hpp"
#include "engine/events.hpp"
#include "engine/ring.hpp"
#include "prosody/prosody.hpp"
#include "prosody/tones.hpp"

namespace prosody::detail {

// ---------------------------------------------------------------------------
// Handles. A channel id packs (generation, module number, slot) so that a
// released or forged id is recognised rather than dereferenced.

struct ChannelKey {
  std::uint32_t module = 0;
  std::uint32_t slot = 0;
  std::uint32_t gen = 0;
};

std::uintptr_t encode_channel(std::uint32_t module, std::uint32_t slot, std::uint32_t gen);
bool decode_channel(std::uintptr_t value, ChannelKey& key);
std::uintptr_t encode_datafeed(const ChannelKey& key);
bool decode_datafeed(std::uintptr_t value, ChannelKey& key);
std::uintptr_t encode_module(std::uint32_t module);
bool decode_module(std::uintptr_t value, std::uint32_t& module);

// ---------------------------------------------------------------------------
// State shared by API threads and the processing thread for one channel.

// An API-level replay job: encoded data queued by the application.
struct ReplayJob {
  ReplayJob(std::size_t capacity_bytes) : data(capacity_bytes) {}
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

// An API-level record job: encoded data waiting for the application.
struct RecordJob {
  RecordJob(std::size_t capacity_bytes) : data(capacity_bytes) {}
  SpscRing<std::uint8_t> data;
  RecordSettings settings;
  ChannelKey source;  // channel whose input or output is recorded
  unsigned bytes_per_sample = 2;
  std::atomic<bool> overrun{false};
  std::atomic<int> termination{static_cast<int>(RecordTermination::not_yet)};
  std::atomic<std::uint64_t> octets_out{0};
  std::atomic<std::uint64_t> termination_octets{0};
  std::atomic<bool> abort_requested{false};
  std::atomic<bool> discard{false};
};

struct ChannelIo {
  std::mutex api_mutex;  // serialises API data calls on this channel
  std::atomic<bool> released{false};

  // Host ports (see Channel::enable_host_input). Guarded by api_mutex on the
  // API side; the processing thread holds its own reference.
  std::shared_ptr<SpscRing<float>> host_in;
  std::shared_ptr<SpscRing<float>> host_out;

  std::shared_ptr<ReplayJob> replay;  // guarded by Engine::ctl_mutex_
  std::shared_ptr<RecordJob> record;  // guarded by Engine::ctl_mutex_

  SpscRing<Recognition> recognised{64};
  std::atomic<bool> recognition_overrun{false};
  SpscRing<ActivityReport> activity{16};
  std::atomic<bool> conf_stopped_pending{false};

  // What the channel is doing, for the idle wake-up of events.
  std::atomic<bool> output_busy{false};
  std::atomic<bool> record_busy{false};
  std::atomic<bool> listening{false};

  // Statistics, written by the processing thread.
  std::atomic<std::uint64_t> in_frames{0};
  std::atomic<std::uint64_t> in_concealed{0};
  std::atomic<std::uint64_t> in_dropped{0};
  std::atomic<std::uint64_t> in_nonfinite{0};
  std::atomic<float> in_level_dbm0{-100.0f};
  std::atomic<bool> in_active{false};
  std::atomic<std::uint64_t> out_frames{0};
  std::atomic<std::uint64_t> out_dropped{0};
  std::atomic<std::uint64_t> out_limited{0};
  std::atomic<float> out_level_dbm0{-100.0f};

  EventBinding events[3];  // write, read, recognition
};

// ---------------------------------------------------------------------------
// The control model (guarded by Engine::ctl_mutex_).

enum class OutputJob : std::uint8_t { none, conference, replay };
enum class InputFeed : std::uint8_t { none, datafeed, host };

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
  ChannelKey feed_source;  // datafeed: the channel whose output feeds us
  int pid = -1;            // participant id while attached
  bool explicit_attach = false;
  int attach_type = 0;
  std::uint32_t member_of = 0;  // number of conference outputs holding pid
  InputSettings input;
  InputAgcSettings input_agc;
  TrackingSettings tracking;
  bool gating = true;
  ChannelKey sidetone;  // slot+1 encoded in gen != 0 when set
  bool has_sidetone = false;
  bool listening = false;
  ListenSettings listen;

  // Output half
  OutputJob out_job = OutputJob::none;
  ConferenceOutputCtl conf;
  bool datafeed_referenced = false;
  bool host_output = false;
  bool host_input = false;
};

// ---------------------------------------------------------------------------
// The runtime (owned by the processing path).

struct InputRt {
  ChannelKey key;
  std::shared_ptr<ChannelIo> io;
  InputFeed feed = InputFeed::none;
  std::uint32_t feed_slot = 0;
  std::shared_ptr<SpscRing<float>> host;
  // Two frame buffers: one holds the last complete frame (for concealment),
  // the other receives the next one, so nothing is copied per frame.
  std::vector<float> buf[2];
  int last_good = -1;    // index of the buffer holding the last complete frame
  float* raw = nullptr;  // this frame, as received (the record tap point)
  std::uint32_t missing_run = 0;

  // Participant processing
  bool participant = false;
  bool leaving = false;  // detached or released: fades out over one frame
  int pid = -1;
  InputSettings settings;
  bool gating = true;
  float volume_gain = 1.0f;
  float gain_prev = 0.0f;  // combined gain at the end of the last frame
  dsp::AgcState agc;
  dsp::AgcCoefficients agc_coeff;
  dsp::ActivityState tracker;
  dsp::ActivityCoefficients tracker_coeff;
  int sidetone_slot = -1;
  std::unique_ptr<ToneSuppressor> tones;
  std::uint64_t tones_origin = 0;  // module sample at which detection started
  std::vector<ToneEvent> tone_events;
  std::vector<float> processed;  // after tone suppression
  double raw_ms = 0.0;           // mean square of this frame
  double level_smooth_ms = 0.0;  // for activity ranking and statistics
  bool active = false;           // tracker verdict this frame
  // Counters published to ChannelIo every few frames, not every frame, so
  // the frame loop touches as little shared memory as possible.
  std::uint32_t pending_frames = 0;
  std::uint32_t pending_concealed = 0;
  std::uint32_t contrib = 0;  // index of its contribution
};

struct ReplayRt {
  std::shared_ptr<ReplayJob> job;
  float volume_gain = 1.0f;
  bool agc = false;
  dsp::AgcState agc_state;
  int background_slot = -1;
  float gain_prev = 1.0f;
};

struct Transition {
  std::uint32_t contrib;
  float sign;  // +1: fading out (was a member), -1: fading in (became one)
};

struct OutputRt {
  ChannelKey key;
  std::shared_ptr<ChannelIo> io;
  OutputJob job = OutputJob::none;
  // This frame's samples: in cur when something reads them after the output
  // is done (a record, a replay background, a datafeed), otherwise in a
  // scratch buffer shared by all outputs, which stays in cache.
  float* y = nullptr;
  std::vector<float> cur;
  std::vector<float> prev;  // last frame: what datafeeds carry (only if referenced)
  bool keeps_cur = false;
  bool keeps_prev = false;
  std::shared_ptr<SpscRing<float>> host;
  double last_ms = 0.0;              // mean square of the last frame (echo suppression, stats)
  std::uint32_t pending_frames = 0;  // published to ChannelIo every few frames
  std::uint32_t pending_limited = 0;

  // Conference output
  OutputSettings settings;
  float volume_gain = 1.0f;
  int conf_type = 0;
  IdSet members;  // as of the last plan
  std::uint64_t members_version = ~std::uint64_t{0};
  bool subtractive = false;
  std::uint32_t group = 0;
  std::vector<std::uint32_t> terms;     // contributions to add (direct) or subtract
  std::vector<float> term_factors;      // individual-volume type only
  std::vector<Transition> transitions;  // this frame only
  float gain_prev = 1.0f;
  dsp::AgcState agc;
  dsp::LimiterState limiter;
  unsigned activity_delay_ms = 0;
  unsigned activity_sensitivity = 0;
  std::uint64_t last_report_frame = 0;
  ActivityReport last_report;
  bool reported_once = false;

  ReplayRt replay;
  int order = 0;  // replays: evaluation depth through backgrounds
};

struct RecordRt {
  std::shared_ptr<RecordJob> job;
  std::shared_ptr<ChannelIo> io;  // the recording channel (events)
  bool from_output = false;
  std::uint32_t source_slot = 0;
  float volume_gain = 1.0f;
  dsp::AgcState agc;
  std::uint64_t elapsed_frames = 0;
  std::uint64_t silent_frames = 0;
  bool heard_sound = false;
};

struct MixGroup {
  std::vector<std::uint32_t> contribs;
  bool used = false;
};

// ---------------------------------------------------------------------------

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  Engine(std::uint32_t module_no, const ModuleConfig& config);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  static Errc validate(const ModuleConfig& config);

  std::uint32_t module_no() const noexcept { return module_no_; }
  unsigned sample_rate() const noexcept { return config_.sample_rate; }
  unsigned frame_samples() const noexcept { return frame_; }
  const ModuleConfig& config() const noexcept { return config_; }
  DriveMode drive_mode() const;
  ModuleStats stats() const;

  // -- Drive
  Errc step(unsigned frames);
  Errc start_realtime();
  Errc stop_realtime();

  // -- Channels
  Errc allocate(ChannelType type, std::uintptr_t& id);
  Errc release(std::uintptr_t id);
  Errc release_all();
  Errc channel_type(std::uintptr_t id, ChannelType& type);

  Errc enable_host_input(std::uintptr_t id, std::size_t capacity_frames);
  Errc enable_host_output(std::uintptr_t id, std::size_t capacity_frames);
  Errc disable_host_input(std::uintptr_t id);
  Errc disable_host_output(std::uintptr_t id);
  Errc write_input(std::uintptr_t id, const float* samples, std::size_t n, std::size_t& accepted);
  Errc read_output(std::uintptr_t id, float* samples, std::size_t n, std::size_t& delivered);
  Errc host_levels(std::uintptr_t id, std::size_t& queued_in, std::size_t& available_out);
  // The channel's shared state, for callers that keep it (Channel caches it
  // so host-port audio bypasses the control lock).
  Errc channel_io(std::uintptr_t id, std::shared_ptr<ChannelIo>& io);

  Errc get_datafeed(std::uintptr_t id, std::uintptr_t& datafeed);
  Errc connect_datafeed(std::uintptr_t id, std::uintptr_t datafeed);

  // -- Conference primitives
  Errc conf_start(std::uintptr_t out, const OutputSettings& settings, int conf_type);
  Errc conf_clone(std::uintptr_t out, std::uintptr_t model);
  Errc conf_add(std::uintptr_t out, std::uintptr_t participant, float factor, int& id);
  Errc conf_leave(std::uintptr_t out, int id);
  Errc conf_stop(std::uintptr_t out, bool wait);
  Errc conf_adjust_output(std::uintptr_t out, const OutputSettings& settings);
  Errc conf_attach(std::uintptr_t in, int conf_type, int& id);
  Errc conf_detach(std::uintptr_t in, int conf_type);
  Errc conf_adjust_input(std::uintptr_t in, const InputSettings& settings);
  Errc conf_input_agc(std::uintptr_t in, const InputAgcSettings& settings);
  Errc conf_tracking(std::uintptr_t in, const TrackingSettings& settings);
  Errc conf_gating(std::uintptr_t in, bool enabled);
  Errc conf_members(std::uintptr_t out, std::vector<int>* members, std::vector<int>* active, bool standard_only);
  Errc conf_config_activity(std::uintptr_t out, unsigned delay_ms, unsigned sensitivity);
  enum class ConfStatus { running, stopped, active_inputs };
  Errc conf_status(std::uintptr_t out, ConfStatus& status, ActivityReport& report);
  Errc set_sidetone(std::uintptr_t in, std::uintptr_t out);
  Errc participant_id(std::uintptr_t in, int& id);
  // Input channel of an attached participant id (for sm_conference_info).
  Errc participant_channel(int id, std::uintptr_t& in);

  // -- Tones
  Errc listen_for(std::uintptr_t in, const ListenSettings& settings);
  Errc get_recognised(std::uintptr_t in, Recognition& result);
  Errc discard_recognised(std::uintptr_t in);

  // -- Replay and record
  Errc replay_start(std::uintptr_t out, const ReplaySettings& settings);
  Errc replay_put(std::uintptr_t out, const std::uint8_t* data, std::size_t n, bool last, bool partial,
                  std::size_t& accepted);
  Errc replay_status(std::uintptr_t out, ReplayStatus& status);
  Errc replay_abort(std::uintptr_t out, std::uint64_t& offset);
  Errc replay_adjust(std::uintptr_t out, std::uintptr_t background, int volume_db, bool agc);
  Errc record_start(std::uintptr_t in, const RecordSettings& settings);
  Errc record_get(std::uintptr_t in, std::uint8_t* data, std::size_t n, std::size_t& got);
  Errc record_status(std::uintptr_t in, RecordStatus& status);
  Errc record_abort(std::uintptr_t in, bool discard);

  Errc input_stats(std::uintptr_t id, InputStats& stats);
  Errc output_stats(std::uintptr_t id, OutputStats& stats);

  // -- Events
  Errc set_event(std::uintptr_t id, int event_type, int binding, std::shared_ptr<EventObject> ev);
  Errc refresh_event(std::uintptr_t id, int event_type);

 private:
  // Control helpers (ctl_mutex_ held)
  Errc lookup(std::uintptr_t id, ChannelCtl*& ch, ChannelKey* key = nullptr);
  Errc lookup_any_module(std::uintptr_t id, ChannelCtl*& ch, ChannelKey& key);
  static bool has_input(ChannelType t) { return t != ChannelType::output; }
  static bool has_output(ChannelType t) { return t != ChannelType::input; }
  bool input_half_busy(const ChannelCtl& ch) const;
  bool output_half_busy(const ChannelCtl& ch) const { return ch.out_job != OutputJob::none; }
  int attach_input(ChannelCtl& ch, bool explicit_attach, int conf_type);
  void detach_input(ChannelCtl& ch);
  void remove_from_all_outputs(int pid);
  void stop_output(ChannelCtl& ch);
  void clear_members(ChannelCtl& ch);
  void abort_record(ChannelCtl& ch, ChannelKey key, bool discard);
  void changed();
  void wait_applied(std::uint64_t version);
  void update_event(ChannelIo& io, int type_index);  // ctl_mutex_ held
  void refresh(ChannelIo& io, int type_index);       // takes ctl_mutex_
  bool event_condition(ChannelIo& io, int type_index);

  // Processing (processing path only)
  void process_frame();
  bool sync_runtime(bool blocking);
  void rebuild_runtime();
  void rebuild_plan();
  void fetch_input(InputRt& in);
  void process_participant(InputRt& in);
  void deliver_tones(InputRt& in);
  void finish_tones(InputRt& in);
  double mix_output(OutputRt& out);
  void finish_conference_output(OutputRt& out, double mix_mean_square);
  void limit_output(OutputRt& out, float gain_before, float gain_after);
  void render_replay(OutputRt& out);
  void run_record(RecordRt& rec);
  void publish_output(OutputRt& out);
  void report_activity();
  void realtime_loop();

  const std::uint32_t module_no_;
  const ModuleConfig config_;
  const unsigned frame_;
  const double frame_seconds_;

  // Control model
  mutable std::mutex ctl_mutex_;
  std::vector<ChannelCtl> slots_;
  std::vector<std::uint32_t> free_slots_;
  IdAllocator pids_;
  std::vector<std::uint32_t> pid_slot_;                  // participant id -> slot
  std::vector<std::shared_ptr<RecordJob>> records_ctl_;  // by slot (null = none)
  std::atomic<std::uint64_t> version_{0};                // bumped on every change (under ctl_mutex_)
  bool plan_dirty_ = true;

  // Processing
  std::mutex process_mutex_;  // one processing path at a time
  std::atomic<std::uint64_t> applied_version_{0};
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> late_frames_{0};
  std::condition_variable applied_cv_;
  std::mutex applied_mutex_;

  std::vector<InputRt> inputs_;    // runtime inputs, participants first
  std::vector<InputRt> leaving_;   // fading out this frame
  std::vector<OutputRt> outputs_;  // conference outputs, then replays by depth, then idle
  std::vector<RecordRt> records_;
  std::vector<std::int32_t> input_by_slot_;
  std::vector<std::int32_t> output_by_slot_;
  std::vector<std::int32_t> contrib_by_pid_;
  std::vector<ChannelKey> pid_key_;  // who held each pid at the last plan
  std::vector<MixGroup> groups_;
  std::vector<std::int32_t> group_of_contrib_;  // the group sum a contribution adds into, or -1
  std::vector<float> contrib_;                  // contribution storage, frame_ floats each
  // Each contribution this frame: its samples (the input itself when it
  // passes at unity gain, else contrib_ storage), or null when silent.
  std::vector<const float*> contrib_ptr_;
  std::vector<ActiveInput> ranked_;
  bool any_activity_reporting_ = false;
  std::vector<double> group_sum_;  // frame_ doubles per group
  std::vector<double> acc_;
  std::vector<float> scratch_;
  std::vector<float> peaks_;        // limiter sub-block peaks
  std::vector<float> out_scratch_;  // the output being computed, when not kept
  std::vector<float> fade_out_;     // 1 - (i+1)/frame
  dsp::LimiterCoefficients limiter_coeff_;
  double level_alpha_ = 0.1;         // one-pole smoothing of levels, ~100 ms
  double echo_min_output_ms_ = 0.0;  // echo suppression: output must be this loud...
  double echo_margin_ratio_ = 0.01;  // ...and the input this much quieter
  dsp::AgcCoefficients output_agc_coeff_;
  dsp::AgcCoefficients replay_agc_coeff_;
  dsp::AgcCoefficients record_agc_coeff_;

  // Real-time drive
  std::thread rt_thread_;
  std::atomic<bool> rt_running_{false};
  std::atomic<bool> rt_stop_{false};
};

}  // namespace prosody::detail
