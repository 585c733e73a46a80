// engine.cpp - the control side of a module: every call validates, changes
// the control model under ctl_mutex_, and bumps the version; the processing
// path picks the change up at the next frame boundary (process.cpp).
#include "engine/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "dsp/levels.hpp"
#include "engine/registry.hpp"

namespace prosody::detail {

namespace {

constexpr double kMinVolumeDb = -60.0;
constexpr double kMaxVolumeDb = 24.0;
constexpr int kConfTypeStandard = 0;
constexpr int kConfTypeIndividualVolume = 1;
constexpr std::size_t kMaxHostCapacityFrames = 100000;

bool volume_ok(double db) { return std::isfinite(db) && db >= kMinVolumeDb && db <= kMaxVolumeDb; }

unsigned bytes_per_sample(DataFormat f) { return f == DataFormat::linear16 ? 2u : 1u; }

bool format_ok(DataFormat f) {
  switch (f) {
    case DataFormat::alaw:
    case DataFormat::ulaw:
    case DataFormat::linear16:
    case DataFormat::unsigned8:
    case DataFormat::signed8:
      return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------
// Construction and drive

Errc Engine::validate(const ModuleConfig& c) {
  const unsigned r = c.sample_rate;
  if (r != 8000 && r != 16000 && r != 32000 && r != 48000) return Errc::bad_parameter;
  if (c.frame_us != 5000 && c.frame_us != 10000 && c.frame_us != 20000) return Errc::bad_parameter;
  return Errc::ok;
}

Engine::Engine(std::uint32_t module_no, const ModuleConfig& config)
    : module_no_(module_no),
      config_(config),
      frame_(config.sample_rate / 1000 * config.frame_us / 1000),
      frame_seconds_(config.frame_us / 1e6) {
  acc_.resize(frame_);
  scratch_.resize(frame_);
  fade_out_.resize(frame_);
  for (unsigned i = 0; i < frame_; ++i) fade_out_[i] = 1.0f - float(i + 1) / float(frame_);
  limiter_coeff_ = dsp::limiter_coefficients({}, config.sample_rate);
  scratch_.resize(frame_ + 2);
  peaks_.resize(frame_ / limiter_coeff_.subblock + 2);
  out_scratch_.resize(frame_);
  level_alpha_ = std::min(1.0, frame_seconds_ / 0.1);
  // Echo suppression thresholds as mean squares, so the frame loop compares
  // without logarithms.
  echo_min_output_ms_ = dsp::dbm0_to_mean_square(-40.0);
  echo_margin_ratio_ = std::pow(10.0, -20.0 / 10.0);
  dsp::AgcParams out_agc;
  out_agc.frame_seconds = frame_seconds_;
  out_agc.target_dbm0 = 0.0;  // Prosody: output AGC drives toward about 0 dBm0
  output_agc_coeff_ = dsp::agc_coefficients(out_agc);
  replay_agc_coeff_ = output_agc_coeff_;
  dsp::AgcParams rec_agc;
  rec_agc.frame_seconds = frame_seconds_;
  rec_agc.target_dbm0 = -12.0;  // Prosody: record AGC converges toward about -12 dBm0
  record_agc_coeff_ = dsp::agc_coefficients(rec_agc);
}

Engine::~Engine() { stop_realtime(); }

DriveMode Engine::drive_mode() const { return rt_running_.load() ? DriveMode::realtime : DriveMode::stepped; }

ModuleStats Engine::stats() const {
  ModuleStats s;
  s.frames_processed = frames_.load();
  s.late_frames = late_frames_.load();
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  for (const auto& ch : slots_) {
    if (!ch.allocated) continue;
    ++s.channels;
    if (ch.pid >= 0) ++s.participants;
    if (ch.out_job == OutputJob::conference) ++s.conference_outputs;
  }
  return s;
}

Errc Engine::step(unsigned frames) {
  if (rt_running_.load()) return Errc::wrong_module_state;
  std::lock_guard<std::mutex> lock(process_mutex_);
  for (unsigned i = 0; i < frames; ++i) {
    sync_runtime(true);
    process_frame();
  }
  return Errc::ok;
}

Errc Engine::start_realtime() {
  std::lock_guard<std::mutex> lock(process_mutex_);
  if (rt_running_.load()) return Errc::ok;
  rt_stop_ = false;
  rt_running_ = true;
  try {
    rt_thread_ = std::thread([this] { realtime_loop(); });
  } catch (...) {
    rt_running_ = false;
    return Errc::os_resource_problem;
  }
  return Errc::ok;
}

Errc Engine::stop_realtime() {
  if (!rt_running_.load()) return Errc::ok;
  rt_stop_ = true;
  if (rt_thread_.joinable()) rt_thread_.join();
  rt_running_ = false;
  applied_cv_.notify_all();
  return Errc::ok;
}

void Engine::changed() { version_.fetch_add(1, std::memory_order_release); }

void Engine::wait_applied(std::uint64_t version) {
  // Only a running real-time thread applies changes on its own; in stepped
  // mode the change is applied by the next step().
  if (!rt_running_.load() || rt_thread_.get_id() == std::this_thread::get_id()) return;
  std::unique_lock<std::mutex> lock(applied_mutex_);
  applied_cv_.wait_for(lock, std::chrono::seconds(2),
                       [&] { return applied_version_.load() >= version || !rt_running_.load(); });
}

// ---------------------------------------------------------------------------
// Lookup

Errc Engine::lookup(std::uintptr_t id, ChannelCtl*& ch, ChannelKey* key_out) {
  ChannelKey key;
  if (!decode_channel(id, key) || key.module != module_no_) return Errc::no_such_channel;
  if (key.slot >= slots_.size()) return Errc::no_such_channel;
  ChannelCtl& c = slots_[key.slot];
  if (!c.allocated || c.gen != key.gen) return Errc::no_such_channel;
  ch = &c;
  if (key_out) *key_out = key;
  return Errc::ok;
}

// A second channel argument (participant, model, background, source): a
// channel of another module is a bad parameter, as the TiNG library reports.
Errc Engine::lookup_any_module(std::uintptr_t id, ChannelCtl*& ch, ChannelKey& key) {
  if (!decode_channel(id, key)) return Errc::no_such_channel;
  if (key.module != module_no_)
    return Registry::instance().find(key.module) ? Errc::bad_parameter : Errc::no_such_channel;
  return lookup(id, ch, &key);
}

bool Engine::input_half_busy(const ChannelCtl& ch) const { return ch.pid >= 0 || (ch.io && ch.io->record_busy.load()); }

// ---------------------------------------------------------------------------
// Channels

Errc Engine::allocate(ChannelType type, std::uintptr_t& id) {
  if (type != ChannelType::input && type != ChannelType::output && type != ChannelType::half_duplex &&
      type != ChannelType::full_duplex)
    return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= 0xFFFFFE) return Errc::no_resources;
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
    records_ctl_.emplace_back();
    // Generations start at a module-dependent value so ids of different
    // modules rarely look alike.
    slots_.back().gen = (module_no_ * 7919u) & 0x7FFFFF;
  }
  ChannelCtl& ch = slots_[slot];
  const std::uint32_t gen = (ch.gen + 1) & 0x7FFFFF;
  ch = ChannelCtl{};
  ch.allocated = true;
  ch.gen = gen == 0 ? 1 : gen;
  ch.type = type;
  ch.io = std::make_shared<ChannelIo>();
  id = encode_channel(module_no_, slot, ch.gen);
  changed();
  return Errc::ok;
}

void Engine::clear_members(ChannelCtl& ch) {
  ch.conf.members.for_each([&](std::size_t pid) {
    if (pid >= pid_slot_.size()) return;
    ChannelCtl& in = slots_[pid_slot_[pid]];
    if (in.member_of > 0) --in.member_of;
    // Standard type: an input no output holds any more, and which was only
    // attached implicitly, is detached.
    if (in.member_of == 0 && !in.explicit_attach && in.pid >= 0) detach_input(in);
  });
  ch.conf.members.clear();
  ++ch.conf.version;
  plan_dirty_ = true;
}

void Engine::stop_output(ChannelCtl& ch) {
  if (ch.out_job == OutputJob::conference) {
    clear_members(ch);
    ch.io->conf_stopped_pending = true;
  } else if (ch.out_job == OutputJob::replay) {
    if (ch.io->replay) {
      ch.io->replay->abort_requested = true;
      ch.io->replay->finished = true;
    }
    ch.io->replay.reset();
  }
  ch.out_job = OutputJob::none;
  ch.io->output_busy = false;
  plan_dirty_ = true;
}

int Engine::attach_input(ChannelCtl& ch, bool explicit_attach, int conf_type) {
  if (ch.pid < 0) {
    const std::size_t pid = pids_.allocate();
    if (pid >= pid_slot_.size()) pid_slot_.resize(pid + 1, 0);
    pid_slot_[pid] = static_cast<std::uint32_t>(&ch - slots_.data());
    ch.pid = static_cast<int>(pid);
    ch.attach_type = conf_type;
    ch.member_of = 0;
    ch.input = InputSettings{};
    ch.input_agc = InputAgcSettings{};
    ch.tracking = TrackingSettings{};
    ch.gating = true;
    ch.has_sidetone = false;
    plan_dirty_ = true;
  }
  if (explicit_attach) ch.explicit_attach = true;
  return ch.pid;
}

void Engine::detach_input(ChannelCtl& ch) {
  if (ch.pid < 0) return;
  pids_.release(static_cast<std::size_t>(ch.pid));
  ch.pid = -1;
  ch.explicit_attach = false;
  ch.member_of = 0;
  ch.has_sidetone = false;
  plan_dirty_ = true;
}

void Engine::remove_from_all_outputs(int pid) {
  for (auto& o : slots_) {
    if (!o.allocated || o.out_job != OutputJob::conference) continue;
    if (o.conf.members.reset(static_cast<std::size_t>(pid))) ++o.conf.version;
  }
  plan_dirty_ = true;
}

void Engine::abort_record(ChannelCtl& ch, ChannelKey key, bool discard) {
  auto& job = records_ctl_[key.slot];
  if (!job) return;
  job->discard = discard;
  job->abort_requested = true;
  if (discard) job->data.clear();
  int expected = static_cast<int>(RecordTermination::not_yet);
  job->termination.compare_exchange_strong(expected, static_cast<int>(RecordTermination::aborted));
  (void)ch;
}

Errc Engine::release(std::uintptr_t id) {
  std::uint64_t version;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    ChannelKey key;
    if (Errc e = lookup(id, ch, &key); e != Errc::ok) return e;
    // Everything on the channel is aborted, as documented.
    if (ch->out_job != OutputJob::none) stop_output(*ch);
    ch->io->conf_stopped_pending = false;
    if (ch->pid >= 0) {
      remove_from_all_outputs(ch->pid);
      detach_input(*ch);
    }
    abort_record(*ch, key, true);
    records_ctl_[key.slot].reset();
    // Inputs fed by this channel's datafeed hear silence from now on; records
    // of this channel's input or output end.
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      ChannelCtl& o = slots_[s];
      if (!o.allocated) continue;
      if (o.feed == InputFeed::datafeed && o.feed_source.slot == key.slot && o.feed_source.gen == key.gen)
        o.feed = InputFeed::none;
      if (o.has_sidetone && o.sidetone.slot == key.slot && o.sidetone.gen == key.gen) o.has_sidetone = false;
      auto& rec = records_ctl_[s];
      if (rec && rec->source.slot == key.slot && rec->source.gen == key.gen && s != key.slot) {
        int expected = static_cast<int>(RecordTermination::not_yet);
        rec->termination.compare_exchange_strong(expected, static_cast<int>(RecordTermination::error));
      }
    }
    ch->io->listening = false;
    ch->io->output_busy = false;
    ch->io->record_busy = false;
    ch->io->released = true;
    ch->allocated = false;
    ch->io.reset();
    free_slots_.push_back(key.slot);
    changed();
    plan_dirty_ = true;
    version = version_.load();
  }
  // The processing path may still hold the channel's shared state for one
  // frame; nothing here waits for it.
  (void)version;
  return Errc::ok;
}

Errc Engine::release_all() {
  std::vector<std::uintptr_t> ids;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    for (std::size_t s = 0; s < slots_.size(); ++s)
      if (slots_[s].allocated) ids.push_back(encode_channel(module_no_, static_cast<std::uint32_t>(s), slots_[s].gen));
  }
  for (auto id : ids) release(id);
  return Errc::ok;
}

Errc Engine::channel_type(std::uintptr_t id, ChannelType& type) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(id, ch); e != Errc::ok) return e;
  type = ch->type;
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Host ports

Errc Engine::enable_host_input(std::uintptr_t id, std::size_t capacity_frames) {
  if (capacity_frames == 0 || capacity_frames > kMaxHostCapacityFrames) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(id, ch); e != Errc::ok) return e;
  if (!has_input(ch->type)) return Errc::wrong_channel_type;
  {
    std::lock_guard<std::mutex> io_lock(ch->io->api_mutex);
    if (!ch->io->host_in || ch->io->host_in->capacity() < capacity_frames * frame_)
      ch->io->host_in = std::make_shared<SpscRing<float>>(capacity_frames * frame_);
  }
  ch->feed = InputFeed::host;
  ch->host_input = true;
  changed();
  return Errc::ok;
}

Errc Engine::enable_host_output(std::uintptr_t id, std::size_t capacity_frames) {
  if (capacity_frames == 0 || capacity_frames > kMaxHostCapacityFrames) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(id, ch); e != Errc::ok) return e;
  if (!has_output(ch->type)) return Errc::wrong_channel_type;
  {
    std::lock_guard<std::mutex> io_lock(ch->io->api_mutex);
    if (!ch->io->host_out || ch->io->host_out->capacity() < capacity_frames * frame_)
      ch->io->host_out = std::make_shared<SpscRing<float>>(capacity_frames * frame_);
  }
  ch->host_output = true;
  changed();
  return Errc::ok;
}

Errc Engine::disable_host_input(std::uintptr_t id) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(id, ch); e != Errc::ok) return e;
  if (ch->feed == InputFeed::host) ch->feed = InputFeed::none;
  ch->host_input = false;
  std::lock_guard<std::mutex> io_lock(ch->io->api_mutex);
  ch->io->host_in.reset();
  changed();
  return Errc::ok;
}

Errc Engine::disable_host_output(std::uintptr_t id) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(id, ch); e != Errc::ok) return e;
  ch->host_output = false;
  std::lock_guard<std::mutex> io_lock(ch->io->api_mutex);
  ch->io->host_out.reset();
  changed();
  return Errc::ok;
}

Errc Engine::write_input(std::uintptr_t id, const float* samples, std::size_t n, std::size_t& accepted) {
  accepted = 0;
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(id, ch); e != Errc::ok) return e;
    if (!ch->host_input) return Errc::wrong_channel_state;
    io = ch->io;
  }
  if (n > 0 && samples == nullptr) return Errc::bad_parameter;
  std::lock_guard<std::mutex> io_lock(io->api_mutex);
  if (!io->host_in) return Errc::wrong_channel_state;
  accepted = io->host_in->write(samples, n);
  if (accepted < n) io->in_dropped += n - accepted;
  return Errc::ok;
}

Errc Engine::read_output(std::uintptr_t id, float* samples, std::size_t n, std::size_t& delivered) {
  delivered = 0;
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(id, ch); e != Errc::ok) return e;
    if (!ch->host_output) return Errc::wrong_channel_state;
    io = ch->io;
  }
  if (n > 0 && samples == nullptr) return Errc::bad_parameter;
  std::lock_guard<std::mutex> io_lock(io->api_mutex);
  if (!io->host_out) return Errc::wrong_channel_state;
  delivered = io->host_out->read(samples, n);
  return Errc::ok;
}

Errc Engine::host_levels(std::uintptr_t id, std::size_t& queued_in, std::size_t& available_out) {
  queued_in = available_out = 0;
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(id, ch); e != Errc::ok) return e;
    io = ch->io;
  }
  std::lock_guard<std::mutex> io_lock(io->api_mutex);
  if (io->host_in) queued_in = io->host_in->size();
  if (io->host_out) available_out = io->host_out->size();
  return Errc::ok;
}

Errc Engine::channel_io(std::uintptr_t id, std::shared_ptr<ChannelIo>& io) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(id, ch); e != Errc::ok) return e;
  io = ch->io;
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Datafeeds

Errc Engine::get_datafeed(std::uintptr_t id, std::uintptr_t& datafeed) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  ChannelKey key;
  if (Errc e = lookup(id, ch, &key); e != Errc::ok) return e;
  if (!has_output(ch->type)) return Errc::wrong_channel_type;
  ch->datafeed_referenced = true;
  datafeed = encode_datafeed(key);
  changed();
  return Errc::ok;
}

Errc Engine::connect_datafeed(std::uintptr_t id, std::uintptr_t datafeed) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(id, ch); e != Errc::ok) return e;
  if (!has_input(ch->type)) return Errc::wrong_channel_type;
  if (datafeed == 0) {  // kSMNullDatafeedId disconnects
    if (ch->feed == InputFeed::datafeed) ch->feed = ch->host_input ? InputFeed::host : InputFeed::none;
    changed();
    return Errc::ok;
  }
  ChannelKey src;
  if (!decode_datafeed(datafeed, src)) return Errc::bad_parameter;
  if (src.module != module_no_) return Errc::not_same_module;
  if (src.slot >= slots_.size() || !slots_[src.slot].allocated || slots_[src.slot].gen != src.gen ||
      !slots_[src.slot].datafeed_referenced)
    return Errc::bad_parameter;
  ch->feed = InputFeed::datafeed;
  ch->feed_source = src;
  changed();
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Conference outputs

Errc Engine::conf_start(std::uintptr_t out, const OutputSettings& settings, int conf_type) {
  if (conf_type != kConfTypeStandard && conf_type != kConfTypeIndividualVolume) return Errc::bad_parameter;
  if (!volume_ok(settings.volume_db)) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(out, ch); e != Errc::ok) return e;
  if (!has_output(ch->type)) return Errc::wrong_channel_type;
  if (output_half_busy(*ch)) return Errc::wrong_channel_state;
  if (ch->type == ChannelType::half_duplex && input_half_busy(*ch)) return Errc::wrong_channel_state;
  ch->out_job = OutputJob::conference;
  ch->conf = ConferenceOutputCtl{};
  ch->conf.settings = settings;
  // The deprecated individual-volume type ignores the start volume.
  if (conf_type == kConfTypeIndividualVolume) ch->conf.settings.volume_db = 0.0;
  ch->conf.conf_type = conf_type;
  ch->io->output_busy = true;
  ch->io->conf_stopped_pending = false;
  ch->io->activity.clear();
  plan_dirty_ = true;
  changed();
  update_event(*ch->io, 0);
  return Errc::ok;
}

Errc Engine::conf_clone(std::uintptr_t out, std::uintptr_t model) {
  if (model == 0) return conf_start(out, OutputSettings{}, kConfTypeStandard);
  if (model == out) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(out, ch); e != Errc::ok) return e;
  ChannelCtl* m;
  ChannelKey mkey;
  if (Errc e = lookup_any_module(model, m, mkey); e != Errc::ok) return e;
  if (m == ch) return Errc::bad_parameter;
  if (m->out_job != OutputJob::conference) return Errc::wrong_channel_state;
  if (!has_output(ch->type)) return Errc::wrong_channel_type;
  if (output_half_busy(*ch)) return Errc::wrong_channel_state;
  if (ch->type == ChannelType::half_duplex && input_half_busy(*ch)) return Errc::wrong_channel_state;
  ch->out_job = OutputJob::conference;
  ch->conf = ConferenceOutputCtl{};
  ch->conf.members = m->conf.members;
  ch->conf.factors = m->conf.factors;
  ch->conf.settings = m->conf.settings;
  ch->conf.conf_type = m->conf.conf_type;
  // Activity reporting is not copied, as documented.
  ch->conf.members.for_each([&](std::size_t pid) { ++slots_[pid_slot_[pid]].member_of; });
  ch->io->output_busy = true;
  ch->io->conf_stopped_pending = false;
  ch->io->activity.clear();
  plan_dirty_ = true;
  changed();
  update_event(*ch->io, 0);
  return Errc::ok;
}

Errc Engine::conf_add(std::uintptr_t out, std::uintptr_t participant, float factor, int& id) {
  id = -1;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(out, ch); e != Errc::ok) return e;
  ChannelCtl* p;
  ChannelKey pkey;
  if (Errc e = lookup_any_module(participant, p, pkey); e != Errc::ok) return e;
  if (ch->out_job != OutputJob::conference) return Errc::wrong_channel_state;
  if (!has_input(p->type)) return Errc::wrong_channel_type;
  if (ch->conf.conf_type == kConfTypeStandard) {
    if (factor != 0.0f) return Errc::bad_parameter;
    if (p->pid >= 0 && p->attach_type != kConfTypeStandard) return Errc::wrong_channel_state;
    if (p->pid < 0) {
      if (p->type == ChannelType::half_duplex && output_half_busy(*p)) return Errc::wrong_channel_state;
      attach_input(*p, false, kConfTypeStandard);  // implicit attach
    }
  } else {
    // Individual volume: no implicit attach; factor is linear.
    if (p->pid < 0 || p->attach_type != kConfTypeIndividualVolume) return Errc::wrong_channel_state;
    if (!std::isfinite(factor) || factor < 0.0f || factor > 100.0f) return Errc::bad_parameter;
  }
  const std::size_t pid = static_cast<std::size_t>(p->pid);
  if (ch->conf.members.set(pid)) {
    ++p->member_of;
    ++ch->conf.version;
    plan_dirty_ = true;
  }
  if (ch->conf.conf_type == kConfTypeIndividualVolume) {
    if (ch->conf.factors.size() <= pid) ch->conf.factors.resize(pid + 1, 1.0f);
    ch->conf.factors[pid] = factor;
    ++ch->conf.version;
    plan_dirty_ = true;
  }
  id = p->pid;
  changed();
  return Errc::ok;
}

Errc Engine::conf_leave(std::uintptr_t out, int id) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(out, ch); e != Errc::ok) return e;
  if (ch->out_job != OutputJob::conference) return Errc::wrong_channel_state;
  if (id < 0 || static_cast<std::size_t>(id) >= pids_.bound()) return Errc::bad_parameter;
  if (!pids_.in_use(static_cast<std::size_t>(id))) return Errc::wrong_channel_state;
  ChannelCtl& in = slots_[pid_slot_[static_cast<std::size_t>(id)]];
  if (ch->conf.members.reset(static_cast<std::size_t>(id))) {
    ++ch->conf.version;
    if (in.member_of > 0) --in.member_of;
    if (in.member_of == 0 && !in.explicit_attach) detach_input(in);
    plan_dirty_ = true;
  }
  changed();
  return Errc::ok;
}

Errc Engine::conf_stop(std::uintptr_t out, bool wait) {
  std::uint64_t version;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(out, ch); e != Errc::ok) return e;
    if (ch->out_job != OutputJob::conference) return Errc::wrong_channel_state;
    stop_output(*ch);
    // A blocking stop has nothing left to report; a non-blocking one reports
    // Stopped through sm_conf_prim_status.
    if (wait) ch->io->conf_stopped_pending = false;
    changed();
    version = version_.load();
  }
  if (wait) wait_applied(version);
  return Errc::ok;
}

Errc Engine::conf_adjust_output(std::uintptr_t out, const OutputSettings& settings) {
  if (!volume_ok(settings.volume_db)) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(out, ch); e != Errc::ok) return e;
  if (ch->out_job != OutputJob::conference || ch->conf.conf_type != kConfTypeStandard) return Errc::wrong_channel_state;
  ch->conf.settings = settings;
  changed();
  return Errc::ok;
}

Errc Engine::conf_members(std::uintptr_t out, std::vector<int>* members, std::vector<int>* active, bool standard_only) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(out, ch); e != Errc::ok) return e;
  if (ch->out_job != OutputJob::conference) return Errc::wrong_channel_state;
  if (standard_only && ch->conf.conf_type != kConfTypeStandard) return Errc::wrong_channel_state;
  if (members) members->clear();
  if (active) active->clear();
  ch->conf.members.for_each([&](std::size_t pid) {
    if (members) members->push_back(static_cast<int>(pid));
    const ChannelCtl& in = slots_[pid_slot_[pid]];
    if (active && in.io && in.io->in_active.load()) active->push_back(static_cast<int>(pid));
  });
  return Errc::ok;
}

Errc Engine::conf_config_activity(std::uintptr_t out, unsigned delay_ms, unsigned sensitivity) {
  if (sensitivity > 100) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(out, ch); e != Errc::ok) return e;
  if (ch->out_job != OutputJob::conference) return Errc::wrong_channel_state;
  ch->conf.activity_delay_ms = delay_ms;
  ch->conf.activity_sensitivity = sensitivity;
  if (delay_ms == 0) ch->io->activity.clear();
  changed();
  return Errc::ok;
}

Errc Engine::conf_status(std::uintptr_t out, ConfStatus& status, ActivityReport& report) {
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(out, ch); e != Errc::ok) return e;
    io = ch->io;
    if (ch->out_job != OutputJob::conference) {
      if (!io->conf_stopped_pending.exchange(false)) return Errc::wrong_channel_state;
      status = ConfStatus::stopped;
      update_event(*io, 0);
      return Errc::ok;
    }
  }
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    ActivityReport r;
    bool got = false;
    // Only the newest report matters to the caller; older ones are stale.
    while (io->activity.pop(r)) got = true;
    if (got) {
      status = ConfStatus::active_inputs;
      report = r;
    } else {
      status = ConfStatus::running;
    }
  }
  refresh(*io, 0);
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Conference inputs

Errc Engine::conf_attach(std::uintptr_t in, int conf_type, int& id) {
  id = -1;
  if (conf_type != kConfTypeStandard && conf_type != kConfTypeIndividualVolume) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(in, ch); e != Errc::ok) return e;
  if (!has_input(ch->type)) return Errc::wrong_channel_type;
  if (ch->pid >= 0 && ch->attach_type != conf_type) return Errc::wrong_channel_state;
  if (ch->pid < 0 && ch->type == ChannelType::half_duplex && output_half_busy(*ch)) return Errc::wrong_channel_state;
  id = attach_input(*ch, true, conf_type);  // a no-op if already attached
  changed();
  return Errc::ok;
}

Errc Engine::conf_detach(std::uintptr_t in, int conf_type) {
  if (conf_type != kConfTypeStandard && conf_type != kConfTypeIndividualVolume) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(in, ch); e != Errc::ok) return e;
  if (ch->pid < 0 || !ch->explicit_attach) return Errc::wrong_channel_state;
  if (ch->member_of > 0) return Errc::wrong_channel_state;  // detach while in use
  if (ch->attach_type != conf_type) return Errc::bad_parameter;
  detach_input(*ch);
  changed();
  return Errc::ok;
}

Errc Engine::conf_adjust_input(std::uintptr_t in, const InputSettings& settings) {
  if (!settings.mute && !volume_ok(settings.volume_db)) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(in, ch); e != Errc::ok) return e;
  if (ch->pid < 0) return Errc::wrong_channel_state;
  ch->input = settings;
  changed();
  return Errc::ok;
}

Errc Engine::conf_input_agc(std::uintptr_t in, const InputAgcSettings& s) {
  if (!(s.max_level_decay >= 0.0 && s.max_level_decay <= 1.0)) return Errc::bad_parameter;
  if (!(s.target_level_db >= -90.0 && s.target_level_db <= 3.0)) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(in, ch); e != Errc::ok) return e;
  if (ch->pid < 0) return Errc::wrong_channel_state;
  ch->input_agc = s;
  changed();
  return Errc::ok;
}

Errc Engine::conf_tracking(std::uintptr_t in, const TrackingSettings& s) {
  if (!(s.min_noise_level_db >= -90.0 && s.min_noise_level_db <= 3.0)) return Errc::bad_parameter;
  if (!(s.speech_thresh >= 0.0 && s.speech_thresh <= 1.0)) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(in, ch); e != Errc::ok) return e;
  if (ch->pid < 0) return Errc::wrong_channel_state;
  ch->tracking = s;
  changed();
  return Errc::ok;
}

Errc Engine::conf_gating(std::uintptr_t in, bool enabled) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(in, ch); e != Errc::ok) return e;
  if (ch->pid < 0) return Errc::wrong_channel_state;
  ch->gating = enabled;
  changed();
  return Errc::ok;
}

Errc Engine::set_sidetone(std::uintptr_t in, std::uintptr_t out) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(in, ch); e != Errc::ok) return e;
  if (ch->pid < 0 || ch->attach_type != kConfTypeStandard) return Errc::wrong_channel_state;
  if (out == 0) {
    ch->has_sidetone = false;
    changed();
    return Errc::ok;
  }
  ChannelCtl* o;
  ChannelKey okey;
  if (Errc e = lookup_any_module(out, o, okey); e != Errc::ok) return e;
  if (o->out_job != OutputJob::conference) return Errc::wrong_channel_state;
  ch->sidetone = okey;
  ch->has_sidetone = true;
  changed();
  return Errc::ok;
}

Errc Engine::participant_id(std::uintptr_t in, int& id) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(in, ch); e != Errc::ok) return e;
  id = ch->pid;
  return Errc::ok;
}

Errc Engine::participant_channel(int id, std::uintptr_t& in) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  if (id < 0 || !pids_.in_use(static_cast<std::size_t>(id))) return Errc::bad_parameter;
  const std::uint32_t slot = pid_slot_[static_cast<std::size_t>(id)];
  in = encode_channel(module_no_, slot, slots_[slot].gen);
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Tones

Errc Engine::listen_for(std::uintptr_t in, const ListenSettings& s) {
  if (s.enabled) {
    if (s.tone_set != 0 && s.tone_set != 1) return Errc::bad_parameter;
    if (s.lookahead_us > 16000) return Errc::bad_parameter;
    if (!(s.twist_normal_db >= 0.0 && s.twist_normal_db <= 20.0) ||
        !(s.twist_reverse_db >= 0.0 && s.twist_reverse_db <= 20.0))
      return Errc::bad_parameter;
  }
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(in, ch); e != Errc::ok) return e;
    if (!has_input(ch->type)) return Errc::wrong_channel_type;
    ch->listening = s.enabled || s.cptone_recognition;
    ch->listen = s;
    ch->io->listening = ch->listening;
    io = ch->io;
    changed();
  }
  refresh(*io, 2);
  return Errc::ok;
}

Errc Engine::get_recognised(std::uintptr_t in, Recognition& result) {
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(in, ch); e != Errc::ok) return e;
    if (!has_input(ch->type)) return Errc::wrong_channel_type;
    io = ch->io;
  }
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    result = Recognition{};
    if (io->recognition_overrun.exchange(false)) {
      result.type = RecognitionType::overrun;
    } else {
      io->recognised.pop(result);
    }
  }
  refresh(*io, 2);
  return Errc::ok;
}

Errc Engine::discard_recognised(std::uintptr_t in) {
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(in, ch); e != Errc::ok) return e;
    io = ch->io;
  }
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    io->recognised.clear();
    io->recognition_overrun = false;
  }
  refresh(*io, 2);
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Replay

Errc Engine::replay_start(std::uintptr_t out, const ReplaySettings& s) {
  if (!format_ok(s.format)) return Errc::not_implemented;
  if (!volume_ok(s.volume_db)) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  ChannelKey key;
  if (Errc e = lookup(out, ch, &key); e != Errc::ok) return e;
  if (!has_output(ch->type)) return Errc::wrong_channel_type;
  if (output_half_busy(*ch)) return Errc::wrong_channel_state;
  if (ch->type == ChannelType::half_duplex && input_half_busy(*ch)) return Errc::wrong_channel_state;
  if (s.background) {
    ChannelCtl* bg;
    ChannelKey bkey;
    if (Errc e = lookup_any_module(s.background.value, bg, bkey); e != Errc::ok) return e;
    if (bg == ch || !has_output(bg->type)) return Errc::bad_parameter;
  }
  // Room for two seconds of audio: plenty of slack for a feeding thread.
  auto job = std::make_shared<ReplayJob>(std::max<std::size_t>(2 * sample_rate() * bytes_per_sample(s.format), 4096));
  job->settings = s;
  job->bytes_per_sample = bytes_per_sample(s.format);
  ch->io->replay = job;
  ch->out_job = OutputJob::replay;
  ch->io->output_busy = true;
  plan_dirty_ = true;
  changed();
  update_event(*ch->io, 0);  // no longer idle
  return Errc::ok;
}

Errc Engine::replay_put(std::uintptr_t out, const std::uint8_t* data, std::size_t n, bool last, bool partial,
                        std::size_t& accepted) {
  accepted = 0;
  std::shared_ptr<ChannelIo> io;
  std::shared_ptr<ReplayJob> job;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(out, ch); e != Errc::ok) return e;
    if (ch->out_job != OutputJob::replay || !ch->io->replay) return Errc::no_replay_in_progress;
    io = ch->io;
    job = io->replay;
  }
  if (n > 0 && data == nullptr) return Errc::bad_parameter;
  if (job->last_put.load()) return Errc::wrong_channel_state;
  Errc result = Errc::ok;
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    if (!partial && job->data.free_space() < n) {
      result = Errc::no_capacity;  // nothing taken: the caller retries the same buffer
    } else {
      accepted = job->data.write(data, n);
      job->bytes_put += accepted;
      if (last && accepted == n) job->last_put = true;
    }
  }
  refresh(*io, 0);
  return result;
}

Errc Engine::replay_status(std::uintptr_t out, ReplayStatus& status) {
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(out, ch); e != Errc::ok) return e;
    if (ch->out_job != OutputJob::replay || !ch->io->replay) return Errc::no_replay_in_progress;
    io = ch->io;
    const std::shared_ptr<ReplayJob> keep = io->replay;
    ReplayJob& job = *keep;
    status.offset = job.bytes_played.load();
    if (job.finished.load()) {
      // Complete frees the output half.
      status.state = ReplayState::complete;
      ch->out_job = OutputJob::none;
      io->output_busy = false;
      io->replay.reset();
      plan_dirty_ = true;
      changed();
    } else if (job.underrun.exchange(false)) {
      status.state = ReplayState::underrun;
    } else if (job.last_put.load()) {
      status.state = ReplayState::complete_data;
    } else if (job.data.free_space() >= 2048) {
      status.state = ReplayState::has_capacity;
    } else {
      status.state = ReplayState::no_capacity;
    }
  }
  refresh(*io, 0);
  return Errc::ok;
}

Errc Engine::replay_abort(std::uintptr_t out, std::uint64_t& offset) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(out, ch); e != Errc::ok) return e;
  if (ch->out_job != OutputJob::replay || !ch->io->replay) return Errc::no_replay_in_progress;
  auto& job = *ch->io->replay;
  job.abort_requested = true;
  job.finished = true;
  offset = job.bytes_played.load();
  changed();
  return Errc::ok;
}

Errc Engine::replay_adjust(std::uintptr_t out, std::uintptr_t background, int volume_db, bool agc) {
  if (!volume_ok(volume_db)) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(out, ch); e != Errc::ok) return e;
  if (ch->out_job != OutputJob::replay || !ch->io->replay) return Errc::no_replay_in_progress;
  if (background) {
    ChannelCtl* bg;
    ChannelKey bkey;
    if (Errc e = lookup_any_module(background, bg, bkey); e != Errc::ok) return e;
    if (bg == ch || !has_output(bg->type)) return Errc::bad_parameter;
  }
  // The replay thread reads settings at the next frame boundary.
  auto& s = ch->io->replay->settings;
  s.background = ChannelId{background};
  s.volume_db = volume_db;
  s.agc = agc;
  plan_dirty_ = true;
  changed();
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Record

Errc Engine::record_start(std::uintptr_t in, const RecordSettings& s) {
  if (!format_ok(s.format)) return Errc::not_implemented;
  if (!volume_ok(s.volume_db)) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  ChannelKey key;
  if (Errc e = lookup(in, ch, &key); e != Errc::ok) return e;
  if (!has_input(ch->type)) return Errc::wrong_channel_type;
  if (ch->io->record_busy.load() || records_ctl_[key.slot]) return Errc::wrong_channel_state;
  if (ch->type == ChannelType::half_duplex && output_half_busy(*ch)) return Errc::wrong_channel_state;
  ChannelKey source = key;
  if (s.source != RecordSource::own_input) {
    if (!s.alt_source) return Errc::bad_parameter;
    ChannelCtl* src;
    if (Errc e = lookup_any_module(s.alt_source.value, src, source); e != Errc::ok) return e;
    if (s.source == RecordSource::alt_output) {
      if (!has_output(src->type)) return Errc::wrong_channel_type;
      // Documented: the output's datafeed must have been referenced first.
      if (!src->datafeed_referenced) return Errc::wrong_channel_state;
    } else if (!has_input(src->type)) {
      return Errc::wrong_channel_type;
    }
  }
  auto job = std::make_shared<RecordJob>(std::max<std::size_t>(4 * sample_rate() * bytes_per_sample(s.format), 8192));
  job->settings = s;
  job->source = source;
  job->bytes_per_sample = bytes_per_sample(s.format);
  records_ctl_[key.slot] = job;
  ch->io->record = job;
  ch->io->record_busy = true;
  plan_dirty_ = true;
  changed();
  update_event(*ch->io, 1);  // no longer idle
  return Errc::ok;
}

Errc Engine::record_get(std::uintptr_t in, std::uint8_t* data, std::size_t n, std::size_t& got) {
  got = 0;
  std::shared_ptr<ChannelIo> io;
  std::shared_ptr<RecordJob> job;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    ChannelKey key;
    if (Errc e = lookup(in, ch, &key); e != Errc::ok) return e;
    job = records_ctl_[key.slot];
    if (!job) return Errc::no_record_in_progress;
    io = ch->io;
  }
  if (n > 0 && data == nullptr) return Errc::bad_parameter;
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    // Whole samples only, so a linear recording never splits a sample.
    n -= n % job->bytes_per_sample;
    got = job->data.read(data, n);
  }
  refresh(*io, 1);
  return Errc::ok;
}

Errc Engine::record_status(std::uintptr_t in, RecordStatus& status) {
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    ChannelKey key;
    if (Errc e = lookup(in, ch, &key); e != Errc::ok) return e;
    auto& job = records_ctl_[key.slot];
    if (!job) return Errc::no_record_in_progress;
    io = ch->io;
    status.termination = static_cast<RecordTermination>(job->termination.load());
    status.termination_octets = job->termination_octets.load();
    const bool terminated = status.termination != RecordTermination::not_yet;
    const bool has_data = job->data.size() > 0;
    if (job->overrun.exchange(false)) {
      status.state = RecordState::overrun;
    } else if (terminated && !has_data) {
      // Complete frees the input half.
      status.state = RecordState::complete;
      job.reset();
      io->record.reset();
      io->record_busy = false;
      plan_dirty_ = true;
      changed();
    } else if (terminated) {
      status.state = RecordState::complete_data;
    } else if (has_data) {
      status.state = RecordState::data;
    } else {
      status.state = RecordState::no_data;
    }
  }
  refresh(*io, 1);
  return Errc::ok;
}

Errc Engine::record_abort(std::uintptr_t in, bool discard) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  ChannelKey key;
  if (Errc e = lookup(in, ch, &key); e != Errc::ok) return e;
  if (!records_ctl_[key.slot]) return Errc::no_record_in_progress;
  abort_record(*ch, key, discard);
  changed();
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Statistics

Errc Engine::input_stats(std::uintptr_t id, InputStats& s) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(id, ch); e != Errc::ok) return e;
  if (!has_input(ch->type)) return Errc::wrong_channel_type;
  const ChannelIo& io = *ch->io;
  s.frames_in = io.in_frames.load();
  s.frames_concealed = io.in_concealed.load();
  s.samples_dropped = io.in_dropped.load();
  s.level_dbm0 = io.in_level_dbm0.load();
  s.active = io.in_active.load();
  s.participant_id = ch->pid;
  return Errc::ok;
}

Errc Engine::output_stats(std::uintptr_t id, OutputStats& s) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelCtl* ch;
  if (Errc e = lookup(id, ch); e != Errc::ok) return e;
  if (!has_output(ch->type)) return Errc::wrong_channel_type;
  const ChannelIo& io = *ch->io;
  s.frames_out = io.out_frames.load();
  s.samples_dropped = io.out_dropped.load();
  s.limited_frames = io.out_limited.load();
  s.level_dbm0 = io.out_level_dbm0.load();
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Events. Type index: 0 = write (output half), 1 = read (record), 2 = recognition.

bool Engine::event_condition(ChannelIo& io, int t) {
  int mode = 0;
  io.events[t].get(&mode);
  const bool idle_counts = mode != 3;  // kSMChannelSpecificEventNonIdle
  switch (t) {
    case 0: {
      if (io.conf_stopped_pending.load() || io.activity.size() > 0) return true;
      auto job = io.replay;
      if (job) return job->finished.load() || job->underrun.load() || job->data.free_space() >= 2048;
      return idle_counts && !io.output_busy.load();
    }
    case 1: {
      auto job = io.record;
      if (job)
        return job->data.size() > 0 || job->overrun.load() ||
               job->termination.load() != static_cast<int>(RecordTermination::not_yet);
      return idle_counts && !io.record_busy.load();
    }
    case 2:
      if (io.recognised.size() > 0 || io.recognition_overrun.load()) return true;
      return idle_counts && !io.listening.load();
  }
  return false;
}

// ctl_mutex_ held: the condition reads job pointers the control side owns.
void Engine::update_event(ChannelIo& io, int t) {
  auto ev = io.events[t].get();
  if (ev) ev->set(event_condition(io, t));
}

void Engine::refresh(ChannelIo& io, int t) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  update_event(io, t);
}

Errc Engine::set_event(std::uintptr_t id, int event_type, int binding, std::shared_ptr<EventObject> ev) {
  if (event_type < 1 || event_type > 3) return Errc::bad_parameter;
  if (binding < 0 || binding > 3) return Errc::bad_parameter;
  if (binding == 2) return Errc::not_implemented;  // legacy any-channel mode
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(id, ch); e != Errc::ok) return e;
    io = ch->io;
  }
  // kSMEventTypeWriteData=1 -> 0, ReadData=2 -> 1, Recog=3 -> 2
  const int t = event_type - 1;
  {
    std::lock_guard<std::mutex> lock(io->events[t].m);
    if (binding == 0 || !ev) {
      io->events[t].event.reset();
      io->events[t].mode = 0;
    } else {
      io->events[t].event = std::move(ev);
      io->events[t].mode = binding;
    }
  }
  refresh(*io, t);
  return Errc::ok;
}

Errc Engine::refresh_event(std::uintptr_t id, int event_type) {
  std::shared_ptr<ChannelIo> io;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ChannelCtl* ch;
    if (Errc e = lookup(id, ch); e != Errc::ok) return e;
    io = ch->io;
  }
  refresh(*io, event_type - 1);
  return Errc::ok;
}

}  // namespace prosody::detail
