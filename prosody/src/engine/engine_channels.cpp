// engine_channels.cpp - channels and their ports: allocation and release,
// host ports (and the host-port audio calls of ChannelIo), frame ports,
// datafeeds, statistics.
#include <algorithm>

#include "dsp/kernels.hpp"
#include "dsp/levels.hpp"
#include "engine/engine.hpp"

namespace prosody::detail {

namespace {

constexpr std::size_t kMaxHostCapacityFrames = 100000;

// A published mean square as the level statistics report it.
double level_dbm0(double mean_square) {
  return mean_square < 0.0 ? -100.0 : static_cast<float>(dsp::mean_square_to_dbm0(mean_square));
}
constexpr std::size_t kConvertBlock = 512;  // int16 conversion goes through a block on the stack

}  // namespace

// ---------------------------------------------------------------------------
// Allocation and release

Errc Engine::allocate(ChannelType type, std::uintptr_t& id, std::shared_ptr<ChannelIo>* io) {
  if (type != ChannelType::input && type != ChannelType::output && type != ChannelType::half_duplex &&
      type != ChannelType::full_duplex)
    return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  ChannelKey key;
  if (Errc e = model_.allocate(type, key); e != Errc::ok) return e;
  id = encode_channel(key.module, key.slot, key.gen);
  if (io) *io = model_.find(key)->io;
  changed();
  return Errc::ok;
}

Errc Engine::channel_io(std::uintptr_t id, std::shared_ptr<ChannelIo>& io) { return shared_state(id, Half::any, io); }

Errc Engine::release(std::uintptr_t id) {
  // The processing path may still hold the channel's shared state for one
  // frame; nothing here waits for it.
  return with_channel(id, Half::any, [&](ChannelCtl& ch, ChannelKey key) {
    // Events the channel raised (one may serve other channels too) let go of it.
    for (auto& binding : ch.io->events)
      if (auto ev = binding.get()) ev->set(ch.io.get(), false);
    model_.release(key);
    changed();
    return Errc::ok;
  });
}

Errc Engine::release_all() {
  std::vector<std::uintptr_t> ids;
  {
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    ids = model_.live_ids();
  }
  for (auto id : ids) release(id);
  return Errc::ok;
}

Errc Engine::channel_type(std::uintptr_t id, ChannelType& type) {
  return with_channel(id, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    type = ch.type;
    return Errc::ok;
  });
}

// ---------------------------------------------------------------------------
// Host ports: control

namespace {

// A host port's ring holds at least capacity samples (a bigger one is kept).
void ensure_ring(ChannelIo& io, std::shared_ptr<SpscRing<float>> ChannelIo::*port, std::size_t capacity) {
  std::lock_guard<std::mutex> io_lock(io.api_mutex);
  auto& ring = io.*port;
  if (!ring || ring->capacity() < capacity) ring = std::make_shared<SpscRing<float>>(capacity);
}

}  // namespace

Errc Engine::enable_host_input(std::uintptr_t id, std::size_t capacity_frames) {
  if (capacity_frames == 0 || capacity_frames > kMaxHostCapacityFrames) return Errc::bad_parameter;
  return with_channel(id, Half::input, [&](ChannelCtl& ch, ChannelKey) {
    ensure_ring(*ch.io, &ChannelIo::host_in, capacity_frames * frame_);
    ch.host_input = true;
    ch.frame_input = false;  // one port per input; it replaces a datafeed too
    ch.feed = InputFeed::host;
    changed();
    return Errc::ok;
  });
}

Errc Engine::enable_host_output(std::uintptr_t id, std::size_t capacity_frames) {
  if (capacity_frames == 0 || capacity_frames > kMaxHostCapacityFrames) return Errc::bad_parameter;
  return with_channel(id, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    ensure_ring(*ch.io, &ChannelIo::host_out, capacity_frames * frame_);
    ch.host_output = true;
    changed();
    return Errc::ok;
  });
}

Errc Engine::disable_host_input(std::uintptr_t id) {
  return with_channel(id, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    ch.host_input = false;
    if (ch.feed == InputFeed::host) ch.feed = InputFeed::none;
    std::lock_guard<std::mutex> io_lock(ch.io->api_mutex);
    ch.io->host_in.reset();
    changed();
    return Errc::ok;
  });
}

Errc Engine::disable_host_output(std::uintptr_t id) {
  return with_channel(id, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    ch.host_output = false;
    std::lock_guard<std::mutex> io_lock(ch.io->api_mutex);
    ch.io->host_out.reset();
    changed();
    return Errc::ok;
  });
}

// ---------------------------------------------------------------------------
// Host ports: audio. The application's side of the rings; the processing
// path's side is in input.cpp and process.cpp.

Errc ChannelIo::write_input(const float* samples, std::size_t n, std::size_t& accepted) {
  accepted = 0;
  std::lock_guard<std::mutex> lock(api_mutex);
  if (released.load()) return Errc::no_such_channel;
  if (!host_in) return Errc::wrong_channel_state;
  if (n > 0 && samples == nullptr) return Errc::bad_parameter;
  accepted = host_in->write(samples, n);
  if (accepted < n) in_dropped.fetch_add(n - accepted, std::memory_order_relaxed);
  return Errc::ok;
}

Errc ChannelIo::write_input(const std::int16_t* samples, std::size_t n, std::size_t& accepted) {
  accepted = 0;
  std::lock_guard<std::mutex> lock(api_mutex);
  if (released.load()) return Errc::no_such_channel;
  if (!host_in) return Errc::wrong_channel_state;
  if (n > 0 && samples == nullptr) return Errc::bad_parameter;
  float block[kConvertBlock];
  while (accepted < n) {
    const std::size_t m = std::min(kConvertBlock, n - accepted);
    dsp::s16_to_float(samples + accepted, block, m);
    const std::size_t w = host_in->write(block, m);
    accepted += w;
    if (w < m) break;
  }
  if (accepted < n) in_dropped.fetch_add(n - accepted, std::memory_order_relaxed);
  return Errc::ok;
}

Errc ChannelIo::read_output(float* samples, std::size_t n, std::size_t& delivered) {
  delivered = 0;
  std::lock_guard<std::mutex> lock(api_mutex);
  if (released.load()) return Errc::no_such_channel;
  if (!host_out) return Errc::wrong_channel_state;
  if (n > 0 && samples == nullptr) return Errc::bad_parameter;
  delivered = host_out->read(samples, n);
  return Errc::ok;
}

Errc ChannelIo::read_output(std::int16_t* samples, std::size_t n, std::size_t& delivered) {
  delivered = 0;
  std::lock_guard<std::mutex> lock(api_mutex);
  if (released.load()) return Errc::no_such_channel;
  if (!host_out) return Errc::wrong_channel_state;
  if (n > 0 && samples == nullptr) return Errc::bad_parameter;
  float block[kConvertBlock];
  while (delivered < n) {
    const std::size_t m = std::min(kConvertBlock, n - delivered);
    const std::size_t r = host_out->read(block, m);
    dsp::float_to_s16(block, samples + delivered, r);
    delivered += r;
    if (r < m) break;
  }
  return Errc::ok;
}

Errc ChannelIo::host_levels(std::size_t& queued_in, std::size_t& available_out) {
  queued_in = available_out = 0;
  std::lock_guard<std::mutex> lock(api_mutex);
  if (released.load()) return Errc::no_such_channel;
  if (host_in) queued_in = host_in->size();
  if (host_out) available_out = host_out->size();
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Frame ports

Errc Engine::enable_frame_input(std::uintptr_t id) {
  return with_channel(id, Half::input, [&](ChannelCtl& ch, ChannelKey) {
    ch.frame_input = true;
    ch.host_input = false;  // one port per input; it replaces a datafeed too
    ch.feed = InputFeed::frame;
    std::lock_guard<std::mutex> io_lock(ch.io->api_mutex);
    ch.io->host_in.reset();
    changed();
    return Errc::ok;
  });
}

Errc Engine::enable_frame_output(std::uintptr_t id) {
  return with_channel(id, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    ch.frame_output = true;
    changed();
    return Errc::ok;
  });
}

Errc Engine::disable_frame_input(std::uintptr_t id) {
  return with_channel(id, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    ch.frame_input = false;
    if (ch.feed == InputFeed::frame) ch.feed = InputFeed::none;
    changed();
    return Errc::ok;
  });
}

Errc Engine::disable_frame_output(std::uintptr_t id) {
  return with_channel(id, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    ch.frame_output = false;
    changed();
    return Errc::ok;
  });
}

// ---------------------------------------------------------------------------
// Datafeeds

Errc Engine::get_datafeed(std::uintptr_t id, std::uintptr_t& datafeed) {
  return with_channel(id, Half::output, [&](ChannelCtl& ch, ChannelKey key) {
    ch.datafeed_referenced = true;
    datafeed = encode_datafeed(key);
    changed();
    return Errc::ok;
  });
}

Errc Engine::connect_datafeed(std::uintptr_t id, std::uintptr_t datafeed) {
  if (Errc e = check_connection(PendingConnection::Kind::input_feed, datafeed, id); e != Errc::ok) return e;
  return with_channel(id, Half::input, [&](ChannelCtl& ch, ChannelKey) {
    if (datafeed == 0) {  // kSMNullDatafeedId disconnects: the port takes over again
      if (ch.feed == InputFeed::datafeed || ch.feed == InputFeed::endpoint) ch.feed = ch.port_feed();
      changed();
      return Errc::ok;
    }
    EndpointKey endpoint;
    if (decode_endpoint(datafeed, endpoint)) return connect_input_to_endpoint(ch, datafeed);
    ChannelKey src;
    if (!decode_datafeed(datafeed, src)) return Errc::bad_parameter;
    if (src.module != module_no_) return Errc::not_same_module;
    const ChannelCtl* source = model_.find(src);
    if (!source || !source->datafeed_referenced) return Errc::bad_parameter;
    ch.feed = InputFeed::datafeed;
    ch.feed_source = src;
    changed();
    return Errc::ok;
  });
}

// ---------------------------------------------------------------------------
// Statistics

Errc Engine::input_stats(std::uintptr_t id, InputStats& s) {
  return with_channel(id, Half::input, [&](ChannelCtl& ch, ChannelKey) {
    const ChannelIo& io = *ch.io;
    s.frames_in = io.in_frames.load();
    s.frames_concealed = io.in_concealed.load();
    s.samples_dropped = io.in_dropped.load();
    s.samples_cleaned = io.in_nonfinite.load();
    s.level_dbm0 = level_dbm0(io.in_level_ms.load());
    s.active = io.in_active.load();
    s.participant_id = ch.pid;
    return Errc::ok;
  });
}

Errc Engine::output_stats(std::uintptr_t id, OutputStats& s) {
  return with_channel(id, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    const ChannelIo& io = *ch.io;
    s.frames_out = io.out_frames.load();
    s.samples_dropped = io.out_dropped.load();
    s.limited_frames = io.out_limited.load();
    s.level_dbm0 = level_dbm0(io.out_level_ms.load());
    return Errc::ok;
  });
}

}  // namespace prosody::detail
