// engine.hpp - one software Prosody module: the control model (control.hpp)
// and the runtime (runtime.hpp), and the drive that joins them.
//
// Threads. Control calls (any thread) change the control model under
// ctl_mutex_ and bump a version. The processing path (the module's real-time
// thread, or the caller of step / step_frame) owns the runtime. At each frame
// boundary it adopts the control model into the runtime if the version moved,
// taking ctl_mutex_ with try_lock in real time, so the processing path never
// waits for a control call; a change that misses one boundary takes effect at
// the next. Audio, recognition results and reports cross between threads
// through single-producer single-consumer rings (host ports, job queues), or,
// for frame ports, through the step_frame call itself; never through the
// control lock.
//
// The control calls are implemented by job: engine_channels.cpp (channels,
// host and frame ports, datafeeds, statistics), engine_conference.cpp,
// engine_tones.cpp, engine_media.cpp (replay and record), engine_events.cpp,
// engine_endpoints.cpp (TDM and VMP endpoints).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/control.hpp"
#include "engine/handles.hpp"
#include "engine/runtime.hpp"
#include "engine/tonegen.hpp"
#include "prosody/prosody.hpp"

namespace prosody::detail {

// Volumes of inputs, outputs, replays and records: -60..+24 dB.
inline bool volume_ok(double db) { return db >= -60.0 && db <= 24.0; }

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
  std::uint64_t samples_processed() const noexcept { return runtime_.frames() * frame_; }
  // The sample counter and, in real time, the monotonic time it was reached
  // at: read together (a seqlock the processing path writes once a frame).
  ModuleTime time() const noexcept;

  // -- Drive
  Errc step(unsigned frames);
  Errc step_frame(Span<const FrameInput> inputs, Span<const FrameOutput> outputs, FrameResult& result);
  Errc start_realtime();
  Errc stop_realtime();
  // The frame client serves every frame step() and the real-time thread
  // process (at most one; null removes it, once the frame in progress is done).
  Errc set_frame_client(std::shared_ptr<FrameClient> client);

  // -- Channels (engine_channels.cpp)
  // io: the channel's shared state, which the C++ handle keeps so that its
  // host-port audio never takes the control mutex.
  Errc allocate(ChannelType type, std::uintptr_t& id, std::shared_ptr<ChannelIo>* io = nullptr);
  Errc channel_io(std::uintptr_t id, std::shared_ptr<ChannelIo>& io);
  Errc release(std::uintptr_t id);
  Errc release_all();
  Errc channel_type(std::uintptr_t id, ChannelType& type);
  Errc enable_host_input(std::uintptr_t id, std::size_t capacity_frames);
  Errc enable_host_output(std::uintptr_t id, std::size_t capacity_frames);
  Errc disable_host_input(std::uintptr_t id);
  Errc disable_host_output(std::uintptr_t id);
  Errc enable_frame_input(std::uintptr_t id);
  Errc enable_frame_output(std::uintptr_t id);
  Errc disable_frame_input(std::uintptr_t id);
  Errc disable_frame_output(std::uintptr_t id);
  Errc get_datafeed(std::uintptr_t id, std::uintptr_t& datafeed);
  Errc connect_datafeed(std::uintptr_t id, std::uintptr_t datafeed);
  Errc input_stats(std::uintptr_t id, InputStats& stats);
  Errc output_stats(std::uintptr_t id, OutputStats& stats);

  // -- Conference primitives (engine_conference.cpp)
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

  // -- Tones (engine_tones.cpp)
  Errc listen_for(std::uintptr_t in, const ListenSettings& settings, ListenPart part = ListenPart::all);
  // The module's input tone tables (sm_add_input_freq_coeffs and family):
  // f(InputToneTables&) -> Errc runs under the control lock; what it
  // changes reaches the detectors at the next frame boundary.
  template <class F>
  Errc with_input_tones(F&& f) {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    const Errc e = f(model_.input_tones());
    if (e == Errc::ok) changed();
    return e;
  }
  Errc get_recognised(std::uintptr_t in, Recognition& result);
  Errc discard_recognised(std::uintptr_t in);

  // -- Tone generation (engine_tonegen.cpp)
  Errc add_output_freq(double freq_hz, double level_dbm0, int& id);
  Errc add_output_tone(int component1, int component2, int& id);
  // sm_play_tone (kind tone: continuous), sm_play_cptone, sm_play_digits
  // (kind digits: one shot of digit_cadences).
  Errc tone_play(std::uintptr_t out, ToneJobKind kind, CPToneType type, const ToneCadence* cadences, std::size_t count,
                 std::uint32_t duration_ms);
  // Starts a tone list, or appends to the one playing on out.
  Errc tone_list(std::uintptr_t out, const ToneItem* items, std::size_t count);
  Errc tone_phase_reverse(std::uintptr_t out, std::uint32_t period_ms);
  // kinds: the jobs the caller may ask about (a bit per ToneJobKind);
  // Errc::wrong_channel_state if the output runs none of them.
  Errc tone_status(std::uintptr_t out, unsigned kinds, ToneJobState& state);
  Errc tone_abort(std::uintptr_t out, unsigned kinds);
  // Blocks until the tone job on out completes, then frees the output half
  // (wait_for_completion); real-time modules only.
  Errc tone_wait(std::uintptr_t out);

  // -- Replay and record (engine_media.cpp)
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
  Errc record_agc_adjust(std::uintptr_t in, double gain_db);
  Errc record_agc_settings(std::uintptr_t in, const RecordAgcSettings& settings);
  // sm_channel_set_output_threshold (output) / _input_threshold.
  Errc set_threshold(std::uintptr_t id, bool output, int minimum_bits);

  // -- Endpoints (engine_endpoints.cpp): the data sources and sinks of the
  //    TDM bus and of RTP on this module (endpoints.hpp). An endpoint's id is
  //    also a source's datafeed.
  Errc add_endpoint(std::shared_ptr<EndpointSource> source, std::shared_ptr<EndpointSink> sink,
                    bool last_connection_only, std::uintptr_t& id);
  Errc remove_endpoint(std::uintptr_t id);
  // Feeds a sink from a datafeed (a channel's output or a source's);
  // 0 disconnects.
  Errc connect_sink(std::uintptr_t sink, std::uintptr_t datafeed);
  // What this module carries between its endpoints, with pending as if made.
  void flow(const PendingConnection& pending, ModuleFlow& out) const;
  // The process's connection-loop check (the TDM bus installs it): run
  // before a call connects anything on a module that has endpoints; an
  // error refuses the connection.
  using LoopCheck = Errc (*)(std::uint32_t module, const PendingConnection& pending);
  static void set_loop_check(LoopCheck check);

  // -- Events (engine_events.cpp)
  Errc set_event(std::uintptr_t id, int event_type, int binding, std::shared_ptr<EventObject> ev);
  Errc refresh_event(std::uintptr_t id, int event_type);
  // Whether the channel needs service for event_type (kSMEventType...), not
  // counting idleness: the legacy any-channel status calls.
  Errc needs_service(std::uintptr_t id, int event_type, bool& needs);

 private:
  // Which half of a channel a call needs (Errc::wrong_channel_type without it).
  enum class Half { any, input, output };

  // The preamble of every control call: takes the control lock, finds the
  // live channel id names (Errc::no_such_channel otherwise), checks it has
  // the half needed, and returns f(channel, key).
  template <class F>
  Errc with_channel(std::uintptr_t id, Half half, F&& f) {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelKey key;
    ChannelCtl* ch = model_.find(id, &key);
    if (!ch) return Errc::no_such_channel;
    if (half == Half::input && !has_input(ch->type)) return Errc::wrong_channel_type;
    if (half == Half::output && !has_output(ch->type)) return Errc::wrong_channel_type;
    return f(*ch, key);
  }
  // The same, for calls that then work on the channel's shared state outside
  // the lock.
  Errc shared_state(std::uintptr_t id, Half half, std::shared_ptr<ChannelIo>& io);
  // A second channel argument (participant, model, background, source),
  // ctl_mutex_ held: a channel of another module is a bad parameter, as the
  // TiNG library reports.
  Errc lookup_argument(std::uintptr_t id, ChannelCtl*& ch, ChannelKey& key);
  // A channel input connected to an endpoint's datafeed (ctl_mutex_ held).
  Errc connect_input_to_endpoint(ChannelCtl& ch, std::uintptr_t datafeed);
  // The loop check for a connection from `from` (a channel, a channel's
  // datafeed or a source endpoint) to `to` (a channel or a sink), made
  // before the call takes ctl_mutex_. Ids that do not decode pass: the call
  // reports them.
  Errc check_connection(PendingConnection::Kind kind, std::uintptr_t from, std::uintptr_t to) const;
  // engine_conference.cpp
  template <class F>
  Errc adjust_attached(std::uintptr_t in, F&& set);
  void start_output(ChannelCtl& ch, ConferenceOutputCtl& conf);

  bool input_half_busy(const ChannelCtl& ch) const;
  static bool output_half_busy(const ChannelCtl& ch) { return ch.out_job != OutputJob::none; }
  void changed();  // ctl_mutex_ held
  void wait_applied(std::uint64_t version);
  void update_event(ChannelIo& io, int type_index);  // ctl_mutex_ held
  void refresh(ChannelIo& io, int type_index);       // takes ctl_mutex_
  bool event_condition(ChannelIo& io, int type_index, bool idle_counts);

  // The frame boundary: adopts the control model if it changed. Real time
  // (blocking false) never waits for the control lock.
  void sync_runtime(bool blocking);
  void realtime_loop();
  // One frame, process_mutex_ held: with the frame client's ports if there
  // is one. due_ns: the real-time deadline, -1 when stepped.
  void process_one_frame(std::int64_t due_ns);
  void publish_time(std::int64_t monotonic_ns) noexcept;

  const std::uint32_t module_no_;
  const ModuleConfig config_;
  const unsigned frame_;

  // Control model
  mutable std::mutex ctl_mutex_;
  ControlModel model_;                     // guarded by ctl_mutex_
  std::atomic<std::uint64_t> version_{0};  // bumped on every change (under ctl_mutex_)

  // Processing
  std::mutex process_mutex_;                 // one processing path at a time
  Runtime runtime_;                          // guarded by process_mutex_
  std::shared_ptr<FrameClient> client_;      // guarded by process_mutex_
  std::vector<FrameInput> client_inputs_;    // the client's ports of this frame
  std::vector<FrameOutput> client_outputs_;  // (kept: no allocation per frame)
  // ModuleTime, as a seqlock: odd while the processing path writes it.
  std::atomic<std::uint64_t> time_seq_{0};
  std::atomic<std::uint64_t> time_samples_{0};
  std::atomic<std::int64_t> time_monotonic_ns_{-1};
  std::atomic<std::uint64_t> applied_version_{0};
  std::atomic<std::uint64_t> late_frames_{0};
  std::condition_variable applied_cv_;
  std::mutex applied_mutex_;

  OutputToneTable tone_table_;  // guarded by ctl_mutex_

  // Real-time drive
  std::thread rt_thread_;
  std::atomic<bool> rt_running_{false};
  std::atomic<bool> rt_stop_{false};
};

}  // namespace prosody::detail
