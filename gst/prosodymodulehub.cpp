/* prosodymodulehub.cpp - one shared module as the prosodysink and prosodysrc
 * elements of a process see it. */
#include "prosodymodulehub.hpp"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "prosody/smdrvr.h"

namespace prosody_gst {

namespace {

/* Every hub of the process, by module (the engine behind it). */
std::mutex g_hubs_mutex;
std::map<const void*, std::weak_ptr<ModuleHub>> g_hubs;

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

const char* drive_name(prosody::DriveMode d) { return d == prosody::DriveMode::realtime ? "real-time" : "stepped"; }

std::string describe(const prosody::ModuleConfig& c) {
  return format("%u Hz, %u ms frames, %s", c.sample_rate, c.frame_us / 1000, drive_name(c.drive));
}

int card_module_count() {
  SM_CARD_INFO_PARMS info{};
  return sm_get_card_info(&info) == 0 ? int(info.module_count) : 0;
}

/* How long the stepping thread sleeps when nothing wakes it (a safety net:
 * every change that can let it step wakes it). */
constexpr std::int64_t kStepperPollNs = 100000000;

}  // namespace

/* ---- Opening ---- */

std::shared_ptr<ModuleHub> ModuleHub::open(const ModuleRequest& request, std::string& error) {
  const std::string& name = request.name;
  prosody::ModuleConfig config;
  try {
    bool fixed = false;
    config = prosody::Module::shared_config(name, &fixed);
    /* A module nobody configured runs in real time for the elements, as the
     * card's do (live pipelines); drive=stepped asks otherwise. */
    if (!fixed) config.drive = prosody::DriveMode::realtime;
  } catch (const prosody::Error& e) {
    if (e.code() == prosody::Errc::no_such_module)
      error = format(
          "module %s does not exist: card 0 has %d modules (0..%d); prosody_sw_set_module_count or "
          "PROSODY_MODULE_COUNT sets how many, or name a module (module=NAME)",
          name.c_str(), card_module_count(), card_module_count() - 1);
    else
      error = format("module \"%s\": %s", name.c_str(), e.what());
    return nullptr;
  }
  prosody::ModuleConfig wanted = config;
  if (request.rate) wanted.sample_rate = request.rate;
  if (request.frame_us) wanted.frame_us = request.frame_us;
  if (request.drive >= 0) wanted.drive = prosody::DriveMode(request.drive);
  prosody::Module module;
  try {
    module = prosody::Module::open_shared(name, wanted);
  } catch (const prosody::Error& e) {
    prosody::ModuleConfig have = prosody::Module::shared_config(name);
    error = format("module %s runs at %s; this element asks for %s", name.c_str(), describe(have).c_str(),
                   describe(wanted).c_str());
    return nullptr;
  }
  if (request.drive >= 0 && module.drive_mode() != wanted.drive) {
    error = format("module %s is %s; this element asks for a %s one (drive property)", name.c_str(),
                   drive_name(module.drive_mode()), drive_name(wanted.drive));
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(g_hubs_mutex);
  const void* key = module.engine().get();
  if (auto it = g_hubs.find(key); it != g_hubs.end())
    if (auto hub = it->second.lock()) return hub;
  auto hub = std::make_shared<ModuleHub>(Token{}, module, name);
  try {
    module.set_frame_client(hub);
  } catch (const prosody::Error& e) {
    error = format("module %s: its frame ports are served by another frame client (%s)", name.c_str(), e.what());
    return nullptr;
  }
  if (!hub->realtime_) hub->stepper_ = std::thread([h = hub.get()] { h->stepper_main(); });
  g_hubs[key] = hub;
  return hub;
}

ModuleHub::ModuleHub(Token, prosody::Module module, std::string name)
    : module_(std::move(module)),
      name_(std::move(name)),
      realtime_(module_.drive_mode() == prosody::DriveMode::realtime),
      rate_(module_.sample_rate()),
      n_(module_.frame_samples()),
      frame_ns_(std::int64_t(n_) * 1000000000LL / rate_) {}

ModuleHub::~ModuleHub() {
  stop_ = true;
  stepper_wake_.notify();
  if (stepper_.joinable()) stepper_.join();
}

/* The last element is gone: the module is let go (g_hubs_mutex held, not
 * mutex_: the stepping thread may want it to finish its frame). */
void ModuleHub::close() {
  closed_ = true;
  g_hubs.erase(module_.engine().get());
  stop_ = true;
  stepper_wake_.notify();
  if (stepper_.joinable()) stepper_.join();
  try {
    module_.set_frame_client(nullptr);
  } catch (const prosody::Error&) {
  }
}

/* ---- Elements ---- */

std::uint64_t ModuleHub::register_endpoint(const EndpointSpec& spec, std::string& error) {
  if (spec.party.empty() == (spec.channel == 0)) {
    error = spec.party.empty() ? "set party (a name) or channel (an id from the C or C++ API)"
                               : "set party or channel, not both";
    return 0;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = spec.party.empty() ? format("channel:%" PRIx64, spec.channel) : "party:" + spec.party;
  auto [it, created] = parties_.try_emplace(key);
  Party& p = it->second;
  if (created) {
    p.named = !spec.party.empty();
    p.given = prosody::ChannelId{std::uintptr_t(spec.channel)};
    p.label = p.named ? "party " + spec.party : format("channel 0x%" PRIx64, spec.channel);
    p.conference = spec.conference;
  } else if (p.conference != spec.conference) {
    error = format("%s is in conference \"%s\"; this element names \"%s\" (one conference per party)", p.label.c_str(),
                   p.conference.c_str(), spec.conference.c_str());
    return 0;
  }
  int& registered = spec.kind == EndpointKind::sink ? p.sinks_registered : p.srcs_registered;
  ++registered;
  try {
    update_membership(p); /* an attached party's role changes */
  } catch (const prosody::Error& e) {
    --registered;
    if (p.sinks_registered + p.srcs_registered == 0) parties_.erase(it);
    error = format("%s cannot change its part in conference \"%s\": %s", p.label.c_str(), spec.conference.c_str(),
                   e.what());
    return 0;
  }
  const std::uint64_t id = next_id_++;
  endpoints_[id] = Endpoint{spec, key, false, nullptr, nullptr};
  ++pending_;
  return id;
}

ModuleHub::Party* ModuleHub::attach_party(Endpoint& e, std::string& error) {
  Party& p = parties_.at(e.party_key);
  const bool sink = e.spec.kind == EndpointKind::sink;
  if (p.attached == 0) {
    try {
      p.channel = p.named ? module_.allocate(prosody::ChannelType::full_duplex) : module_.borrow(p.given);
    } catch (const prosody::Error& x) {
      error = x.code() == prosody::Errc::no_such_channel
                  ? format("%s is not a channel of module %s (allocate it there, or check the module)", p.label.c_str(),
                           name_.c_str())
                  : format("%s: %s", p.label.c_str(), x.what());
      p.channel = prosody::Channel();
      return nullptr;
    }
  }
  const prosody::ChannelType type = p.channel.type();
  if ((sink && type == prosody::ChannelType::output) || (!sink && type == prosody::ChannelType::input)) {
    error = format("%s has no %s half (it is an %s channel)", p.label.c_str(), sink ? "input" : "output",
                   sink ? "output" : "input");
    if (p.attached == 0) p.channel = prosody::Channel();
    return nullptr;
  }
  ++p.attached;
  try {
    update_membership(p);
  } catch (const prosody::Error& x) {
    --p.attached;
    if (p.attached == 0) p.channel = prosody::Channel();
    error = format("%s cannot join conference \"%s\": %s", p.label.c_str(), p.conference.c_str(), x.what());
    return nullptr;
  }
  return &p;
}

void ModuleHub::detach_party(Endpoint& e) {
  Party& p = parties_.at(e.party_key);
  --p.attached;
  try {
    update_membership(p);
  } catch (const prosody::Error&) {
    /* Leaving does not fail but on channels someone else released. */
  }
  if (p.attached == 0) p.channel = prosody::Channel(); /* a party's own channel is released */
}

std::shared_ptr<SinkPort> ModuleHub::attach_sink(std::uint64_t id, const ElasticSettings& settings,
                                                 std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  Endpoint& e = endpoints_.at(id);
  Party& p = parties_.at(e.party_key);
  if (p.feeder) {
    error = format("%s is already fed by %s: two sinks cannot feed one input", p.label.c_str(),
                   endpoints_.at(p.feeder).spec.element.c_str());
    return nullptr;
  }
  if (!attach_party(e, error)) return nullptr;
  try {
    p.channel.enable_frame_input();
  } catch (const prosody::Error& x) {
    detach_party(e);
    error = format("%s: %s", p.label.c_str(), x.what());
    return nullptr;
  }
  e.sink = std::make_shared<SinkPort>(p.channel.id(), n_, frame_ns_, settings);
  p.feeder = id;
  e.attached = true;
  --pending_;
  ++attached_;
  sinks_seen_ = true;
  rebuild_snapshot();
  poke();
  return e.sink;
}

std::shared_ptr<SrcPort> ModuleHub::attach_src(std::uint64_t id, std::uint32_t capacity_frames, std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  Endpoint& e = endpoints_.at(id);
  Party& p = parties_.at(e.party_key);
  if (!attach_party(e, error)) return nullptr;
  try {
    if (p.srcs_attached == 0) p.channel.enable_frame_output();
  } catch (const prosody::Error& x) {
    detach_party(e);
    error = format("%s: %s", p.label.c_str(), x.what());
    return nullptr;
  }
  ++p.srcs_attached;
  e.src = std::make_shared<SrcPort>(p.channel.id(), n_, capacity_frames);
  e.src->active = !realtime_; /* a live src takes frames while it plays */
  if (finished_) e.src->tap.push_eos();
  e.attached = true;
  --pending_;
  ++attached_;
  rebuild_snapshot();
  poke();
  return e.src;
}

std::uint64_t ModuleHub::channel_of(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = endpoints_.find(id);
  if (it == endpoints_.end() || !it->second.attached) return 0;
  return parties_.at(it->second.party_key).channel.id().value;
}

void ModuleHub::detach(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = endpoints_.find(id);
  if (it == endpoints_.end() || !it->second.attached) return;
  Endpoint& e = it->second;
  Party& p = parties_.at(e.party_key);
  try {
    if (e.sink) {
      p.feeder = 0;
      p.channel.disable_frame_input();
    } else if (--p.srcs_attached == 0) {
      p.channel.disable_frame_output();
    }
  } catch (const prosody::Error&) {
    /* The application released its channel: nothing to undo. */
  }
  e.sink.reset();
  e.src.reset();
  e.attached = false;
  ++pending_;
  --attached_;
  detach_party(e);
  if (attached_ == 0) sinks_seen_ = finished_ = false; /* the next run starts afresh */
  rebuild_snapshot();
  poke();
}

void ModuleHub::unregister(std::uint64_t id) {
  detach(id);
  std::lock_guard<std::mutex> hubs(g_hubs_mutex);
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = endpoints_.find(id);
    if (it == endpoints_.end()) return;
    const Endpoint e = it->second;
    endpoints_.erase(it);
    --pending_;
    Party& p = parties_.at(e.party_key);
    --(e.spec.kind == EndpointKind::sink ? p.sinks_registered : p.srcs_registered);
    try {
      update_membership(p);
    } catch (const prosody::Error&) {
    }
    if (p.sinks_registered + p.srcs_registered == 0 && p.attached == 0) parties_.erase(e.party_key);
    last = endpoints_.empty();
    poke();
  }
  if (last && !closed_) close();
}

/* A party is in its conference while any of its elements is attached, with
 * the halves its registered elements use: a sink's input (it talks), a
 * src's output (it listens). Only a sink: a background, never gated. */
void ModuleHub::update_membership(Party& p) {
  const bool in = p.sinks_registered > 0, out = p.srcs_registered > 0;
  const bool want = p.attached > 0 && !p.conference.empty() && (in || out);
  const prosody::ChannelId id = p.channel.id();
  if (p.member && (!want || in != p.member_in || out != p.member_out)) {
    p.member = false;
    auto it = conferences_.find(p.conference);
    if (it != conferences_.end()) {
      try {
        it->second->remove_party(p.member_in ? id : prosody::ChannelId{}, p.member_out ? id : prosody::ChannelId{});
      } catch (const prosody::Error&) {
        /* its channel was released under it: it has left anyway */
      }
      if (it->second->size() == 0) conferences_.erase(it);
    }
  }
  if (want && !p.member) {
    auto& conf = conferences_[p.conference];
    if (!conf) conf = std::make_unique<prosody::Conference>();
    try {
      conf->add_party(in ? id : prosody::ChannelId{}, out ? id : prosody::ChannelId{});
      if (in && !out) p.channel.conf_set_gating(false);
    } catch (const prosody::Error&) {
      if (conf->size() == 0) conferences_.erase(p.conference);
      throw;
    }
    p.member = true;
    p.member_in = in;
    p.member_out = out;
  }
}

void ModuleHub::rebuild_snapshot() {
  auto s = std::make_shared<Snapshot>();
  for (auto& kv : endpoints_) {
    Endpoint& e = kv.second;
    if (e.sink) s->sinks.push_back(e.sink);
    if (!e.src) continue;
    std::size_t k = 0;
    while (k < s->outputs.size() && s->outputs[k] != e.src->channel) ++k;
    if (k == s->outputs.size()) s->outputs.push_back(e.src->channel);
    s->srcs.push_back(e.src);
    s->src_output.push_back(k);
  }
  snapshot_ = std::move(s);
  snapshot_version_.fetch_add(1, std::memory_order_release);
}

/* ---- The processing path ---- */

void ModuleHub::prepare(const prosody::FrameTime& time, std::vector<prosody::FrameInput>& inputs,
                        std::vector<prosody::FrameOutput>& outputs) {
  const std::uint64_t version = snapshot_version_.load(std::memory_order_acquire);
  if (version != rt_version_) {
    /* In real time, never wait: a frame with the old ports is fine. */
    std::unique_lock<std::mutex> lock(mutex_, std::defer_lock);
    if (realtime_)
      lock.try_lock();
    else
      lock.lock();
    if (lock.owns_lock()) {
      rt_snapshot_ = snapshot_;
      rt_version_ = version;
    }
  }
  if (!rt_snapshot_) return;
  const Snapshot& s = *rt_snapshot_;
  if (scratch_.size() < s.outputs.size() * n_) scratch_.resize(s.outputs.size() * n_);
  for (const auto& sink : s.sinks) {
    prosody::FrameInput in;
    in.channel = sink->channel;
    if (sink->fifo.take(time.due_ns, in)) inputs.push_back(in);
  }
  for (std::size_t k = 0; k < s.outputs.size(); ++k)
    outputs.push_back(prosody::FrameOutput{s.outputs[k], scratch_.data() + k * n_, prosody::SampleFormat::f32});
}

void ModuleHub::complete(const prosody::FrameTime& time) {
  if (!rt_snapshot_) return;
  const Snapshot& s = *rt_snapshot_;
  for (const auto& sink : s.sinks) sink->fifo.release_taken();
  for (std::size_t j = 0; j < s.srcs.size(); ++j)
    if (s.srcs[j]->active.load(std::memory_order_acquire))
      s.srcs[j]->tap.push(scratch_.data() + s.src_output[j] * n_, time.first_sample, time.due_ns);
}

/* ---- Stepped modules ---- */

/* Whether the next frame can be processed (mutex_ held): every element is
 * attached, every sink has its frame (or has ended), every src has room.
 * When every sink of the run has ended, the srcs get EOS instead. */
bool ModuleHub::step_ready() {
  if (attached_ == 0 || pending_ > 0 || !snapshot_) return false;
  bool all_finished = true;
  for (const auto& sink : snapshot_->sinks) {
    /* A sink at its end does not hold the module back, and its last frame
     * (the end, without audio) goes in with the others' next. */
    if (sink->fifo.at_end()) continue;
    all_finished = false;
    if (!sink->fifo.ready()) return false;
  }
  for (const auto& src : snapshot_->srcs)
    if (!src->tap.room()) return false;
  if (sinks_seen_ && all_finished) {
    if (!finished_) {
      finished_ = true;
      for (const auto& src : snapshot_->srcs) src->tap.push_eos();
    }
    return false;
  }
  return true;
}

void ModuleHub::stepper_main() {
  prosody::Module module = module_;
  while (!stop_.load()) {
    const std::uint32_t ticket = stepper_wake_.ticket();
    bool ready;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready = step_ready();
    }
    if (ready) {
      try {
        module.step(1);
      } catch (const prosody::Error&) {
        stepper_wake_.wait(ticket, kStepperPollNs); /* someone switched it to real time */
      }
      continue;
    }
    stepper_wake_.wait(ticket, kStepperPollNs);
  }
}

}  // namespace prosody_gst
