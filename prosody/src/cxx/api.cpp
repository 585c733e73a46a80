// api.cpp - the C++ face: translates calls to the engine and ERR_SM_* codes
// to exceptions. No logic of its own.
#include <vector>

#include "dsp/kernels.hpp"
#include "engine/engine.hpp"
#include "engine/registry.hpp"
#include "prosody/prosody.hpp"

namespace prosody {

using detail::Engine;
using detail::Registry;

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::ok:
      return "OK";
    case Errc::deverr:
      return "ERR_SM_DEVERR";
    case Errc::not_implemented:
      return "ERR_SM_NOT_IMPLEMENTED";
    case Errc::bad_parameter:
      return "ERR_SM_BAD_PARAMETER";
    case Errc::no_such_module:
      return "ERR_SM_NO_SUCH_MODULE";
    case Errc::no_resources:
      return "ERR_SM_NO_RESOURCES";
    case Errc::no_such_channel:
      return "ERR_SM_NO_SUCH_CHANNEL";
    case Errc::no_data_available:
      return "ERR_SM_NO_DATA_AVAILABLE";
    case Errc::no_record_in_progress:
      return "ERR_SM_NO_RECORD_IN_PROGRESS";
    case Errc::no_capacity:
      return "ERR_SM_NO_CAPACITY";
    case Errc::no_replay_in_progress:
      return "ERR_SM_NO_REPLAY_IN_PROGRESS";
    case Errc::bad_data_length:
      return "ERR_SM_BAD_DATA_LENGTH";
    case Errc::wrong_channel_state:
      return "ERR_SM_WRONG_CHANNEL_STATE";
    case Errc::wrong_channel_type:
      return "ERR_SM_WRONG_CHANNEL_TYPE";
    case Errc::not_same_module:
      return "ERR_SM_NOT_SAME_MODULE";
    case Errc::os_resource_problem:
      return "ERR_SM_OS_RESOURCE_PROBLEM";
    case Errc::wrong_module_state:
      return "ERR_SM_WRONG_MODULE_STATE";
    case Errc::os_other_problem:
      return "ERR_SM_OS_OTHER_PROBLEM";
    case Errc::os_interrupted_wait:
      return "ERR_SM_OS_INTERRUPTED_WAIT";
  }
  return "ERR_SM_UNKNOWN";
}

void s16_to_float(const std::int16_t* in, float* out, std::size_t n) noexcept { dsp::s16_to_float(in, out, n); }
void float_to_s16(const float* in, std::int16_t* out, std::size_t n) noexcept { dsp::float_to_s16(in, out, n); }

Error::Error(Errc code, const std::string& what) : std::runtime_error(what + ": " + errc_name(code)), code_(code) {}

namespace {

void check(Errc e, const char* what) {
  if (e != Errc::ok) throw Error(e, what);
}

Engine& engine_of(const std::shared_ptr<Engine>& e, const char* what) {
  if (!e) throw Error(Errc::no_such_channel, what);
  return *e;
}

}  // namespace

// ---------------------------------------------------------------------------
// Module

Module Module::create(const ModuleConfig& config) {
  std::shared_ptr<Engine> e;
  check(Registry::instance().create(config, e), "Module::create");
  if (config.drive == DriveMode::realtime) check(e->start_realtime(), "Module::create");
  return Module(std::move(e));
}

Module Module::open_shared(const std::string& name) {
  std::shared_ptr<Engine> e;
  check(Registry::instance().open_shared(name, nullptr, e), "Module::open_shared");
  return Module(std::move(e));
}

Module Module::open_shared(const std::string& name, const ModuleConfig& config) {
  std::shared_ptr<Engine> e;
  check(Registry::instance().open_shared(name, &config, e), "Module::open_shared");
  return Module(std::move(e));
}

ModuleConfig Module::shared_config(const std::string& name, bool* fixed) {
  ModuleConfig c;
  bool f = false;
  check(Registry::instance().shared_config(name, c, f), "Module::shared_config");
  if (fixed) *fixed = f;
  return c;
}

void Module::configure_shared(const std::string& name, const ModuleConfig& config) {
  check(Registry::instance().configure_shared(name, config), "Module::configure_shared");
}

unsigned Module::sample_rate() const { return engine_of(engine_, "Module::sample_rate").sample_rate(); }
unsigned Module::frame_samples() const { return engine_of(engine_, "Module::frame_samples").frame_samples(); }
DriveMode Module::drive_mode() const { return engine_of(engine_, "Module::drive_mode").drive_mode(); }
ModuleStats Module::stats() const { return engine_of(engine_, "Module::stats").stats(); }

Channel Module::allocate(ChannelType type) {
  std::uintptr_t id = 0;
  std::shared_ptr<detail::ChannelIo> io;
  check(engine_of(engine_, "Module::allocate").allocate(type, id, &io), "Module::allocate");
  return Channel(engine_, ChannelId{id}, std::move(io));
}

Channel Module::borrow(ChannelId id) {
  std::shared_ptr<detail::ChannelIo> io;
  check(engine_of(engine_, "Module::borrow").channel_io(id.value, io), "Module::borrow");
  return Channel(engine_, id, std::move(io), false);
}

void Module::step(unsigned frames) { check(engine_of(engine_, "Module::step").step(frames), "Module::step"); }
void Module::step_frame(Span<const FrameInput> inputs, Span<const FrameOutput> outputs, FrameResult& result) {
  check(engine_of(engine_, "Module::step_frame").step_frame(inputs, outputs, result), "Module::step_frame");
}
std::uint64_t Module::samples_processed() const {
  return engine_of(engine_, "Module::samples_processed").samples_processed();
}
ModuleTime Module::time() const { return engine_of(engine_, "Module::time").time(); }
void Module::set_frame_client(std::shared_ptr<FrameClient> client) {
  check(engine_of(engine_, "Module::set_frame_client").set_frame_client(std::move(client)), "Module::set_frame_client");
}
void Module::start_realtime() {
  check(engine_of(engine_, "Module::start_realtime").start_realtime(), "Module::start_realtime");
}
void Module::stop_realtime() {
  check(engine_of(engine_, "Module::stop_realtime").stop_realtime(), "Module::stop_realtime");
}

// ---------------------------------------------------------------------------
// Channel

Channel::Channel(std::shared_ptr<detail::Engine> engine, ChannelId id) : engine_(std::move(engine)), id_(id) {
  if (engine_ && id_) check(engine_->channel_io(id_.value, io_), "Channel");
}

Channel::Channel(std::shared_ptr<detail::Engine> engine, ChannelId id, std::shared_ptr<detail::ChannelIo> io,
                 bool owned) noexcept
    : engine_(std::move(engine)), id_(id), owned_(owned), io_(std::move(io)) {}

Channel::Channel(Channel&& o) noexcept
    : engine_(std::move(o.engine_)), id_(o.id_), owned_(o.owned_), io_(std::move(o.io_)) {
  o.id_ = ChannelId{};
}

Channel& Channel::operator=(Channel&& o) noexcept {
  if (this != &o) {
    if (engine_ && id_ && owned_) engine_->release(id_.value);
    engine_ = std::move(o.engine_);
    id_ = o.id_;
    owned_ = o.owned_;
    io_ = std::move(o.io_);
    o.id_ = ChannelId{};
  }
  return *this;
}

Channel::~Channel() {
  if (engine_ && id_ && owned_) engine_->release(id_.value);
}

void Channel::release() {
  if (!engine_ || !id_) throw Error(Errc::no_such_channel, "Channel::release");
  const Errc e = engine_->release(id_.value);
  id_ = ChannelId{};
  io_.reset();
  check(e, "Channel::release");
}

#define PROSODY_ENGINE(what) engine_of(engine_, what)

ChannelType Channel::type() const {
  ChannelType t{};
  check(PROSODY_ENGINE("Channel::type").channel_type(id_.value, t), "Channel::type");
  return t;
}

void Channel::enable_host_input(std::size_t capacity_frames) {
  check(PROSODY_ENGINE("Channel::enable_host_input").enable_host_input(id_.value, capacity_frames),
        "Channel::enable_host_input");
}
void Channel::enable_host_output(std::size_t capacity_frames) {
  check(PROSODY_ENGINE("Channel::enable_host_output").enable_host_output(id_.value, capacity_frames),
        "Channel::enable_host_output");
}
void Channel::disable_host_input() {
  check(PROSODY_ENGINE("Channel::disable_host_input").disable_host_input(id_.value), "Channel::disable_host_input");
}
void Channel::disable_host_output() {
  check(PROSODY_ENGINE("Channel::disable_host_output").disable_host_output(id_.value), "Channel::disable_host_output");
}

void Channel::enable_frame_input() {
  check(PROSODY_ENGINE("Channel::enable_frame_input").enable_frame_input(id_.value), "Channel::enable_frame_input");
}
void Channel::enable_frame_output() {
  check(PROSODY_ENGINE("Channel::enable_frame_output").enable_frame_output(id_.value), "Channel::enable_frame_output");
}
void Channel::disable_frame_input() {
  check(PROSODY_ENGINE("Channel::disable_frame_input").disable_frame_input(id_.value), "Channel::disable_frame_input");
}
void Channel::disable_frame_output() {
  check(PROSODY_ENGINE("Channel::disable_frame_output").disable_frame_output(id_.value),
        "Channel::disable_frame_output");
}

// Host-port audio goes straight to the channel's shared state, which the
// handle has held since the channel was allocated: no control lock.
detail::ChannelIo& Channel::io(const char* what) const {
  if (!io_) throw Error(Errc::no_such_channel, what);
  return *io_;
}

std::size_t Channel::write_input(Span<const float> samples) {
  std::size_t accepted = 0;
  check(io("Channel::write_input").write_input(samples.data(), samples.size(), accepted), "Channel::write_input");
  return accepted;
}

std::size_t Channel::write_input(Span<const std::int16_t> samples) {
  std::size_t accepted = 0;
  check(io("Channel::write_input").write_input(samples.data(), samples.size(), accepted), "Channel::write_input");
  return accepted;
}

std::size_t Channel::read_output(Span<float> samples) {
  std::size_t delivered = 0;
  check(io("Channel::read_output").read_output(samples.data(), samples.size(), delivered), "Channel::read_output");
  return delivered;
}

std::size_t Channel::read_output(Span<std::int16_t> samples) {
  std::size_t delivered = 0;
  check(io("Channel::read_output").read_output(samples.data(), samples.size(), delivered), "Channel::read_output");
  return delivered;
}

std::size_t Channel::input_queued() const {
  std::size_t in = 0, out = 0;
  check(io("Channel::input_queued").host_levels(in, out), "Channel::input_queued");
  return in;
}

std::size_t Channel::output_available() const {
  std::size_t in = 0, out = 0;
  check(io("Channel::output_available").host_levels(in, out), "Channel::output_available");
  return out;
}

Datafeed Channel::datafeed() {
  std::uintptr_t d = 0;
  check(PROSODY_ENGINE("Channel::datafeed").get_datafeed(id_.value, d), "Channel::datafeed");
  return Datafeed{d};
}
void Channel::connect_input(Datafeed source) {
  if (!source) throw Error(Errc::bad_parameter, "Channel::connect_input");
  check(PROSODY_ENGINE("Channel::connect_input").connect_datafeed(id_.value, source.value), "Channel::connect_input");
}
void Channel::disconnect_input() {
  check(PROSODY_ENGINE("Channel::disconnect_input").connect_datafeed(id_.value, 0), "Channel::disconnect_input");
}

void Channel::conf_start(const OutputSettings& s) {
  check(PROSODY_ENGINE("Channel::conf_start").conf_start(id_.value, s, 0), "Channel::conf_start");
}
void Channel::conf_clone(const Channel& model) {
  check(PROSODY_ENGINE("Channel::conf_clone").conf_clone(id_.value, model.id_.value), "Channel::conf_clone");
}
int Channel::conf_add(const Channel& participant) { return conf_add(participant.id_); }
int Channel::conf_add(ChannelId participant) {
  int id = -1;
  check(PROSODY_ENGINE("Channel::conf_add").conf_add(id_.value, participant.value, 0.0f, id), "Channel::conf_add");
  return id;
}
void Channel::conf_leave(int id) {
  check(PROSODY_ENGINE("Channel::conf_leave").conf_leave(id_.value, id), "Channel::conf_leave");
}
void Channel::conf_stop(bool wait) {
  check(PROSODY_ENGINE("Channel::conf_stop").conf_stop(id_.value, wait), "Channel::conf_stop");
}
void Channel::conf_abort() { conf_stop(true); }
void Channel::conf_adjust_output(const OutputSettings& s) {
  check(PROSODY_ENGINE("Channel::conf_adjust_output").conf_adjust_output(id_.value, s), "Channel::conf_adjust_output");
}
void Channel::conf_config_activity(unsigned delay_ms, unsigned sensitivity) {
  check(PROSODY_ENGINE("Channel::conf_config_activity").conf_config_activity(id_.value, delay_ms, sensitivity),
        "Channel::conf_config_activity");
}
std::optional<ActivityReport> Channel::conf_poll_activity() {
  Engine::ConfStatus status;
  ActivityReport report;
  check(PROSODY_ENGINE("Channel::conf_poll_activity").conf_status(id_.value, status, report),
        "Channel::conf_poll_activity");
  if (status == Engine::ConfStatus::active_inputs) return report;
  return std::nullopt;
}
std::vector<int> Channel::conf_members() const {
  std::vector<int> m;
  check(PROSODY_ENGINE("Channel::conf_members").conf_members(id_.value, &m, nullptr, false), "Channel::conf_members");
  return m;
}
std::vector<int> Channel::conf_active_ids() const {
  std::vector<int> a;
  check(PROSODY_ENGINE("Channel::conf_active_ids").conf_members(id_.value, nullptr, &a, false),
        "Channel::conf_active_ids");
  return a;
}

int Channel::conf_attach() {
  int id = -1;
  check(PROSODY_ENGINE("Channel::conf_attach").conf_attach(id_.value, 0, id), "Channel::conf_attach");
  return id;
}
void Channel::conf_detach() {
  check(PROSODY_ENGINE("Channel::conf_detach").conf_detach(id_.value, 0), "Channel::conf_detach");
}
int Channel::participant_id() const {
  int id = -1;
  check(PROSODY_ENGINE("Channel::participant_id").participant_id(id_.value, id), "Channel::participant_id");
  return id;
}
void Channel::conf_adjust_input(const InputSettings& s) {
  check(PROSODY_ENGINE("Channel::conf_adjust_input").conf_adjust_input(id_.value, s), "Channel::conf_adjust_input");
}
void Channel::conf_input_agc_settings(const InputAgcSettings& s) {
  check(PROSODY_ENGINE("Channel::conf_input_agc_settings").conf_input_agc(id_.value, s),
        "Channel::conf_input_agc_settings");
}
void Channel::conf_tracking(const TrackingSettings& s) {
  check(PROSODY_ENGINE("Channel::conf_tracking").conf_tracking(id_.value, s), "Channel::conf_tracking");
}
void Channel::conf_set_gating(bool enabled) {
  check(PROSODY_ENGINE("Channel::conf_set_gating").conf_gating(id_.value, enabled), "Channel::conf_set_gating");
}
void Channel::set_sidetone(ChannelId output) {
  check(PROSODY_ENGINE("Channel::set_sidetone").set_sidetone(id_.value, output.value), "Channel::set_sidetone");
}

void Channel::listen_for(const ListenSettings& s, ListenPart part) {
  check(PROSODY_ENGINE("Channel::listen_for").listen_for(id_.value, s, part), "Channel::listen_for");
}
std::optional<Recognition> Channel::get_recognised() {
  Recognition r;
  check(PROSODY_ENGINE("Channel::get_recognised").get_recognised(id_.value, r), "Channel::get_recognised");
  if (r.type == RecognitionType::nothing) return std::nullopt;
  return r;
}
void Channel::discard_recognised() {
  check(PROSODY_ENGINE("Channel::discard_recognised").discard_recognised(id_.value), "Channel::discard_recognised");
}

void Channel::replay_start(const ReplaySettings& s) {
  check(PROSODY_ENGINE("Channel::replay_start").replay_start(id_.value, s), "Channel::replay_start");
}
void Channel::replay_put(Span<const std::uint8_t> data, bool last) {
  std::size_t accepted = 0;
  check(PROSODY_ENGINE("Channel::replay_put").replay_put(id_.value, data.data(), data.size(), last, false, accepted),
        "Channel::replay_put");
}
ReplayStatus Channel::replay_status() {
  ReplayStatus s;
  check(PROSODY_ENGINE("Channel::replay_status").replay_status(id_.value, s), "Channel::replay_status");
  return s;
}
std::uint64_t Channel::replay_abort() {
  std::uint64_t offset = 0;
  check(PROSODY_ENGINE("Channel::replay_abort").replay_abort(id_.value, offset), "Channel::replay_abort");
  return offset;
}
void Channel::record_start(const RecordSettings& s) {
  check(PROSODY_ENGINE("Channel::record_start").record_start(id_.value, s), "Channel::record_start");
}
std::size_t Channel::record_get(Span<std::uint8_t> out) {
  std::size_t got = 0;
  check(PROSODY_ENGINE("Channel::record_get").record_get(id_.value, out.data(), out.size(), got),
        "Channel::record_get");
  return got;
}
RecordStatus Channel::record_status() {
  RecordStatus s;
  check(PROSODY_ENGINE("Channel::record_status").record_status(id_.value, s), "Channel::record_status");
  return s;
}
void Channel::record_abort(bool discard) {
  check(PROSODY_ENGINE("Channel::record_abort").record_abort(id_.value, discard), "Channel::record_abort");
}

void Channel::record_agc_adjust(double gain_db) {
  check(PROSODY_ENGINE("Channel::record_agc_adjust").record_agc_adjust(id_.value, gain_db),
        "Channel::record_agc_adjust");
}

void Channel::record_agc_settings(const RecordAgcSettings& settings) {
  check(PROSODY_ENGINE("Channel::record_agc_settings").record_agc_settings(id_.value, settings),
        "Channel::record_agc_settings");
}

void Channel::set_output_threshold(int minimum_bits) {
  check(PROSODY_ENGINE("Channel::set_output_threshold").set_threshold(id_.value, true, minimum_bits),
        "Channel::set_output_threshold");
}

void Channel::set_input_threshold(int minimum_bits) {
  check(PROSODY_ENGINE("Channel::set_input_threshold").set_threshold(id_.value, false, minimum_bits),
        "Channel::set_input_threshold");
}

InputStats Channel::input_stats() const {
  InputStats s;
  check(PROSODY_ENGINE("Channel::input_stats").input_stats(id_.value, s), "Channel::input_stats");
  return s;
}
OutputStats Channel::output_stats() const {
  OutputStats s;
  check(PROSODY_ENGINE("Channel::output_stats").output_stats(id_.value, s), "Channel::output_stats");
  return s;
}

#undef PROSODY_ENGINE

}  // namespace prosody
