// The module registry: the only global state of the library. It maps module
// numbers (carried inside every channel id) to engines, and keeps the shared
// modules every face of the library reaches by name: card 0's modules, whose
// names are their indices ("0", "1", ...; the C API opens them with
// sm_open_module), and named modules (any other name). The C++ API
// (Module::open_shared) and the GStreamer elements (module property) open
// both kinds by name; a shared module lives while anything holds it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "prosody/prosody.hpp"

namespace prosody::detail {

class Engine;

class Registry {
 public:
  static Registry& instance();

  // An independent module (Module::create).
  Errc create(const ModuleConfig& config, std::shared_ptr<Engine>& out);
  std::shared_ptr<Engine> find(std::uint32_t module_no);

  // -- Shared modules, by name. A name of decimal digits is that module of
  //    card 0 (Errc::no_such_module beyond the card's count).
  // The configuration the module has, or will be created with; fixed: it
  // exists, was configured, or is a card module. A named module nobody
  // configured is created with the configuration of whoever opens it
  // first: the C++ API's default ModuleConfig (stepped), the C API's (real
  // time), or an element's.
  Errc shared_config(const std::string& name, ModuleConfig& out, bool& fixed);
  // Sets the configuration it will be created with (Errc::wrong_module_state
  // while it exists).
  Errc configure_shared(const std::string& name, const ModuleConfig& config);
  // The module, created with config (null: its configuration, or a default
  // ModuleConfig if it has none) if it does not exist; an existing module must have config's rate and frame
  // (Errc::bad_parameter otherwise), and keeps its drive mode.
  Errc open_shared(const std::string& name, const ModuleConfig* config, std::shared_ptr<Engine>& out);

  // -- Card 0
  Errc set_card_module_count(int n);
  int card_module_count();  // fixes the count on first use
  Errc configure_card_module(unsigned ix, const ModuleConfig& config);
  // sm_open_module: opens module ix of card 0 and holds it for the C API
  // until close_held (one hold per module, however often it is opened).
  Errc open_card_module(unsigned ix, std::shared_ptr<Engine>& out);
  // prosody_sw_open_shared_module: the same for a module named name.
  Errc open_held(const std::string& name, std::shared_ptr<Engine>& out);
  // sm_close_module: drops the C API's hold (Errc::bad_parameter if it has
  // none). The module stops, and its channels go, once nothing holds it.
  Errc close_held(std::uint32_t module_no);
  // sm_close_prosody: drops every hold of the C API.
  void close_card();
  // Module index on card 0 of a live module, or -1.
  int card_index_of(std::uint32_t module_no);

 private:
  // A shared module: how it is created, and the engine while it lives.
  struct SharedSlot {
    ModuleConfig config;
    bool configured = false;  // config was set (card modules: always)
    std::weak_ptr<Engine> engine;
  };

  Registry();
  std::uint32_t next_number_locked();
  Errc create_locked(const ModuleConfig& config, std::shared_ptr<Engine>& out);
  void fix_card_locked();
  // The slot of a shared module (m_ held).
  Errc slot_locked(const std::string& name, SharedSlot*& slot);
  // fallback: the configuration a slot nobody configured is created with.
  Errc open_slot_locked(SharedSlot& slot, const ModuleConfig* config, const ModuleConfig& fallback,
                        std::shared_ptr<Engine>& out);
  void hold_locked(const std::shared_ptr<Engine>& engine);

  std::mutex m_;
  std::vector<std::weak_ptr<Engine>> modules_;  // index = module number (0 unused)
  std::uint32_t last_number_ = 0;
  std::map<std::string, SharedSlot> named_;

  bool card_fixed_ = false;
  int card_count_ = 0;
  std::vector<SharedSlot> card_;  // by index, once the count is fixed
  // The C API's holds (sm_open_module until sm_close_module), by module number.
  std::map<std::uint32_t, std::shared_ptr<Engine>> held_;
};

}  // namespace prosody::detail
