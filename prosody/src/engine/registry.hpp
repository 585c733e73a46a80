// The module registry: the only global state of the library. It maps module
// numbers (carried inside every channel id) to engines, keeps named shared
// modules, and models card 0, the software processor the C API opens.
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

  Errc create(const ModuleConfig& config, std::shared_ptr<Engine>& out);
  Errc open_shared(const std::string& name, const ModuleConfig& config, std::shared_ptr<Engine>& out);
  std::shared_ptr<Engine> find(std::uint32_t module_no);

  // Card 0
  Errc set_card_module_count(int n);
  int card_module_count();  // fixes the count on first use
  Errc configure_card_module(unsigned ix, const ModuleConfig& config);
  Errc open_card_module(unsigned ix, std::shared_ptr<Engine>& out);
  Errc close_card_module(std::uint32_t module_no);
  void close_card();
  // Module index on card 0 of an open module, or -1.
  int card_index_of(std::uint32_t module_no);

 private:
  Registry();
  std::uint32_t next_number_locked();

  std::mutex m_;
  std::vector<std::weak_ptr<Engine>> modules_;  // index = module number (0 unused)
  std::uint32_t last_number_ = 0;
  std::map<std::string, std::weak_ptr<Engine>> named_;

  bool card_fixed_ = false;
  int card_count_ = 0;
  std::vector<ModuleConfig> card_configs_;
  std::vector<std::shared_ptr<Engine>> card_open_;
};

}  // namespace prosody::detail
