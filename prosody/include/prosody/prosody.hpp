// prosody.hpp - the modern C++ API of libprosody, the software Prosody
// processor.
//
// One core, two faces: this API and the Aculab-compatible C API (smdrvr.h,
// smbesp.h, smclib.h) call the same engine, so behaviour and error codes are
// identical. Handles are RAII: a Module keeps its engine alive, a Channel
// releases itself when destroyed, a Conference removes its parties when
// destroyed.
//
// Audio crosses the API as float samples, full scale +/-1.0 (= int16 32768),
// or as int16. Levels are in dB; dBm0 follows G.711 (A-law): a full-scale sine
// is +3.14 dBm0.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace prosody {

// ---------------------------------------------------------------------------
// Errors

// The ERR_SM_* codes of the C API, typed.
enum class Errc : int {
  ok = 0,
  deverr = -1,
  not_implemented = -100,
  bad_parameter = -101,
  no_such_module = -102,
  no_resources = -107,
  no_such_channel = -110,
  no_data_available = -111,
  no_record_in_progress = -112,
  no_capacity = -113,
  no_replay_in_progress = -114,
  bad_data_length = -115,
  wrong_channel_state = -116,
  wrong_channel_type = -117,
  not_same_module = -123,
  os_resource_problem = -131,
  wrong_module_state = -132,
  os_other_problem = -134,
  os_interrupted_wait = -135,
};

// "ERR_SM_BAD_PARAMETER" etc.
const char* errc_name(Errc code) noexcept;

// Thrown by every C++ call that the C API would fail with an ERR_SM_* code.
class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& what);
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

// ---------------------------------------------------------------------------
// Buffers

// A non-owning view of contiguous samples (std::span for C++17).
template <class T>
class Span {
 public:
  constexpr Span() noexcept = default;
  constexpr Span(T* data, std::size_t size) noexcept : data_(data), size_(size) {}
  template <class U, std::size_t N, class = std::enable_if_t<std::is_convertible_v<U (*)[], T (*)[]>>>
  constexpr Span(U (&array)[N]) noexcept  // NOLINT: implicit like std::span
      : data_(array), size_(N) {}
  template <class C, class = decltype(std::declval<C&>().data())>
  constexpr Span(C& container) noexcept  // NOLINT: implicit like std::span
      : data_(container.data()), size_(container.size()) {}
  constexpr T* data() const noexcept { return data_; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
  constexpr T* begin() const noexcept { return data_; }
  constexpr T* end() const noexcept { return data_ + size_; }
  constexpr Span subspan(std::size_t offset, std::size_t count) const noexcept { return Span(data_ + offset, count); }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// Sample conversion: the library's one rule, used by both API faces and the
// elements. Float full scale +/-1.0 is int16 32768; float to int16 rounds
// half to even and saturates, and NaN becomes 0.
void s16_to_float(const std::int16_t* in, float* out, std::size_t n) noexcept;
void float_to_s16(const float* in, std::int16_t* out, std::size_t n) noexcept;

// ---------------------------------------------------------------------------
// Modules

enum class ChannelType { input = 0, output = 1, half_duplex = 2, full_duplex = 3 };

enum class DriveMode {
  stepped,   // the application advances the module with Module::step()
  realtime,  // the module's own thread processes a frame every frame period
};

struct ModuleConfig {
  unsigned sample_rate = 8000;  // 8000, 16000, 32000 or 48000 Hz
  unsigned frame_us = 10000;    // 5000, 10000 or 20000 us per frame
  DriveMode drive = DriveMode::stepped;
};

namespace detail {
class Engine;
struct ChannelIo;
}  // namespace detail

class Channel;
class FrameClient;
struct FrameInput;
struct FrameOutput;
struct FrameResult;

// An opaque, copyable channel identity (the same value as the C API's
// tSMChannelId). It does not keep the channel alive.
struct ChannelId {
  std::uintptr_t value = 0;
  explicit operator bool() const noexcept { return value != 0; }
  friend bool operator==(ChannelId a, ChannelId b) noexcept { return a.value == b.value; }
  friend bool operator!=(ChannelId a, ChannelId b) noexcept { return a.value != b.value; }
};

// Where a module is in time: its sample counter and, for a real-time module,
// the monotonic time it reached that count. Together they are the module's
// clock: in real time, sample s is due at
// monotonic_ns + (s - samples) * 1e9 / sample_rate.
struct ModuleTime {
  std::uint64_t samples = 0;  // samples per channel processed so far
  // CLOCK_MONOTONIC ns at which the last frame processed was due (the count
  // reached samples then); -1 if that frame was stepped, or there was none.
  std::int64_t monotonic_ns = -1;
};

struct ModuleStats {
  std::uint64_t frames_processed = 0;
  std::uint64_t late_frames = 0;  // real time only: frames that missed their deadline
  unsigned channels = 0;
  unsigned participants = 0;
  unsigned conference_outputs = 0;
};

// A software Prosody processor. Copies share the same module.
class Module {
 public:
  Module() = default;

  // A new, independent module.
  static Module create(const ModuleConfig& config = {});

  // Shared modules: one registry per process, which the C API and the
  // GStreamer elements reach by the same names. A name of decimal digits
  // ("0", "1", ...) is that module of card 0, the one sm_open_module opens
  // (Errc::no_such_module beyond the card's count); any other name is a named
  // module. A shared module is created on first use with its configuration
  // and lives while anything holds it: a handle, a channel, an element, or
  // the C API between sm_open_module and sm_close_module. Card 0's modules
  // are configured as hardware (8000 Hz, 10 ms frames, real time); a named
  // module nobody configured is created as its first user asks: here, a
  // default ModuleConfig (stepped); the C API and the elements, real time.
  //
  // The module, created with its configuration if it does not exist yet.
  static Module open_shared(const std::string& name);
  // The module, created with config if it does not exist yet; an existing
  // module must have config's rate and frame (Errc::bad_parameter
  // otherwise) and keeps its drive mode.
  static Module open_shared(const std::string& name, const ModuleConfig& config);
  // The configuration the module has (drive: its current mode), or will be
  // created with; fixed (if given): whether it is set (the module exists, is
  // a card module, or was configured), or is a default its first user may
  // override.
  static ModuleConfig shared_config(const std::string& name, bool* fixed = nullptr);
  // Sets the configuration it will be created with; Errc::wrong_module_state
  // while it exists (prosody_sw_configure_module does this for card 0).
  static void configure_shared(const std::string& name, const ModuleConfig& config);

  explicit operator bool() const noexcept { return engine_ != nullptr; }
  unsigned sample_rate() const;
  unsigned frame_samples() const;
  DriveMode drive_mode() const;
  ModuleStats stats() const;

  Channel allocate(ChannelType type);
  // A handle to an existing channel of this module that does not release it
  // when destroyed (the channel belongs to whoever allocated it, through the
  // C or the C++ API). Errc::no_such_channel if id is not a live channel of
  // this module.
  Channel borrow(ChannelId id);

  // The module's output tone table (sm_add_output_freq, sm_add_output_tone):
  // a component of freq_hz (150..3600) at level_dbm0 (-35..+3), and a tone
  // of two components (0 = silence); each returns the new id.
  int add_output_freq(double freq_hz, double level_dbm0);
  int add_output_tone(int component1, int component2);

  // Stepped mode: process frames frames now (Errc::wrong_module_state in
  // real-time mode).
  void step(unsigned frames = 1);
  // Stepped mode, the frame API: processes one frame whose input comes from
  // the caller's spans and whose output goes to the caller's buffers, and
  // returns the frame's events (see FrameInput). Channels named must have
  // frame ports (Channel::enable_frame_input / enable_frame_output).
  void step_frame(Span<const FrameInput> inputs, Span<const FrameOutput> outputs, FrameResult& result);
  // The module's sample counter: samples per channel processed so far (the
  // first sample of the next frame). The only clock of record of a stepped
  // module: callers read it rather than keep their own.
  std::uint64_t samples_processed() const;
  // The sample counter and the monotonic time it was reached at, read
  // together (see ModuleTime): what a clock derived from the module needs.
  ModuleTime time() const;
  // Switch drive mode: start or stop the module's real-time thread.
  void start_realtime();
  void stop_realtime();
  // The module's frame client (see FrameClient), or none (null). Setting one
  // while another is set is Errc::wrong_module_state; removing it waits for
  // the frame in progress. The module holds the client until it is removed:
  // remove it before the client lets go of the module.
  void set_frame_client(std::shared_ptr<FrameClient> client);

  bool operator==(const Module& other) const noexcept { return engine_ == other.engine_; }

  // Internal: the engine behind the handle.
  const std::shared_ptr<detail::Engine>& engine() const noexcept { return engine_; }
  explicit Module(std::shared_ptr<detail::Engine> engine) : engine_(std::move(engine)) {}

 private:
  std::shared_ptr<detail::Engine> engine_;
};

// ---------------------------------------------------------------------------
// Channel settings and reports

// The mute sentinel of sm_conf_prim_adj_input.
constexpr int kMuteVolume = -128;

// Per-input processing of a conference participant, applied once per input
// whatever the number of outputs it feeds.
struct InputSettings {
  double volume_db = 0.0;  // -60..+24 dB
  bool mute = false;
  bool agc = false;
};

// Per-output processing of a conference output.
struct OutputSettings {
  double volume_db = 0.0;  // -60..+24 dB; with agc, an offset from ~0 dBm0
  bool agc = false;
  bool mute = false;  // "deaf": the output carries silence
};

// Speech-activity tracker (sm_conf_prim_adj_tracking).
struct TrackingSettings {
  double min_noise_level_db = -55.0;  // floor of Lmin, dBm0
  double speech_thresh = 0.01;        // active when E > Lmin + (Lmax-Lmin)*thresh
};

// Input AGC tuning (sm_conf_prim_adj_input_settings).
struct InputAgcSettings {
  double max_level_decay = 0.5;    // 0..1: how fast the peak follower decays
  double target_level_db = -20.0;  // -90..+3 dBm0
};

struct ActiveInput {
  int id = -1;                 // participant id; -1 for an empty rank
  double level_dbm0 = -100.0;  // short-term level
};

// A top-4 activity report of one conference output.
struct ActivityReport {
  std::uint64_t frame = 0;  // module frame at which it was made
  std::array<ActiveInput, 4> ranks{};
};

// Live figures of a channel's input half (all counters since allocation).
struct InputStats {
  std::uint64_t frames_in = 0;         // frames of audio received (host port or datafeed)
  std::uint64_t frames_concealed = 0;  // frames synthesised because input was missing
  std::uint64_t samples_dropped = 0;   // host-port overflow
  std::uint64_t samples_cleaned = 0;   // corrupt samples (NaN, infinite, beyond +/-8.0) replaced by silence
  double level_dbm0 = -100.0;          // short-term level of the raw input
  bool active = false;                 // speech-activity tracker verdict
  int participant_id = -1;
};

struct OutputStats {
  std::uint64_t frames_out = 0;
  std::uint64_t samples_dropped = 0;  // host-port overflow (nobody reading)
  std::uint64_t limited_frames = 0;   // frames in which the limiter reduced gain
  double level_dbm0 = -100.0;
};

// ---------------------------------------------------------------------------
// Tone detection (sm_listen_for) and recognition results

enum class ToneReport {
  at_start,       // kSMToneDetection...
  at_end,         // kSMToneEndDetection...
  with_length,    // kSMToneLenDetection...
  start_and_end,  // both (no C equivalent): Recognition::is_end tells them apart
};

enum class ToneMinDuration { none, ms40, ms64 };

enum class DtmfStandard {
  q24,   // ITU-T Q.24 (AT&T column): default
  etsi,  // ETSI ES 201 235-3
};

// sm_catsig_listen_for: is the answer a live speaker or a machine? The
// classifier waits for speech, then decides once: live when a short
// utterance (at most max_live_speech_ms of speech) is followed by
// live_silence_ms of silence, the caller's turn ("Hello?" ... silence);
// machine when the speech goes on past max_live_speech_ms without such a
// silence (a greeting). Silence alone is never categorised.
// docs/call-progress.md#live-speaker-or-answering-machine has the rules.
enum class CatSigAlgorithm {
  none = 0,
  live_speaker = 1,       // kBESPCatSigAlgLiveSpeaker
  live_speaker_tone = 2,  // kBESPCatSigAlgLiveSpeakerTone: a beep or answer tone is a machine too
};

struct LiveSpeakerSettings {
  double min_speech_dbm0 = -42.0;      // a 10 ms block this loud (and 12 dB over the noise) is speech
  double min_speech_ms = 80.0;         // shorter bursts (clicks) start no utterance
  double max_live_speech_ms = 1500.0;  // more speech than this, no long silence: a machine
  double live_silence_ms = 800.0;      // this much silence after a short utterance: live
};

// sm_onhook_listen_for: a far-end analogue phone going on-hook, heard as a
// click: a quiet line, a short strong pulse, then the line settles near a
// floor. The fields are SM_ONHOOK_LISTEN_FOR_PARMS's, with its defaults;
// docs/call-progress.md#on-hook-clicks has our reading of them.
struct OnHookSettings {
  double pre_pulse_max_dbm0 = -48.0;     // the line before the pulse: every 1 ms block at most this
  double pulse_min_dbm0 = -18.0;         // the pulse reaches this
  double post_pulse_floor_dbm0 = -42.0;  // and falls below this within max_duration_ms
  double latitude_db = -6.0;             // after it, the line stays below floor - latitude (-36 dBm0)
  double count_ratio = 4.0;              // pulse blocks over the floor : such blocks after it
  double total_ratio = 4.0;              // pulse energy : the energy after it
  int max_duration_ms = 60;              // the pulse's longest time above the floor, and the settling window
};

// The ranges listen_for accepts (bad_parameter otherwise): speech level
// -80..0 dBm0, min speech 0..1000 ms, max live speech 100..60000 ms, live
// silence 100..10000 ms; for on-hook, quiet line and floor below the pulse
// level (at most +3.14 dBm0), latitude -40..0 dB, ratios over 0, the
// duration 1..1000 ms.
bool live_speaker_settings_valid(const LiveSpeakerSettings& settings) noexcept;
bool onhook_settings_valid(const OnHookSettings& settings) noexcept;

struct ListenSettings {
  bool enabled = false;  // false = kSMToneDetectionNone
  ToneReport report = ToneReport::at_start;
  ToneMinDuration min_duration = ToneMinDuration::none;
  int tone_set = 0;           // 0 = DTMF, 1 = call progress and fax
  bool map_to_digits = true;  // kSMDTMFToneSetDigitMapping
  bool cptone_recognition = false;
  DtmfStandard standard = DtmfStandard::q24;
  double twist_normal_db = 8.0;   // low tone louder
  double twist_reverse_db = 4.0;  // high tone louder
  // Suppression of detected tones on a conference input (always on for a
  // participant with detection enabled, as on Prosody).
  bool suppress = true;
  unsigned lookahead_us = 0;  // 0..16000: delay on the mix path only
  // sm_ans_listen_for: modem answer tones (V.25 ANS and /ANS, V.8 ANSam and
  // /ANSam), each reported once when told apart, about 520 ms after its
  // onset: RecognitionType::ans, param0 = AnswerTone (1 ANS, 2 /ANS,
  // 3 ANSam, 4 /ANSam), param1 = ms from the onset to the report.
  bool answer_tones = false;
  // sm_beep_listen_for: an answering machine's beep (one steady pure tone,
  // 350-2,600 Hz, 90 ms or longer, then quiet), reported once, within 80 ms
  // of its end: RecognitionType::beep, is_end, param0 = frequency in Hz,
  // param1 = duration in ms. Neither kind is suppressed, and `report`
  // does not apply to them.
  bool beeps = false;
  // sm_catsig_listen_for: one categorisation per start, reported as
  // RecognitionType::catsig (param0 the evidence: 0 speech, 1 a beep, 2 an
  // answer tone; param1 0 machine, 1 live speaker). Turning it on, or a
  // new catsig_start value, restarts the classifier (ListenPart::catsig
  // counts the starts).
  CatSigAlgorithm catsig = CatSigAlgorithm::none;
  LiveSpeakerSettings live_speaker;
  std::uint32_t catsig_start = 0;
  // sm_onhook_listen_for: each on-hook click as RecognitionType::onhook
  // (param0 the pulse's ms above the floor, param1 its loudest 1 ms
  // block's power in dBm0).
  bool onhook = false;
  OnHookSettings onhook_settings;
};

// Which part of a channel's ListenSettings a listen_for call sets: the C
// API's sm_listen_for, sm_ans_listen_for, sm_beep_listen_for,
// sm_catsig_listen_for and sm_onhook_listen_for each set their own and keep
// the others'. Stopping catsig when it is not running is wrong_channel_state.
enum class ListenPart { all, tones, answer_tones, beeps, catsig, onhook };

enum class RecognitionType {
  nothing = 0,
  digit = 2,
  tone = 3,
  cptone = 4,
  grunt_start = 5,
  grunt_end = 6,
  catsig = 11,  // live speaker or machine (sm_catsig_listen_for)
  overrun = 12,
  ans = 13,     // a modem answer tone (sm_ans_listen_for): param0 its kind
  beep = 14,    // an answering machine's beep (sm_beep_listen_for), at its end
  onhook = 15,  // a far-end on-hook click (sm_onhook_listen_for)
};

struct Recognition {
  RecognitionType type = RecognitionType::nothing;
  int param0 = 0;                  // digit character, tone index or CP-tone id (C API meaning)
  int param1 = 0;                  // second tone index, or duration in ms in with_length mode
  bool is_end = false;             // the report marks the tone's end
  std::uint64_t start_sample = 0;  // module sample clock at the tone's onset
  std::uint32_t duration_ms = 0;   // at end: measured length
  double level_dbm0 = -100.0;      // level of the (strongest) tone
};

// ---------------------------------------------------------------------------
// Replay and record at the API level

enum class DataFormat {  // the kSMDataFormat values
  alaw = 30,
  ulaw = 31,
  oki_adpcm = 32,  // Dialogic/OKI ADPCM, two samples a byte (libsndfile's VOX codec)
  linear16 = 34,
  unsigned8 = 35,
  signed8 = 36,
};

struct ReplaySettings {
  DataFormat format = DataFormat::linear16;
  unsigned sample_rate = 0;       // of the data; 0 = the module's (others resampled, libsamplerate)
  std::uint64_t data_length = 0;  // bytes; 0 = until finish() (put_last)
  int volume_db = 0;
  bool agc = false;
  ChannelId background;  // mix this output channel's output under the replay
};

enum class ReplayState { complete, complete_data, underrun, has_capacity, no_capacity };

struct ReplayStatus {
  ReplayState state = ReplayState::complete;
  std::uint64_t offset = 0;  // bytes played
};

enum class RecordSource { own_input, alt_input, alt_output };

struct RecordSettings {
  DataFormat format = DataFormat::linear16;
  unsigned sample_rate = 0;  // of the data; 0 = the module's (others resampled, libsamplerate)
  RecordSource source = RecordSource::own_input;
  ChannelId alt_source;          // for alt_input / alt_output
  std::uint64_t max_octets = 0;  // 0 = no limit
  std::uint32_t max_elapsed_ms = 0;
  std::uint32_t max_silence_ms = 0;
  std::uint32_t max_initial_silence_ms = 0;
  double silence_level_db = -45.0;  // below this (dBm0) counts as silence
  // Silence elimination: 0 = off; N ms = every silent stretch is cut down to
  // at most N ms after the sound before it and N ms before the sound after
  // it (so onsets are kept). 1..1000 ms.
  std::uint32_t silence_elimination_ms = 0;
  // Tone elimination: tones this detector finds are removed from the
  // recording (16 ms of look-ahead, so from their first sample); the
  // recording is that much later. enabled = false: off.
  ListenSettings tone_elimination;
  int volume_db = 0;
  bool agc = false;  // record AGC toward about -12 dBm0
};

enum class RecordState { complete, complete_data, overrun, data, no_data, recognition };
enum class RecordTermination { not_yet, length, max_time, silence, aborted, error };

struct RecordStatus {
  RecordState state = RecordState::no_data;
  RecordTermination termination = RecordTermination::not_yet;
  std::uint64_t termination_octets = 0;
  Recognition recognition;  // state == recognition: a result of listen_for on the recording channel
};

// The record AGC's tuning (sm_record_agc_adjust_settings).
struct RecordAgcSettings {
  double max_level_decay = 0.5;    // 0..1
  double target_level_db = -12.0;  // -90..+3 dBm0
};

// ---------------------------------------------------------------------------
// Tone and digit generation on an output half (sm_play_tone and family)

// One cadence of a call-progress tone: the tone for on_ms, then silence for
// off_ms. Tone ids are those of the module's output tone table (0..15 the
// DTMF digits '0'..'9', 'A'..'D', '*', '#'; Module::add_output_tone adds more).
struct ToneCadence {
  int tone_id = 0;
  std::uint32_t on_ms = 0;
  std::uint32_t off_ms = 0;
};

enum class CPToneType {  // kSMPlayCPToneType
  one_shot = 0,          // the cadences once
  repeat = 1,            // looped, cut at the duration (0: forever)
  continuous = 2,        // the first cadence's tone, steady, for the duration (0: forever)
};

enum class ToneOperation { stop = 0, sum = 1, modulate = 2 };  // kSMToneOperation

// One item of a tone list (sm_play_tone_list): two sines summed, or sine 1
// amplitude-modulated by sine 2, for duration_ms; stop ends the list. A
// frequency of 0 is silence; levels in dBm0.
struct ToneItem {
  ToneOperation operation = ToneOperation::sum;
  std::uint32_t duration_ms = 0;
  double freq1_hz = 0.0;
  double level1_dbm0 = 0.0;
  double freq2_hz = 0.0;
  double level2_dbm0 = 0.0;
};

enum class ToneJobState {
  complete,  // played to the end (or aborted): the output half is free again
  ongoing,
  has_capacity,  // a tone list can take more items
  underrun,      // a tone list ran dry before its stop item: silence was played
};

// ---------------------------------------------------------------------------
// Datafeeds

// A channel's output datafeed: connect it to any number of channel inputs of
// the same module. A hop costs one frame, as a TDM hop does on hardware.
struct Datafeed {
  std::uintptr_t value = 0;
  explicit operator bool() const noexcept { return value != 0; }
};

// ---------------------------------------------------------------------------
// The frame API (stepped modules)
//
// A caller that produces and consumes audio a frame at a time (a GStreamer
// element, a file job) hands the module each frame's input as spans of its
// own memory and names where each output goes: the module copies once in and
// once out, converting formats as it copies, with no rings and no polling.
// Real-time modules use host ports instead.

enum class SampleFormat { f32, s16 };

// A stretch of one channel's input for this frame, in the caller's memory:
// count samples starting at sample offset of the frame.
struct FramePiece {
  std::uint32_t offset = 0;
  std::uint32_t count = 0;
  const void* samples = nullptr;
  SampleFormat format = SampleFormat::f32;
};

// One channel's input for one frame. Pieces are in order and do not
// overlap; samples that no piece covers are missing and are concealed (as
// lost audio is). ended: the input's stream ends with this frame; tones in
// progress end here and their end reports come with this frame's events.
struct FrameInput {
  ChannelId channel;
  Span<const FramePiece> pieces;
  bool ended = false;
};

// Where one channel's output for this frame goes: frame_samples() samples in
// format.
struct FrameOutput {
  ChannelId channel;
  void* samples = nullptr;
  SampleFormat format = SampleFormat::f32;
};

// An event of the frame: a tone recognised on a channel's input, or an
// activity report of a conference output. Events of channels with frame
// ports come here, not to get_recognised / conf_poll_activity.
struct FrameEvent {
  enum class Kind { recognition, activity };
  Kind kind = Kind::recognition;
  ChannelId channel;
  Recognition recognition;  // kind == recognition
  ActivityReport activity;  // kind == activity
};

struct FrameResult {
  std::uint64_t first_sample = 0;  // module sample counter at the frame's first sample
  std::vector<FrameEvent> events;  // cleared, then filled, by step_frame
};

// Frame ports on a module's own drive. A frame client serves the frame
// ports of every frame the module processes by itself: the real-time
// thread's frames, and step()'s. At each frame boundary the module asks it
// for the frame's inputs and outputs (as step_frame's caller gives them),
// processes the frame, and tells it the frame is done. Entries naming a
// channel that is gone, or that has no frame port, are left out (the
// client's view may lag the control calls by a frame); events are queued as
// for channels without frame ports. step_frame is refused while a client is
// set. The client runs on the processing path: in real time it must not
// wait for anything (no lock another thread may hold for long, no I/O).
struct FrameTime {
  std::uint64_t first_sample = 0;  // the frame's first sample
  // Real time: the CLOCK_MONOTONIC ns the frame is processed at, when its
  // last sample is due (input must be there by then). -1 when stepped.
  std::int64_t due_ns = -1;
};

class FrameClient {
 public:
  virtual ~FrameClient() = default;
  // Fills inputs and outputs (empty on entry; their capacity is kept from
  // frame to frame). Pieces and output buffers stay the client's, and must
  // stay valid until complete() returns.
  virtual void prepare(const FrameTime& time, std::vector<FrameInput>& inputs, std::vector<FrameOutput>& outputs) = 0;
  // The frame is processed: the outputs are written.
  virtual void complete(const FrameTime& time) = 0;
};

// ---------------------------------------------------------------------------
// Channels

// A channel of a module: an input half and an output half (depending on its
// type). Move-only; released (everything on it aborted) when destroyed.
class Channel {
 public:
  Channel() = default;
  Channel(Channel&& other) noexcept;
  Channel& operator=(Channel&& other) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();

  explicit operator bool() const noexcept { return id_.value != 0; }
  ChannelId id() const noexcept { return id_; }
  ChannelType type() const;
  Module module() const { return Module(engine_); }
  // Releases now (as sm_channel_release); the handle becomes empty.
  void release();

  // -- Host ports: the software counterpart of TDM and RTP endpoints. A host
  //    input replaces any datafeed on the channel's input; a host output
  //    receives every frame of the channel's output. Capacities in frames.
  void enable_host_input(std::size_t capacity_frames = 100);
  void enable_host_output(std::size_t capacity_frames = 100);
  void disable_host_input();
  void disable_host_output();
  // -- Frame ports (stepped modules): the input comes from, and the output
  //    goes to, Module::step_frame. A frame input replaces any datafeed or
  //    host input; a channel's input absent from a frame is missing for it.
  void enable_frame_input();
  void enable_frame_output();
  void disable_frame_input();
  void disable_frame_output();
  // Queue input samples; returns how many were accepted (the rest did not fit).
  std::size_t write_input(Span<const float> samples);
  std::size_t write_input(Span<const std::int16_t> samples);
  // Take output samples; returns how many were delivered.
  std::size_t read_output(Span<float> samples);
  std::size_t read_output(Span<std::int16_t> samples);
  std::size_t input_queued() const;
  std::size_t output_available() const;

  // -- Datafeeds
  Datafeed datafeed();                  // this channel's output datafeed
  void connect_input(Datafeed source);  // feed this channel's input
  void disconnect_input();

  // -- Conference output (output half)
  void conf_start(const OutputSettings& settings = {});
  void conf_clone(const Channel& model);     // model = empty Channel: as conf_start()
  int conf_add(const Channel& participant);  // returns the participant id
  int conf_add(ChannelId participant);
  void conf_leave(int id);
  void conf_stop(bool wait = true);
  void conf_abort();
  void conf_adjust_output(const OutputSettings& settings);
  void conf_config_activity(unsigned delay_ms, unsigned sensitivity);
  // The next pending activity report, if any (sm_conf_prim_status).
  std::optional<ActivityReport> conf_poll_activity();
  std::vector<int> conf_members() const;     // participant ids of this output
  std::vector<int> conf_active_ids() const;  // those currently active

  // -- Conference input (input half)
  int conf_attach();  // returns the participant id
  void conf_detach();
  int participant_id() const;  // -1 if not attached
  void conf_adjust_input(const InputSettings& settings);
  void conf_input_agc_settings(const InputAgcSettings& settings);
  void conf_tracking(const TrackingSettings& settings);
  // Speech-activity gating (on by default, as on Prosody). Off: the input is
  // always summed (music, announcements).
  void conf_set_gating(bool enabled);
  void set_sidetone(ChannelId output);  // empty id removes it

  // -- Tone detection on the input half
  void listen_for(const ListenSettings& settings, ListenPart part = ListenPart::all);
  std::optional<Recognition> get_recognised();
  void discard_recognised();

  // -- Replay (output half) and record (input half)
  void replay_start(const ReplaySettings& settings);
  // Queue encoded data; Errc::no_capacity if it does not all fit (nothing taken).
  void replay_put(Span<const std::uint8_t> data, bool last = false);
  ReplayStatus replay_status();
  std::uint64_t replay_abort();
  void record_start(const RecordSettings& settings);
  std::size_t record_get(Span<std::uint8_t> out);
  RecordStatus record_status();
  void record_abort(bool discard);
  // The record AGC's gain now (dB, -30..+20), from which it adapts on.
  void record_agc_adjust(double gain_db);
  void record_agc_settings(const RecordAgcSettings& settings);
  // When the write (output) or read (input) event is ready: minimum_bits >
  // 0, at least that many bits of room (output) or data (input); < 0
  // (output), fewer than |minimum_bits| bits queued; 0, the default (2048
  // bytes of room; any data). |minimum_bits| <= 16384.
  void set_output_threshold(int minimum_bits);
  void set_input_threshold(int minimum_bits);

  // -- Tone generation (output half): the output carries the tones, and no
  //    other output job runs, until tone_status() reports complete.
  void play_tone(int tone_id, std::uint32_t duration_ms = 0);  // 0: until tone_abort
  void play_cptone(CPToneType type, Span<const ToneCadence> cadences, std::uint32_t duration_ms = 0);
  // DTMF from '0'..'9', '*', '#', 'A'..'D' (at most 32); 0 ms: 100 ms defaults.
  void play_digits(const std::string& digits, std::uint32_t on_ms = 0, std::uint32_t off_ms = 0);
  // Starts a tone list, or appends to the one playing (Errc::no_capacity if
  // the items do not all fit: nothing taken).
  void play_tone_list(Span<const ToneItem> items);
  void tone_list_phase_reverse(std::uint32_t period_ms);  // 0: none
  ToneJobState tone_status();
  void tone_abort();

  InputStats input_stats() const;
  OutputStats output_stats() const;

  // Whether destroying the handle releases the channel (not for a handle
  // from Module::borrow).
  bool owns() const noexcept { return owned_; }

  // Internal: a handle to an existing channel of engine.
  Channel(std::shared_ptr<detail::Engine> engine, ChannelId id);
  Channel(std::shared_ptr<detail::Engine> engine, ChannelId id, std::shared_ptr<detail::ChannelIo> io,
          bool owned = true) noexcept;

 private:
  detail::ChannelIo& io(const char* what) const;

  std::shared_ptr<detail::Engine> engine_;
  ChannelId id_;
  bool owned_ = true;
  // The channel's shared state, set when the handle is made and never
  // changed by a const call: host-port audio goes through it without the
  // module's control lock, and threads sharing a handle do not race.
  std::shared_ptr<detail::ChannelIo> io_;
};

// ---------------------------------------------------------------------------
// High-level conference (the sm_conference_* library)

struct PartySettings {
  int out_volume_db = 0;
  bool out_agc = false;
  int in_volume_db = 0;
  bool in_agc = false;
};

// Every party hears every other party. Parties are pairs of channels (the
// two halves of one full-duplex channel, normally) owned by the caller; the
// conference does not keep them alive. Thread-safe.
//
// A party may have one half only (the other an empty ChannelId): with an
// output only, a monitor, which hears every party and is heard by none;
// with an input only, a background (music, announcements), heard by every
// party, hearing nothing. sm_conference_add_party wants both halves.
class Conference {
 public:
  Conference();
  ~Conference();  // removes every remaining party (outputs aborted, inputs detached)
  Conference(const Conference&) = delete;
  Conference& operator=(const Conference&) = delete;

  void add_party(ChannelId in, ChannelId out, const PartySettings& settings = {});
  void add_party(const Channel& channel, const PartySettings& settings = {}) {
    add_party(channel.id(), channel.id(), settings);
  }
  void remove_party(ChannelId in, ChannelId out);
  void remove_party(const Channel& channel) { remove_party(channel.id(), channel.id()); }
  std::size_t size() const;
  // Input channels of the parties currently speaking (never a lone member).
  std::vector<ChannelId> speaking() const;

  struct State;  // internal

 private:
  std::unique_ptr<State> state_;
};

}  // namespace prosody
