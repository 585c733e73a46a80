// engine_endpoints.cpp - endpoints on the module (endpoints.hpp): adding and
// removing them, feeding a sink from a datafeed, feeding a channel input
// from a source.
#include <atomic>

#include "engine/engine.hpp"
#include "engine/registry.hpp"

namespace prosody::detail {

namespace {

// Errc::not_same_module for a datafeed of another live module, otherwise
// Errc::bad_parameter (no such datafeed).
Errc foreign_datafeed(std::uint32_t module) {
  return Registry::instance().find(module) ? Errc::not_same_module : Errc::bad_parameter;
}

std::atomic<Engine::LoopCheck> loop_check{nullptr};

}  // namespace

void Engine::set_loop_check(LoopCheck check) { loop_check.store(check); }

void Engine::flow(const PendingConnection& pending, ModuleFlow& out) const {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  compute_flow(model_, pending, out);
}

Errc Engine::check_connection(PendingConnection::Kind kind, std::uintptr_t from, std::uintptr_t to) const {
  const LoopCheck check = loop_check.load();
  if (!check) return Errc::ok;
  {
    // A loop through other modules passes through an endpoint of this one.
    std::lock_guard<std::mutex> lock(ctl_mutex_);
    if (model_.endpoints().empty()) return Errc::ok;
  }
  PendingConnection pending;
  pending.kind = kind;
  const bool from_ok = decode_channel(from, pending.from) || decode_datafeed(from, pending.from) ||
                       (pending.from_endpoint = decode_endpoint(from, pending.from));
  const bool to_ok = decode_channel(to, pending.to) || decode_endpoint(to, pending.to);
  if (!from_ok || !to_ok || pending.from.module != module_no_ || pending.to.module != module_no_) return Errc::ok;
  return check(module_no_, pending);
}

Errc Engine::add_endpoint(std::shared_ptr<EndpointSource> source, std::shared_ptr<EndpointSink> sink,
                          bool last_connection_only, std::uintptr_t& id) {
  if (!source == !sink) return Errc::bad_parameter;  // one or the other
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  EndpointKey key;
  if (!model_.endpoints().allocate(key)) return Errc::no_resources;
  EndpointCtl& e = *model_.endpoints().find(key);
  e.source = std::move(source);
  e.sink = std::move(sink);
  e.last_connection_only = last_connection_only;
  id = encode_endpoint(key);
  changed();
  return Errc::ok;
}

Errc Engine::remove_endpoint(std::uintptr_t id) {
  EndpointKey key;
  if (!decode_endpoint(id, key) || key.module != module_no_) return Errc::bad_parameter;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  EndpointTable& table = model_.endpoints();
  if (!table.find(key)) return Errc::bad_parameter;
  // Inputs and sinks it fed hear silence from now on (they conceal the
  // frame that went missing first).
  for (std::uintptr_t channel : model_.live_ids()) {
    ChannelCtl* ch = model_.find(channel);
    if (ch->feed == InputFeed::endpoint && ch->feed_source == key) ch->feed = InputFeed::none;
  }
  for (EndpointCtl& e : table.slots())
    if (e.allocated && e.feed == SinkFeed::source && e.feed_key == key) e.feed = SinkFeed::none;
  table.release(key);
  changed();
  return Errc::ok;
}

Errc Engine::connect_sink(std::uintptr_t sink_id, std::uintptr_t datafeed) {
  EndpointKey key;
  if (!decode_endpoint(sink_id, key) || key.module != module_no_) return Errc::bad_parameter;
  if (Errc e = check_connection(PendingConnection::Kind::sink_feed, datafeed, sink_id); e != Errc::ok) return e;
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  EndpointTable& table = model_.endpoints();
  EndpointCtl* sink = table.find(key);
  if (!sink || !sink->sink) return Errc::bad_parameter;
  if (datafeed == 0) {  // kSMNullDatafeedId disconnects
    sink->feed = SinkFeed::none;
    changed();
    return Errc::ok;
  }
  SinkFeed feed;
  ChannelKey from;
  if (decode_endpoint(datafeed, from)) {
    if (from.module != module_no_) return foreign_datafeed(from.module);
    const EndpointCtl* src = table.find(from);
    if (!src || !src->source) return Errc::bad_parameter;
    feed = SinkFeed::source;
  } else if (decode_datafeed(datafeed, from)) {
    if (from.module != module_no_) return foreign_datafeed(from.module);
    const ChannelCtl* ch = model_.find(from);
    if (!ch || !ch->datafeed_referenced) return Errc::bad_parameter;
    feed = SinkFeed::channel;
  } else {
    return Errc::bad_parameter;
  }
  // A datafeed reaches only the last of the sinks that take it so.
  if (sink->last_connection_only)
    for (EndpointCtl& e : table.slots())
      if (e.allocated && &e != sink && e.last_connection_only && e.feed == feed && e.feed_key == from)
        e.feed = SinkFeed::none;
  sink->feed = feed;
  sink->feed_key = from;
  changed();
  return Errc::ok;
}

Errc Engine::connect_input_to_endpoint(ChannelCtl& ch, std::uintptr_t datafeed) {
  EndpointKey from;
  if (!decode_endpoint(datafeed, from)) return Errc::bad_parameter;
  if (from.module != module_no_) return foreign_datafeed(from.module);
  const EndpointCtl* src = model_.endpoints().find(from);
  if (!src || !src->source) return Errc::bad_parameter;
  ch.feed = InputFeed::endpoint;
  ch.feed_source = from;
  changed();
  return Errc::ok;
}

}  // namespace prosody::detail
