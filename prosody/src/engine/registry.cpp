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

namespace {

// How card 0's modules run unless configured otherwise: in real time, as
// hardware does.
ModuleConfig card_default() {
  ModuleConfig c;
  c.drive = DriveMode::realtime;
  return c;
}

// A name of decimal digits names a module of card 0.
bool card_index_of_name(const std::string& name, unsigned long& ix) {
  if (name.empty() || name.size() > 9) return false;
  for (char c : name)
    if (c < '0' || c > '9') return false;
  ix = std::stoul(name);
  return true;
}

}  // namespace

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

Errc Registry::create_locked(const ModuleConfig& config, std::shared_ptr<Engine>& out) {
  const Errc e = Engine::validate(config);
  if (e != Errc::ok) return e;
  const std::uint32_t n = next_number_locked();
  if (n == 0) return Errc::no_resources;
  out = std::make_shared<Engine>(n, config);
  modules_[n] = out;
  return Errc::ok;
}

Errc Registry::create(const ModuleConfig& config, std::shared_ptr<Engine>& out) {
  std::lock_guard<std::mutex> lock(m_);
  return create_locked(config, out);
}

std::shared_ptr<Engine> Registry::find(std::uint32_t n) {
  std::lock_guard<std::mutex> lock(m_);
  return n < modules_.size() ? modules_[n].lock() : nullptr;
}

// ---------------------------------------------------------------------------
// Shared modules

void Registry::fix_card_locked() {
  if (card_fixed_) return;
  card_fixed_ = true;
  card_.resize(static_cast<std::size_t>(card_count_), SharedSlot{card_default(), true, {}});
}

Errc Registry::slot_locked(const std::string& name, SharedSlot*& slot) {
  unsigned long ix = 0;
  if (card_index_of_name(name, ix)) {
    fix_card_locked();
    if (ix >= card_.size()) return Errc::no_such_module;
    slot = &card_[ix];
    return Errc::ok;
  }
  if (name.empty()) return Errc::bad_parameter;
  auto it = named_.find(name);
  if (it == named_.end()) it = named_.emplace(name, SharedSlot{ModuleConfig{}, false, {}}).first;
  slot = &it->second;
  return Errc::ok;
}

Errc Registry::open_slot_locked(SharedSlot& slot, const ModuleConfig* config, const ModuleConfig& fallback,
                                std::shared_ptr<Engine>& out) {
  if (auto existing = slot.engine.lock()) {
    if (config && (existing->sample_rate() != config->sample_rate || existing->config().frame_us != config->frame_us))
      return Errc::bad_parameter;
    out = existing;
    return Errc::ok;
  }
  const ModuleConfig& c = config ? *config : slot.configured ? slot.config : fallback;
  std::shared_ptr<Engine> engine;
  Errc e = create_locked(c, engine);
  if (e != Errc::ok) return e;
  if (c.drive == DriveMode::realtime) {
    e = engine->start_realtime();
    if (e != Errc::ok) return e;
  }
  slot.engine = engine;
  out = std::move(engine);
  return Errc::ok;
}

Errc Registry::shared_config(const std::string& name, ModuleConfig& out, bool& fixed) {
  std::lock_guard<std::mutex> lock(m_);
  SharedSlot* slot = nullptr;
  if (Errc e = slot_locked(name, slot); e != Errc::ok) return e;
  if (auto existing = slot->engine.lock()) {
    out = existing->config();
    out.drive = existing->drive_mode();
    fixed = true;
  } else {
    out = slot->config;
    fixed = slot->configured;
  }
  return Errc::ok;
}

Errc Registry::configure_shared(const std::string& name, const ModuleConfig& config) {
  if (Errc e = Engine::validate(config); e != Errc::ok) return e;
  std::lock_guard<std::mutex> lock(m_);
  SharedSlot* slot = nullptr;
  if (Errc e = slot_locked(name, slot); e != Errc::ok) return e;
  if (!slot->engine.expired()) return Errc::wrong_module_state;
  slot->config = config;
  slot->configured = true;
  return Errc::ok;
}

Errc Registry::open_shared(const std::string& name, const ModuleConfig* config, std::shared_ptr<Engine>& out) {
  std::lock_guard<std::mutex> lock(m_);
  SharedSlot* slot = nullptr;
  if (Errc e = slot_locked(name, slot); e != Errc::ok) return e;
  return open_slot_locked(*slot, config, ModuleConfig{}, out);
}

// ---------------------------------------------------------------------------
// Card 0 and the C API's holds

Errc Registry::set_card_module_count(int n) {
  std::lock_guard<std::mutex> lock(m_);
  if (card_fixed_) return Errc::wrong_module_state;
  if (n < 1 || n > 256) return Errc::bad_parameter;
  card_count_ = n;
  return Errc::ok;
}

int Registry::card_module_count() {
  std::lock_guard<std::mutex> lock(m_);
  fix_card_locked();
  return card_count_;
}

Errc Registry::configure_card_module(unsigned ix, const ModuleConfig& config) {
  return configure_shared(std::to_string(ix), config);
}

void Registry::hold_locked(const std::shared_ptr<Engine>& engine) { held_[engine->module_no()] = engine; }

Errc Registry::open_card_module(unsigned ix, std::shared_ptr<Engine>& out) {
  return open_held(std::to_string(ix), out);
}

Errc Registry::open_held(const std::string& name, std::shared_ptr<Engine>& out) {
  std::lock_guard<std::mutex> lock(m_);
  SharedSlot* slot = nullptr;
  if (Errc e = slot_locked(name, slot); e != Errc::ok) return e;
  if (Errc e = open_slot_locked(*slot, nullptr, card_default(), out); e != Errc::ok) return e;
  hold_locked(out);
  return Errc::ok;
}

Errc Registry::close_held(std::uint32_t module_no) {
  std::shared_ptr<Engine> engine;  // let go of outside the lock: it may be the last hold
  {
    std::lock_guard<std::mutex> lock(m_);
    auto it = held_.find(module_no);
    if (it == held_.end()) return Errc::bad_parameter;
    engine = std::move(it->second);
    held_.erase(it);
  }
  return Errc::ok;
}

void Registry::close_card() {
  std::map<std::uint32_t, std::shared_ptr<Engine>> held;
  {
    std::lock_guard<std::mutex> lock(m_);
    held.swap(held_);
  }
}

int Registry::card_index_of(std::uint32_t module_no) {
  std::lock_guard<std::mutex> lock(m_);
  for (std::size_t i = 0; i < card_.size(); ++i) {
    auto e = card_[i].engine.lock();
    if (e && e->module_no() == module_no) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace prosody::detail
