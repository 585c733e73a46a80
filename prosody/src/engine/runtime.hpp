// runtime.hpp - the processing path's state: what one frame needs, built
// from the control model at a frame boundary (Runtime::adopt) and then run a
// frame at a time (Runtime::process_frame). Only the processing path (the
// module's real-time thread, or the caller of step / step_frame) touches it.
//
// Layout. The frame loop walks inputs and outputs in order, so the state it
// touches every frame (InputState, OutputState) sits in arrays of compact
// structs, separate from what only the builders and the rare paths read
// (InputSetup, OutputSetup); coefficients are shared from small tables; the
// inputs' frame buffers are one 64-byte aligned arena indexed by channel slot
// (participants are in slot order, so the loop streams through it). At
// 10,000 parties this is what keeps the loop from waiting on memory.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

#include "dsp/activity.hpp"
#include "dsp/agc.hpp"
#include "dsp/kernels.hpp"
#include "dsp/limiter.hpp"
#include "engine/bitset.hpp"
#include "engine/control.hpp"
#include "engine/tonegen.hpp"
#include "engine/job_stream.hpp"
#include "prosody/files.hpp"
#include "prosody/prosody.hpp"
#include "prosody/tones.hpp"

namespace prosody::detail {

// A zero-filled array aligned to cache lines.
template <class T>
class AlignedArray {
 public:
  AlignedArray() = default;
  AlignedArray(const AlignedArray&) = delete;
  AlignedArray& operator=(const AlignedArray&) = delete;
  ~AlignedArray() { release(); }
  // Resizes to n elements, keeping the first min(n, size()) and zeroing the rest.
  void resize(std::size_t n) {
    if (n == size_) return;
    T* p = n ? static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{64})) : nullptr;
    for (std::size_t i = 0; i < n; ++i) p[i] = i < size_ ? data_[i] : T{};
    release();
    data_ = p;
    size_ = n;
  }
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  void release() {
    if (data_) ::operator delete (data_, std::align_val_t{64});
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// Tone detection on one input: only listening inputs have one.
struct InputTones {
  InputTones(unsigned rate, const ListenSettings& settings, std::size_t frame, std::uint64_t origin_sample)
      : detector(rate, settings), processed(frame), origin(origin_sample) {}
  ToneSuppressor detector;
  std::vector<float> processed;  // after suppression
  std::vector<ToneEvent> events;
  std::uint64_t origin = 0;  // module sample at which detection (re)started
};

// Per-input coefficients, shared by every input with the same settings.
struct InputCoefficients {
  TrackingSettings tracking;
  InputAgcSettings agc_settings;
  dsp::ActivityCoefficients tracker;
  dsp::AgcCoefficients agc;
};

// What the frame loop touches of one input, in two cache lines (ordered by
// size, so there is no padding): what only other feeds than a frame port,
// leaving inputs and the builders read is in InputSetup.
struct alignas(64) InputState {
  float* frames = nullptr;     // its two frame buffers (by slot, in the arena)
  ChannelIo* io = nullptr;
  const float* raw = nullptr;  // this frame as received: the record tap point
  InputTones* tones = nullptr;
  double raw_ms = 0.0;         // mean square of this frame
  double level_smooth_ms = 0.0;
  // Published to ChannelIo every eighth frame (not every frame, so the loop
  // touches as little shared memory as possible) by a plain store: the
  // processing path is its only writer, so no locked add.
  std::uint64_t frames_in = 0;
  dsp::ActivityState tracker;
  dsp::AgcLevel agc;  // judged by the tracker
  std::uint32_t missing_run = 0;      // frames in a row whose end was missing
  std::uint32_t contrib = 0;          // index of its contribution
  std::int32_t sidetone_output = -1;  // echo suppression against this output
  float volume_gain = 1.0f;
  float gain_prev = 0.0f;  // combined gain at the end of the last frame
  std::uint16_t coeff = 0;
  InputFeed feed = InputFeed::none;
  std::uint8_t cur = 0;       // which of the two frame buffers this frame goes to
  bool has_history = false;   // audio was received before (concealment may mirror it)
  bool stream_ended = false;  // frame port: the stream ended, so absence is not loss
  bool frame_port = false;    // has a frame input port: its recognitions go to step_frame
  bool participant = false;
  bool leaving = false;  // detached or released: fades out over one frame
  bool gating = true;
  bool agc_on = false;
  bool active = false;  // tracker verdict this frame (audible)
};

static_assert(sizeof(InputState) == 128, "InputState: two cache lines");

// What only the builders and rare paths read of one input.
struct InputSetup {
  ChannelKey key;
  int pid = -1;
  ChannelKey feed_source;
  std::int32_t feed_output = -1;  // datafeed: the source output's index; endpoint: the source's
  // A leaving copy of an input that goes on as a non-participant (detached
  // but still received: a frame port, a host port, a recording): it fades
  // out the live input's frame, inputs_[twin], rather than receiving.
  std::int32_t twin = -1;
  std::uint64_t frames_concealed = 0;  // published when it changes
  std::shared_ptr<ChannelIo> io;
  std::shared_ptr<SpscRing<float>> host;
  std::unique_ptr<InputTones> tones;
  std::vector<float> own_frames;  // a leaving input's frame buffers
};

struct ReplayRt {
  std::shared_ptr<ReplayJob> job;
  std::shared_ptr<ReplayStream> stream;  // format and rate
  float volume_gain = 1.0f;
  bool agc = false;
  dsp::AgcState agc_state;
  std::int32_t background = -1;  // output index of the background
  float gain_prev = 1.0f;
};

// A contribution fading in or out of one output this frame: a join, a
// leave, or a participant id changing hands.
struct Transition {
  ChannelKey holder;  // the input whose contribution it is
  std::uint32_t contrib;
  float sign;  // +1: fading out (was a member), -1: fading in (became one)
};

// What the frame loop touches of one output, in two cache lines (ordered by
// size); what datafeeds, replays and the builders read is in OutputSetup.
struct alignas(64) OutputState {
  dsp::AgcState agc;
  double last_ms = 0.0;          // mean square of the last frame (echo suppression, stats)
  std::uint64_t frames_out = 0;  // totals, published like the input's
  std::uint64_t frames_limited = 0;
  float* y = nullptr;    // this frame's samples
  float* cur = nullptr;  // keeps_cur: where they are kept
  SpscRing<float>* host = nullptr;
  ChannelIo* io = nullptr;
  std::uint32_t group = 0;
  std::uint32_t term_count = 0;  // contributions added (direct) or subtracted
  std::uint32_t term0 = 0;       // the first (usually the only) one
  float volume_gain = 1.0f;
  float gain_prev = 1.0f;
  dsp::LimiterState limiter;
  OutputJob job = OutputJob::none;
  bool keeps_cur = false;   // this frame's samples are read after the output is done
  bool keeps_prev = false;  // last frame's samples are read (datafeeds)
  bool subtractive = false;
  bool mute = false;
  bool agc_on = false;
  bool frame_port = false;  // has a frame output port: its reports go to step_frame
  bool has_transitions = false;
};

static_assert(sizeof(OutputState) == 128, "OutputState: two cache lines");

struct OutputSetup {
  ChannelKey key;
  std::shared_ptr<ChannelIo> io;
  std::shared_ptr<SpscRing<float>> host;
  int order = 0;  // evaluation rank: conference outputs, replays by depth, idle
  // keeps_cur: its two frame buffers; prev is last frame's samples (keeps_prev).
  std::vector<float> frame_a;
  std::vector<float> frame_b;
  float* prev = nullptr;

  // Conference output
  int conf_type = 0;
  IdSet members;  // as of the last plan
  std::uint64_t members_version = ~std::uint64_t{0};
  std::vector<std::uint32_t> terms;
  std::vector<float> term_factors;  // individual-volume type only
  std::vector<Transition> transitions;
  unsigned activity_delay_ms = 0;
  unsigned activity_sensitivity = 0;
  std::uint64_t last_report_frame = 0;
  ActivityReport last_report;
  bool reported_once = false;

  ReplayRt replay;
  ToneRt tone;
};

struct RecordRt {
  std::shared_ptr<RecordJob> job;
  std::shared_ptr<ChannelIo> io;  // the recording channel (events)
  bool from_output = false;
  ChannelKey source;
  std::int32_t source_index = -1;  // input or output index of the source
  float volume_gain = 1.0f;
  dsp::AgcState agc;
  dsp::AgcCoefficients agc_coeff;         // from the job's RecordAgcSettings
  std::shared_ptr<RecordStream> stream;   // format and rate
  std::shared_ptr<RecordGate> gate;       // silence elimination, time and silence limits
  std::shared_ptr<ToneSuppressor> tones;  // tone elimination, or null
  std::vector<ToneEvent> tone_events;     // (not reported: elimination only)
};

// A participant's contribution this frame: its input and gain ramp. It is
// not stored: the mixing kernels recompute it from the input, bit-exact, so
// the frame loop writes and reads a frame less per party.
struct Contribution {
  const float* x = nullptr;  // null: silent, skipped by every sum
  float g0 = 1.0f;
  float g1 = 1.0f;
  bool unity() const { return g0 == 1.0f && g1 == 1.0f; }
};

struct MixGroup {
  std::vector<std::uint32_t> contribs;
};

// ---------------------------------------------------------------------------

class Runtime {
 public:
  Runtime(std::uint32_t module_no, const ModuleConfig& config);
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  unsigned frame_samples() const noexcept { return frame_; }
  std::uint64_t frames() const noexcept { return frames_.load(std::memory_order_acquire); }

  // The frame boundary: rebuilds the runtime from the control model (the
  // caller holds the control mutex). State of what carries on is kept.
  void adopt(const ControlModel& model);

  // step_frame: checks the caller's inputs and outputs against the adopted
  // runtime and binds them to the next frame. Nothing is bound on error;
  // lenient (a frame client): what is in error is left out, the rest bound.
  Errc bind_frame(Span<const FrameInput> inputs, Span<const FrameOutput> outputs, bool lenient);
  // Processes one frame. events: where the events of frame-port channels go
  // (step_frame, cleared first), or null (step: they are queued as others).
  void process_frame(std::vector<FrameEvent>* events);

 private:
  struct Needs;
  // adopt.cpp: the builders
  Needs needs(const ControlModel& model) const;
  void ensure_slots(std::size_t nslots);
  void index_frame_ports(std::size_t nslots);
  bool build_inputs(const ControlModel& model, const Needs& needs);
  void build_outputs(const ControlModel& model, const Needs& needs);
  void build_records(const ControlModel& model);
  void start_record(RecordRt& rec, const RecordJob& job);
  void link_inputs(const ControlModel& model);
  const InputCoefficients& coefficients_for(const ChannelCtl& ch, std::uint16_t& index);
  // plan.cpp
  void build_plan(const ControlModel& model);
  // frame_ports.cpp
  void unbind_frame();
  // input.cpp
  void receive(InputState& in, InputSetup& setup, const FrameInput* frame);
  void receive_any(InputState& in, InputSetup& setup, float* x, const FrameInput* frame);
  void measure(InputState& in, dsp::BlockStats stats);
  // process.cpp
  void contribute(InputState& in, InputSetup& setup, const FrameInput* frame);
  void compute_output(std::size_t i, int flight);
  void complete_output(std::size_t i, int flight);
  void deliver_tones(InputState& in, InputSetup& setup);
  void deliver_pending();
  void end_tones(InputState& in, InputSetup& setup, std::uint64_t next_sample);
  double mix_output(OutputState& out, const OutputSetup& setup, float* peaks);
  const float* materialise(const Contribution& c);
  void finish_conference_output(OutputState& out, double mix_mean_square, const float* peaks);
  void limit_output(OutputState& out, float gain_before, float gain_after, const float* peaks);
  void publish_output(OutputState& out, const FrameOutput* frame);
  // endpoints.cpp
  void build_endpoints(const ControlModel& model);
  std::int32_t endpoint_source_index(const ControlModel& model, const ChannelKey& key) const;
  void pull_endpoints();
  void push_endpoints();
  // jobs.cpp
  void render_replay(OutputState& out, OutputSetup& setup, float* peaks);
  void run_record(RecordRt& rec);
  // tonegen_job.cpp
  void adopt_tone(OutputState& out, OutputSetup& setup, const ChannelCtl& ch);
  void render_tone(OutputState& out, OutputSetup& setup, float* peaks);
  void report_activity();
  void end_frame();
  void prefetch_input(const InputState& in, const FrameInput* frame) const;
  void prefetch_output(const OutputState& out, const FrameOutput* frame) const;
  bool stats_frame() const noexcept { return (frames_.load(std::memory_order_relaxed) & 7) == 0; }

  const std::uint32_t module_no_;
  const ModuleConfig config_;
  const unsigned frame_;
  const double frame_seconds_;
  std::atomic<std::uint64_t> frames_{0};
  std::uint64_t plan_version_ = 0;  // of the control model, as of the last plan
  // step_frame: where this frame's events of frame-port channels go.
  std::vector<FrameEvent>* events_ = nullptr;
  // Reports made at a frame boundary (listening stopped), for the next frame.
  struct PendingEvent {
    FrameEvent event;
    std::shared_ptr<ChannelIo> io;
  };
  std::vector<PendingEvent> pending_;
  bool adopting_ = false;

  // Inputs: participants first, in slot order, so contribution indices stay
  // put while the participant set does not change; then the other inputs.
  std::vector<InputState> inputs_;
  std::vector<InputSetup> input_setup_;
  std::vector<InputState> leaving_;  // fading out this frame
  std::vector<InputSetup> leaving_setup_;
  std::vector<InputCoefficients> coefficients_;
  AlignedArray<float> input_frames_;  // two frames per channel slot
  std::size_t frame_slots_ = 0;

  // Outputs: conference outputs, then replays by depth, then idle ones.
  std::vector<OutputState> outputs_;
  std::vector<OutputSetup> output_setup_;
  std::vector<RecordRt> records_;
  std::vector<std::uint32_t> keeping_prev_;   // outputs that keep last frame's samples
  std::vector<std::uint32_t> transitioning_;  // outputs with transitions this frame
  EndpointsRt endpoints_;
  std::vector<std::int32_t> input_by_slot_;
  std::vector<std::int32_t> output_by_slot_;
  std::vector<std::uint32_t> gen_by_slot_;  // live channels' generations (0 = free)
  // step_frame's bindings, apart from the per-party state: binding and
  // unbinding a frame then walk these small arrays, not the 10,000 parties'
  // InputState and OutputState (two more sweeps over megabytes per frame).
  std::vector<std::int32_t> frame_input_by_slot_;   // index of the slot's input if it has a frame port, or -1
  std::vector<std::int32_t> frame_output_by_slot_;  // the same for outputs
  std::vector<const FrameInput*> bound_input_;      // by input index: this frame's pieces, or null
  std::vector<const FrameOutput*> bound_output_;    // by output index: where this frame goes, or null
  std::vector<std::uint32_t> frame_inputs_bound_;   // indices bound by bind_frame
  std::vector<std::uint32_t> frame_outputs_bound_;  // indices bound by bind_frame

  // The mix plan
  std::vector<std::int32_t> contrib_by_pid_;
  std::vector<ChannelKey> pid_key_;  // who held each pid at the last plan
  std::vector<MixGroup> groups_;
  std::vector<std::int32_t> group_of_contrib_;  // the group sum a contribution adds into, or -1
  std::vector<Contribution> contrib_;           // this frame's, by index
  AlignedArray<double> group_sum_;              // frame_ doubles per group
  std::vector<ActiveInput> ranked_;
  bool any_activity_reporting_ = false;

  // Scratch, shared by all inputs and outputs (stays in cache)
  AlignedArray<double> acc_;
  AlignedArray<float> scratch_;
  // Two outputs are in flight at a time (see process_frame): each has its
  // own limiter sub-block peaks and, when its samples go nowhere the caller
  // sees, its own buffer.
  std::size_t peaks_per_output_ = 0;
  AlignedArray<float> peaks_;
  AlignedArray<float> out_scratch_;
  double mix_ms_[2] = {0.0, 0.0};
  std::vector<float> fade_out_;  // 1 - (i+1)/frame

  // Constants
  dsp::LimiterCoefficients limiter_coeff_;
  double level_alpha_ = 0.1;         // one-pole smoothing of levels, ~100 ms
  double echo_min_output_ms_ = 0.0;  // echo suppression: output must be this loud...
  double echo_margin_ratio_ = 0.01;  // ...and the input this much quieter
  dsp::AgcCoefficients output_agc_coeff_;
  dsp::AgcCoefficients replay_agc_coeff_;
  dsp::AgcParams record_agc_params_;
};

}  // namespace prosody::detail
