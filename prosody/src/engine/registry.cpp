#include "engine/registry.hpp"

#include <cstdlib>

#include "engine/engine.hpp"
#include "prosody/prosody_sw.h"

namespace prosody::detail {

namespace {
constexpr std::uint32_t kMaxModules = 0xFFFF;  // 16 bits inside channel ids
constexpr std::uintptr_t kModuleTag = 0x5A;
}  // namespace

std::uintptr_t encode_datafeed(const ChannelKey& key) {
  return encode_channel(key.module, key.slot, key.gen) | kDatafeedTag;
}

bool decode_datafeed(std::uintptr_t v, ChannelKey& key) {
  if (!(v & kDatafeedTag)) return false;
  return decode_channel(v & ~kDatafeedTag, key);
}

std::uintptr_t encode_module(std::uint32_t module) { return (std::uintptr_t{module} << 8) | kModuleTag; }

bool decode_module(std::uintptr_t v, std::uint32_t& module) {
  if ((v & 0xFF) != kModuleTag) return false;
  module = static_cast<std::uint32_t>(v >> 8);
  return module != 0 && module <= kMaxModules;
}

Registry& Registry::instance() {
  static Registry r;
  return r;
}

Registry::Registry() : modules_(1) {
  card_count_ = kProsodySwDefaultModuleCount;
  if (const char* env = std::getenv("PROSODY_MODULE_COUNT")) {
    const int n = std::atoi(env);
    if (n >= 1 && n <= 256) card_count_ = n;
  }
}

std::uint32_t Registry::next_number_locked() {
  // Numbers wrap around, skipping live modules, so a stale id of a long-gone
  // module is unlikely to name a new one.
  for (std::uint32_t tries = 0; tries < kMaxModules; ++tries) {
    last_number_ = last_number_ % kMaxModules + 1;
    if (last_number_ >= modules_.size()) modules_.resize(last_number_ + 1);
    if (modules_[last_number_].expired()) return last_number_;
  }
  return 0;
}

Errc Registry::create(const ModuleConfig& config, std::shared_ptr<Engine>& out) {
  const Errc e = Engine::validate(config);
  if (e != Errc::ok) return e;
  std::lock_guard<std::mutex> lock(m_);
  const std::uint32_t n = next_number_locked();
  if (n == 0) return Errc::no_resources;
  out = std::make_shared<Engine>(n, config);
  modules_[n] = out;
  return Errc::ok;
}

Errc Registry::open_shared(const std::string& name, const ModuleConfig& config, std::shared_ptr<Engine>& out) {
  {
    std::lock_guard<std::mutex> lock(m_);
    auto it = named_.find(name);
    if (it != named_.end()) {
      if (auto existing = it->second.lock()) {
        if (existing->sample_rate() != config.sample_rate || existing->config().frame_us != config.frame_us)
          return Errc::bad_parameter;
        out = existing;
        return Errc::ok;
      }
    }
  }
  std::shared_ptr<Engine> created;
  const Errc e = create(config, created);
  if (e != Errc::ok) return e;
  std::lock_guard<std::mutex> lock(m_);
  // Another thread may have won the race; the first one registered wins.
  auto& slot = named_[name];
  if (auto existing = slot.lock()) {
    out = existing;
  } else {
    slot = created;
    out = created;
  }
  return Errc::ok;
}

std::shared_ptr<Engine> Registry::find(std::uint32_t n) {
  std::lock_guard<std::mutex> lock(m_);
  return n < modules_.size() ? modules_[n].lock() : nullptr;
}

Errc Registry::set_card_module_count(int n) {
  std::lock_guard<std::mutex> lock(m_);
  if (card_fixed_) return Errc::wrong_module_state;
  if (n < 1 || n > 256) return Errc::bad_parameter;
  card_count_ = n;
  return Errc::ok;
}

int Registry::card_module_count() {
  std::lock_guard<std::mutex> lock(m_);
  if (!card_fixed_) {
    card_fixed_ = true;
    ModuleConfig hw;  // modules opened through the C API run in real time, like hardware
    hw.drive = DriveMode::realtime;
    card_configs_.resize(static_cast<std::size_t>(card_count_), hw);
    card_open_.resize(static_cast<std::size_t>(card_count_));
  }
  return card_count_;
}

Errc Registry::configure_card_module(unsigned ix, const ModuleConfig& config) {
  const int count = card_module_count();
  if (ix >= static_cast<unsigned>(count)) return Errc::no_such_module;
  const Errc e = Engine::validate(config);
  if (e != Errc::ok) return e;
  std::lock_guard<std::mutex> lock(m_);
  if (card_open_[ix]) return Errc::wrong_module_state;
  card_configs_[ix] = config;
  return Errc::ok;
}

Errc Registry::open_card_module(unsigned ix, std::shared_ptr<Engine>& out) {
  const int count = card_module_count();
  if (ix >= static_cast<unsigned>(count)) return Errc::no_such_module;
  ModuleConfig config;
  {
    std::lock_guard<std::mutex> lock(m_);
    if (card_open_[ix]) {
      out = card_open_[ix];
      return Errc::ok;
    }
    config = card_configs_[ix];
  }
  std::shared_ptr<Engine> engine;
  Errc e = create(config, engine);
  if (e != Errc::ok) return e;
  if (config.drive == DriveMode::realtime) {
    e = engine->start_realtime();
    if (e != Errc::ok) return e;
  }
  std::lock_guard<std::mutex> lock(m_);
  if (card_open_[ix]) {  // lost a race with another opener
    out = card_open_[ix];
  } else {
    card_open_[ix] = engine;
    out = engine;
  }
  return Errc::ok;
}

Errc Registry::close_card_module(std::uint32_t module_no) {
  std::shared_ptr<Engine> engine;
  {
    std::lock_guard<std::mutex> lock(m_);
    for (auto& e : card_open_) {
      if (e && e->module_no() == module_no) {
        engine = std::move(e);
        e.reset();
        break;
      }
    }
  }
  if (!engine) return Errc::bad_parameter;
  engine->stop_realtime();
  engine->release_all();
  return Errc::ok;
}

void Registry::close_card() {
  std::vector<std::shared_ptr<Engine>> open;
  {
    std::lock_guard<std::mutex> lock(m_);
    for (auto& e : card_open_)
      if (e) open.push_back(std::move(e));
    for (auto& e : card_open_) e.reset();
  }
  for (auto& e : open) {
    e->stop_realtime();
    e->release_all();
  }
}

int Registry::card_index_of(std::uint32_t module_no) {
  std::lock_guard<std::mutex> lock(m_);
  for (std::size_t i = 0; i < card_open_.size(); ++i)
    if (card_open_[i] && card_open_[i]->module_no() == module_no) return static_cast<int>(i);
  return -1;
}

}  // namespace prosody::detail
