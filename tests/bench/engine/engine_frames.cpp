// engine_frames N FRAMES [RATE]: builds the engine benchmark's conference (N
// parties, gating and input/output AGC on, everyone talking) and processes
// FRAMES frames. Run under callgrind by instruction_counts.sh, which counts
// the instructions of Module::step: a machine-independent measure of how the
// work grows with N. The conference is built from primitives (one output
// holding everyone, cloned for each party, minus the party itself), the same
// membership and settings as the high-level library gives, only much faster
// to set up under valgrind.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "prosody/prosody.hpp"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s N FRAMES [RATE]\n", argv[0]);
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const int frames = std::atoi(argv[2]);
  prosody::ModuleConfig cfg;
  cfg.sample_rate = argc > 3 ? static_cast<unsigned>(std::atoi(argv[3])) : 8000u;
  prosody::Module m = prosody::Module::create(cfg);
  std::vector<prosody::Channel> party;
  party.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    party.push_back(m.allocate(prosody::ChannelType::full_duplex));
    party.back().enable_host_input(2);
    party.back().enable_host_output(2);
  }
  party[0].conf_start({0.0, true, false});     // output AGC on
  for (auto& p : party) party[0].conf_add(p);  // everyone; each output then drops itself
  for (int i = 1; i < n; ++i) {
    party[std::size_t(i)].conf_clone(party[0]);
    party[std::size_t(i)].conf_leave(party[std::size_t(i)].participant_id());
  }
  party[0].conf_leave(party[0].participant_id());
  for (auto& p : party) {
    p.conf_adjust_input({0.0, false, true});  // input AGC on; gating is on by default
    p.set_sidetone(p.id());                   // echo suppression, as the library sets it
  }
  const std::size_t frame = m.frame_samples();
  std::vector<float> in(frame), out(frame);
  for (int f = 0; f < frames; ++f) {
    for (int i = 0; i < n; ++i) {
      const double freq = 150.0 + 37.0 * (i % 90);
      for (std::size_t k = 0; k < frame; ++k)
        in[k] = float(0.03 *
                      std::sin(2.0 * 3.14159265358979 * freq * double(std::size_t(f) * frame + k) / cfg.sample_rate));
      party[std::size_t(i)].write_input(prosody::Span<const float>(in.data(), frame));
    }
    m.step(1);
    for (int i = 0; i < n; ++i) party[std::size_t(i)].read_output(prosody::Span<float>(out.data(), frame));
  }
  return 0;
}
