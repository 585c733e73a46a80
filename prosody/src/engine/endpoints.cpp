// endpoints.cpp - the endpoint table's slots, and the runtime's side of
// endpoints: built at a frame boundary, sources pulled before the inputs
// read them, sinks pushed once the outputs are done.
#include "engine/endpoints.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "dsp/kernels.hpp"
#include "engine/runtime.hpp"

namespace prosody::detail {

// ---------------------------------------------------------------------------
// The table

EndpointCtl* EndpointTable::find(const EndpointKey& key) {
  return const_cast<EndpointCtl*>(static_cast<const EndpointTable*>(this)->find(key));
}

const EndpointCtl* EndpointTable::find(const EndpointKey& key) const {
  if (key.module != module_no_ || key.slot >= slots_.size()) return nullptr;
  const EndpointCtl& e = slots_[key.slot];
  return e.allocated && e.gen == key.gen ? &e : nullptr;
}

bool EndpointTable::allocate(EndpointKey& key) {
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    if (slots_.size() >= kMaxEndpointSlots) return false;
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
    slots_.back().gen = (module_no_ * 31u) & kEndpointGenMask;
  }
  EndpointCtl& e = slots_[slot];
  const std::uint32_t gen = (e.gen + 1) & kEndpointGenMask;
  e = EndpointCtl{};
  e.allocated = true;
  e.gen = gen == 0 ? 1 : gen;
  key = EndpointKey{module_no_, slot, e.gen};
  ++live_;
  return true;
}

void EndpointTable::release(const EndpointKey& key) {
  EndpointCtl& e = slots_[key.slot];
  const std::uint32_t gen = e.gen;
  e = EndpointCtl{};
  e.gen = gen;
  free_.push_back(key.slot);
  --live_;
}

// ---------------------------------------------------------------------------
// A module's flow between its endpoints

namespace {

// The module's connections, with the pending one as if made, indexed so
// that each search is linear in what it reaches.
class FlowGraph {
 public:
  FlowGraph(const ControlModel& model, const PendingConnection& pending)
      : model_(model), pending_(pending), slots_(model.slots()), endpoints_(model.endpoints().slots()) {
    const std::size_t n = slots_.size();
    inputs_by_output_.resize(n);
    inputs_by_source_.resize(endpoints_.size());
    sinks_by_output_.resize(n);
    sinks_by_source_.resize(endpoints_.size());
    replays_by_background_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const ChannelCtl& ch = slots_[i];
      if (!ch.allocated) continue;
      if (ch.out_job == OutputJob::conference) conference_outputs_.push_back(i);
      bool endpoint;
      ChannelKey from;
      if (feed_of(i, endpoint, from)) link(endpoint, from, i, inputs_by_source_, inputs_by_output_);
      ChannelKey bk;
      if (ch.out_job == OutputJob::replay && ch.io->replay &&
          decode_channel(ch.io->replay->settings.background.value, bk) && model_.find(bk))
        replays_by_background_[bk.slot].push_back(i), background_[i] = bk.slot;
    }
    for (std::size_t s = 0; s < endpoints_.size(); ++s) {
      bool endpoint;
      ChannelKey from;
      if (sink_feed_of(s, endpoint, from)) link(endpoint, from, s, sinks_by_source_, sinks_by_output_);
    }
  }

  void forward(std::size_t source_slot, ModuleFlow::FromSource& out) {
    reset();
    for (std::size_t i : inputs_by_source_[source_slot]) visit_input(i);
    for (std::size_t s : sinks_by_source_[source_slot]) out.sinks.push_back(endpoint_id(s));
    while (!inputs_.empty() || !outputs_.empty()) {
      if (!inputs_.empty()) {
        const std::size_t i = pop(inputs_);
        for (std::size_t o : conference_outputs_)
          if (is_member(i, o)) visit_output(o);
        if (pending_.kind == Kind::member && pending_.from == key_of(i) && model_.find(pending_.to))
          visit_output(pending_.to.slot);
        continue;
      }
      const std::size_t o = pop(outputs_);
      out.outputs.push_back(std::uint32_t(o));
      for (std::size_t i : inputs_by_output_[o]) visit_input(i);
      for (std::size_t s : sinks_by_output_[o]) out.sinks.push_back(endpoint_id(s));
      for (std::size_t r : replays_by_background_[o]) visit_output(r);
      // A clone takes what its model hears.
      if (pending_.kind == Kind::clone && pending_.from == key_of(o) && model_.find(pending_.to))
        visit_output(pending_.to.slot);
    }
    std::sort(out.outputs.begin(), out.outputs.end());
  }

  void backward(std::size_t sink_slot, ModuleFlow::IntoSink& out) {
    reset();
    bool endpoint;
    ChannelKey from;
    if (sink_feed_of(sink_slot, endpoint, from) && !endpoint) visit_output(from.slot);
    while (!inputs_.empty() || !outputs_.empty()) {
      if (!outputs_.empty()) {
        const std::size_t o = pop(outputs_);
        visit_members(o);
        if (pending_.kind == Kind::clone && pending_.to == key_of(o) && model_.find(pending_.from))
          visit_members(pending_.from.slot);
        if (pending_.kind == Kind::member && pending_.to == key_of(o) && model_.find(pending_.from))
          visit_input(pending_.from.slot);
        if (auto bg = background_.find(o); bg != background_.end()) visit_output(bg->second);
        continue;
      }
      const std::size_t i = pop(inputs_);
      out.inputs.push_back(std::uint32_t(i));
      if (feed_of(i, endpoint, from) && !endpoint) visit_output(from.slot);
    }
    std::sort(out.inputs.begin(), out.inputs.end());
  }

 private:
  using Kind = PendingConnection::Kind;

  // Files `to` under the channel output or source endpoint `from` feeding it.
  void link(bool endpoint, const ChannelKey& from, std::size_t to, std::vector<std::vector<std::size_t>>& by_source,
            std::vector<std::vector<std::size_t>>& by_output) const {
    if (endpoint) {
      if (model_.endpoints().find(from)) by_source[from.slot].push_back(to);
    } else if (model_.find(from)) {
      by_output[from.slot].push_back(to);
    }
  }
  void reset() {
    seen_in_.assign(slots_.size(), 0);
    seen_out_.assign(slots_.size(), 0);
    inputs_.clear();
    outputs_.clear();
  }
  static std::size_t pop(std::vector<std::size_t>& q) {
    const std::size_t v = q.back();
    q.pop_back();
    return v;
  }
  void visit_input(std::size_t i) {
    if (seen_in_[i]) return;
    seen_in_[i] = 1;
    inputs_.push_back(i);
  }
  void visit_output(std::size_t o) {
    if (seen_out_[o]) return;
    seen_out_[o] = 1;
    outputs_.push_back(o);
  }
  void visit_members(std::size_t o) {
    const ChannelCtl& out = slots_[o];
    if (out.out_job != OutputJob::conference) return;
    out.conf.members.for_each([&](std::size_t pid) {
      if (model_.pid_in_use(pid)) visit_input(model_.holder_slot(pid));
    });
  }
  ChannelKey key_of(std::size_t s) const { return ChannelKey{model_.module_no(), std::uint32_t(s), slots_[s].gen}; }
  EndpointKey endpoint_key(std::size_t s) const {
    return EndpointKey{model_.module_no(), std::uint32_t(s), endpoints_[s].gen};
  }
  std::uintptr_t endpoint_id(std::size_t s) const { return encode_endpoint(endpoint_key(s)); }

  // Where input i is fed from (false: a port, or nothing).
  bool feed_of(std::size_t i, bool& endpoint, ChannelKey& from) const {
    const ChannelCtl& ch = slots_[i];
    if (!ch.allocated) return false;
    if (pending_.kind == Kind::input_feed && pending_.to == key_of(i)) {
      endpoint = pending_.from_endpoint;
      from = pending_.from;
      return true;
    }
    if (ch.feed != InputFeed::datafeed && ch.feed != InputFeed::endpoint) return false;
    endpoint = ch.feed == InputFeed::endpoint;
    from = ch.feed_source;
    return true;
  }
  // Where sink endpoint s is fed from (false: nothing, or not a sink).
  bool sink_feed_of(std::size_t s, bool& endpoint, ChannelKey& from) const {
    const EndpointCtl& e = endpoints_[s];
    if (!e.allocated || !e.sink) return false;
    if (pending_.kind == Kind::sink_feed && pending_.to == endpoint_key(s)) {
      endpoint = pending_.from_endpoint;
      from = pending_.from;
      return true;
    }
    if (e.feed == SinkFeed::none) return false;
    endpoint = e.feed == SinkFeed::source;
    from = e.feed_key;
    return true;
  }
  // Whether conference output o sums input i (the pending member and clone
  // are followed by the searches).
  bool is_member(std::size_t i, std::size_t o) const {
    const ChannelCtl& in = slots_[i];
    return in.pid >= 0 && slots_[o].conf.members.test(std::size_t(in.pid));
  }

  const ControlModel& model_;
  const PendingConnection& pending_;
  const std::vector<ChannelCtl>& slots_;
  const std::vector<EndpointCtl>& endpoints_;
  std::vector<std::size_t> conference_outputs_;
  std::vector<std::vector<std::size_t>> inputs_by_output_, inputs_by_source_;
  std::vector<std::vector<std::size_t>> sinks_by_output_, sinks_by_source_;
  std::vector<std::vector<std::size_t>> replays_by_background_;
  std::map<std::size_t, std::size_t> background_;  // replay channel -> its background output
  std::vector<char> seen_in_, seen_out_;
  std::vector<std::size_t> inputs_, outputs_;
};

}  // namespace

void compute_flow(const ControlModel& model, const PendingConnection& pending, ModuleFlow& out) {
  out = ModuleFlow{};
  FlowGraph graph(model, pending);
  const auto& endpoints = model.endpoints().slots();
  for (std::size_t s = 0; s < endpoints.size(); ++s) {
    const EndpointCtl& e = endpoints[s];
    if (!e.allocated) continue;
    const EndpointKey key{model.module_no(), std::uint32_t(s), e.gen};
    if (e.source) {
      ModuleFlow::FromSource from;
      from.source = encode_endpoint(key);
      graph.forward(s, from);
      out.sources.push_back(std::move(from));
    } else {
      ModuleFlow::IntoSink into;
      into.sink = encode_endpoint(key);
      graph.backward(s, into);
      out.sinks.push_back(std::move(into));
    }
  }
}

// ---------------------------------------------------------------------------
// The runtime's side

void Runtime::build_endpoints(const ControlModel& model) {
  const EndpointTable& table = model.endpoints();
  const auto& slots = table.slots();
  EndpointsRt old = std::move(endpoints_);
  endpoints_ = EndpointsRt{};
  endpoints_.source_by_slot.assign(slots.size(), -1);
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const EndpointCtl& e = slots[s];
    if (!e.allocated || !e.source) continue;
    SourceRt src;
    // A source that carries on keeps its buffer (its frame is read again
    // only in a later frame, but nothing need be allocated).
    auto it =
        std::find_if(old.sources.begin(), old.sources.end(), [&](const SourceRt& o) { return o.endpoint == e.source; });
    if (it != old.sources.end()) src = std::move(*it);
    src.endpoint = e.source;
    src.frame.resize(frame_);
    src.received.reserve(frame_ / 2 + 1);  // the most runs a frame can have
    endpoints_.source_by_slot[s] = static_cast<std::int32_t>(endpoints_.sources.size());
    endpoints_.sources.push_back(std::move(src));
  }
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const EndpointCtl& e = slots[s];
    if (!e.allocated || !e.sink) continue;
    SinkRt sink;
    sink.endpoint = e.sink;
    if (e.feed == SinkFeed::channel && model.find(e.feed_key)) {
      const std::int32_t oi = output_by_slot_[e.feed_key.slot];
      if (oi >= 0 && outputs_[std::size_t(oi)].keeps_cur) sink.from_output = oi;
    } else if (e.feed == SinkFeed::source && table.find(e.feed_key)) {
      sink.from_source = endpoints_.source_by_slot[e.feed_key.slot];
    }
    endpoints_.sinks.push_back(std::move(sink));
  }
}

std::int32_t Runtime::endpoint_source_index(const ControlModel& model, const ChannelKey& key) const {
  if (!model.endpoints().find(key) || key.slot >= endpoints_.source_by_slot.size()) return -1;
  return endpoints_.source_by_slot[key.slot];
}

void Runtime::pull_endpoints() {
  for (SourceRt& s : endpoints_.sources) {
    float* x = s.frame.data();
    s.endpoint->pull(x, frame_);
    // The runs received; what was not is silence for a sink that forwards
    // it.
    s.received.clear();
    for (std::uint32_t i = 0; i < frame_;) {
      const std::uint32_t begin = i;
      while (i < frame_ && !std::isnan(x[i])) ++i;
      if (i > begin) s.received.emplace_back(begin, i);
      for (; i < frame_ && std::isnan(x[i]); ++i) x[i] = 0.0f;
    }
  }
}

void Runtime::push_endpoints() {
  for (SinkRt& s : endpoints_.sinks) {
    const float* frame = nullptr;
    if (s.from_output >= 0)
      frame = outputs_[std::size_t(s.from_output)].cur;
    else if (s.from_source >= 0)
      frame = endpoints_.sources[std::size_t(s.from_source)].frame.data();
    s.endpoint->push(frame, frame_);
  }
}

}  // namespace prosody::detail
