// tdm.cpp - the software TDM bus (tdm.hpp): timeslots, the rings between
// each TDM[tx] and its TDM[rx]s, and the endpoints' pull and push.
#include "engine/tdm.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "dsp/g711.hpp"
#include "dsp/kernels.hpp"
#include "engine/endpoints.hpp"
#include "engine/engine.hpp"
#include "engine/ring.hpp"

namespace prosody::detail {

namespace {

// A ring holds this many of the longest frames (20 ms): far more than the
// four a receiver lets pile up.
constexpr std::size_t kRingFrames = 16;
// A receiver starts once its frame and this many more frames are queued,
// and drops the oldest beyond its frame and kMaxQueued more.
constexpr std::size_t kStartFrames = 1;
constexpr std::size_t kMaxQueuedFrames = 3;

bool companded(TimeslotType t) { return t != TimeslotType::data; }

// What a receiver delivers for a sample it did not receive (EndpointSource).
const float kMissing = std::numeric_limits<float>::quiet_NaN();

// Quantises n samples to the G.711 law of type, as a TDM timeslot carries
// them (in and out may be the same).
void quantise(TimeslotType type, const float* in, float* out, std::uint8_t* codes, std::size_t n) {
  if (type == TimeslotType::alaw) {
    dsp::encode_alaw(in, codes, n);
    dsp::decode_alaw(codes, out, n);
  } else {
    dsp::encode_ulaw(in, codes, n);
    dsp::decode_ulaw(codes, out, n);
  }
}

// The ring between one TDM[tx] and one TDM[rx]. Producer: the sender's
// processing path; consumer: the receiver's.
struct Link {
  explicit Link(std::size_t capacity) : ring(capacity) {}
  SpscRing<float> ring;
  std::atomic<bool> has_sender{false};
  std::atomic<unsigned> sender_frame{0};   // samples per frame of the sender
  std::atomic<int> sender_type{0};         // its TimeslotType
  std::atomic<std::uint64_t> overflow{0};  // samples the sender could not queue
};

struct Timeslot {
  std::mutex m;
  bool has_tx = false;  // guarded by m
  TimeslotType tx_type = TimeslotType::alaw;
  unsigned tx_frame = 0;
  std::vector<std::shared_ptr<Link>> links;  // guarded by m
  std::atomic<std::uint64_t> version{0};     // bumped when links or the sender change
  unsigned rate = 0;                         // guarded by the bus mutex
  int endpoints = 0;                         // guarded by the bus mutex
};

class TdmTx final : public EndpointSink {
 public:
  TdmTx(std::shared_ptr<Timeslot> ts, TimeslotType type, unsigned frame)
      : ts_(std::move(ts)), type_(type), scratch_(frame), codes_(frame) {}
  ~TdmTx() override { detach(); }

  // Takes the timeslot (false if it has a sender).
  bool attach() {
    std::lock_guard<std::mutex> lock(ts_->m);
    if (ts_->has_tx) return false;
    ts_->has_tx = true;
    ts_->tx_type = type_;
    ts_->tx_frame = static_cast<unsigned>(scratch_.size());
    for (auto& link : ts_->links) announce(*link);
    ts_->version.fetch_add(1, std::memory_order_release);
    attached_ = true;
    return true;
  }
  void announce(Link& link) const {
    link.sender_frame = static_cast<unsigned>(scratch_.size());
    link.sender_type = static_cast<int>(type_);
    link.has_sender = true;
  }
  void detach() {
    std::lock_guard<std::mutex> lock(ts_->m);
    if (!attached_) return;
    attached_ = false;
    ts_->has_tx = false;
    for (auto& link : ts_->links) link->has_sender = false;
    ts_->version.fetch_add(1, std::memory_order_release);
  }

  void push(const float* frame, std::size_t n) override {
    refresh_links();
    const float* out = scratch_.data();
    if (!frame)
      dsp::zero(scratch_.data(), n);  // nothing connected: the timeslot carries silence
    else if (companded(type_))
      quantise(type_, frame, scratch_.data(), codes_.data(), n);
    else
      out = frame;
    for (auto& link : links_) {
      const std::size_t w = link->ring.write(out, n);
      if (w < n) link->overflow.fetch_add(n - w, std::memory_order_relaxed);
    }
  }

 private:
  // The receivers as of the last change; the processing path never waits
  // for the control side (a change that misses one frame is taken at the
  // next).
  void refresh_links() {
    const std::uint64_t v = ts_->version.load(std::memory_order_acquire);
    if (v == seen_version_) return;
    std::unique_lock<std::mutex> lock(ts_->m, std::try_to_lock);
    if (!lock) return;
    links_ = ts_->links;
    seen_version_ = ts_->version.load(std::memory_order_relaxed);
  }

  std::shared_ptr<Timeslot> ts_;
  const TimeslotType type_;
  bool attached_ = false;  // guarded by ts_->m
  std::vector<float> scratch_;
  std::vector<std::uint8_t> codes_;
  std::vector<std::shared_ptr<Link>> links_;
  std::uint64_t seen_version_ = ~std::uint64_t{0};
};

class TdmRx final : public EndpointSource {
 public:
  TdmRx(std::shared_ptr<Timeslot> ts, TimeslotType type, unsigned frame, std::size_t capacity)
      : ts_(std::move(ts)), type_(type), link_(std::make_shared<Link>(capacity)), scratch_(capacity), codes_(frame) {}
  ~TdmRx() override { detach(); }

  void attach() {
    std::lock_guard<std::mutex> lock(ts_->m);
    if (ts_->has_tx) {
      link_->sender_frame = ts_->tx_frame;
      link_->sender_type = static_cast<int>(ts_->tx_type);
      link_->has_sender = true;
    }
    ts_->links.push_back(link_);
    ts_->version.fetch_add(1, std::memory_order_release);
    attached_ = true;
  }
  void detach() {
    std::lock_guard<std::mutex> lock(ts_->m);
    if (!attached_) return;
    attached_ = false;
    auto& links = ts_->links;
    links.erase(std::remove(links.begin(), links.end(), link_), links.end());
    ts_->version.fetch_add(1, std::memory_order_release);
  }

  void pull(float* frame, std::size_t n) override {
    SpscRing<float>& ring = link_->ring;
    const std::size_t margin = std::max<std::size_t>(n, link_->sender_frame.load(std::memory_order_relaxed));
    std::size_t queued = ring.size();
    if (!link_->has_sender.load(std::memory_order_acquire) && !(playing_ && queued >= n)) {
      // No sender (any more): an idle timeslot carries silence.
      ring.clear();
      playing_ = false;
      dsp::zero(frame, n);
      return;
    }
    if (!playing_) {
      if (queued < n + kStartFrames * margin) {
        if (!ever_played_) {  // waiting for the first frames: silence
          dsp::zero(frame, n);
          return;
        }
        // After a shortfall: missing until the queue has refilled.
        concealed_.fetch_add(1, std::memory_order_relaxed);
        std::fill(frame, frame + n, kMissing);
        return;
      }
      playing_ = ever_played_ = true;
      restarts_.fetch_add(1, std::memory_order_relaxed);
    }
    if (queued > n + kMaxQueuedFrames * margin) {
      // This module is late: drop the oldest, back to the starting depth.
      const std::size_t drop = queued - (n + kStartFrames * margin);
      for (std::size_t left = drop; left > 0;) left -= ring.read(scratch_.data(), std::min(left, scratch_.size()));
      dropped_.fetch_add(drop, std::memory_order_relaxed);
    }
    const std::size_t got = ring.read(frame, n);
    read_with_own_law(frame, got);
    if (got < n) {
      // The sender is late: the rest is missing.
      playing_ = false;
      concealed_.fetch_add(1, std::memory_order_relaxed);
      std::fill(frame + got, frame + n, kMissing);
    }
    received_.fetch_add(1, std::memory_order_relaxed);
  }

  // A receiver of a law other than the sender's reads the other law's codes
  // with its own (as on hardware); one of a data timeslot's exact samples
  // quantises them.
  void read_with_own_law(float* frame, std::size_t n) {
    const auto sent = static_cast<TimeslotType>(link_->sender_type.load(std::memory_order_relaxed));
    if (!companded(type_) || sent == type_) return;
    if (!companded(sent)) {
      quantise(type_, frame, frame, codes_.data(), n);
      return;
    }
    if (sent == TimeslotType::alaw)
      dsp::encode_alaw(frame, codes_.data(), n);
    else
      dsp::encode_ulaw(frame, codes_.data(), n);
    if (type_ == TimeslotType::alaw)
      dsp::decode_alaw(codes_.data(), frame, n);
    else
      dsp::decode_ulaw(codes_.data(), frame, n);
  }

  TdmRxStats stats() const {
    TdmRxStats s;
    s.frames_received = received_.load(std::memory_order_relaxed);
    s.frames_concealed = concealed_.load(std::memory_order_relaxed);
    s.samples_dropped = dropped_.load(std::memory_order_relaxed);
    s.restarts = restarts_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::shared_ptr<Timeslot> ts_;
  const TimeslotType type_;
  std::shared_ptr<Link> link_;
  bool attached_ = false;  // guarded by ts_->m
  // Processing path only
  bool playing_ = false;
  bool ever_played_ = false;
  std::vector<float> scratch_;
  std::vector<std::uint8_t> codes_;
  // Statistics
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::uint64_t> concealed_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> restarts_{0};
};

}  // namespace

// ---------------------------------------------------------------------------

struct TdmBus::Impl {
  // The module owns its endpoints (its endpoint table and runtime hold
  // them): when it closes they go, and a TDM[tx] that goes leaves its
  // timeslot, whose receivers then carry silence.
  struct Endpoint {
    std::weak_ptr<Engine> module;
    std::pair<int, int> where;
    bool is_tx = false;
    std::weak_ptr<TdmTx> tx;  // one of the two
    std::weak_ptr<TdmRx> rx;
  };

  std::mutex m;
  std::map<std::pair<int, int>, std::shared_ptr<Timeslot>> timeslots;
  std::map<std::uintptr_t, Endpoint> endpoints;

  // Endpoints of modules that have closed are forgotten (m held).
  void purge() {
    for (auto it = endpoints.begin(); it != endpoints.end();) {
      if (it->second.module.expired()) {
        forget(it->second);
        it = endpoints.erase(it);
      } else {
        ++it;
      }
    }
  }
  void forget(Endpoint& e) {
    if (auto tx = e.tx.lock()) tx->detach();
    if (auto rx = e.rx.lock()) rx->detach();
    auto ts = timeslots.find(e.where);
    if (ts != timeslots.end() && --ts->second->endpoints == 0) timeslots.erase(ts);
  }
  Errc create(const std::shared_ptr<Engine>& module, int stream, int slot, TimeslotType type, bool tx,
              std::uintptr_t& id) {
    if (!module) return Errc::no_such_module;
    const int t = static_cast<int>(type);
    if (t < 0 || t > 2) return Errc::bad_parameter;
    if (stream < 0 || stream >= kTdmStreams || slot < 0 || slot >= kTdmTimeslots) return Errc::bad_parameter;
    std::lock_guard<std::mutex> lock(m);
    purge();
    auto found = timeslots.find({stream, slot});
    if (found != timeslots.end() && found->second->rate != module->sample_rate()) return Errc::bad_parameter;
    std::shared_ptr<Timeslot> ts = found != timeslots.end() ? found->second : std::make_shared<Timeslot>();
    Endpoint entry;
    entry.module = module;
    entry.where = {stream, slot};
    entry.is_tx = tx;
    Errc e;
    if (tx) {
      auto sender = std::make_shared<TdmTx>(ts, type, module->frame_samples());
      if (!sender->attach()) return Errc::no_resources;
      e = module->add_endpoint(nullptr, sender, true, id);
      entry.tx = sender;
    } else {
      auto receiver =
          std::make_shared<TdmRx>(ts, type, module->frame_samples(), kRingFrames * module->sample_rate() / 50);
      receiver->attach();
      e = module->add_endpoint(receiver, nullptr, false, id);
      entry.rx = receiver;
    }
    if (e != Errc::ok) return e;  // the endpoint made here goes, and leaves its timeslot
    ts->rate = module->sample_rate();
    ++ts->endpoints;
    timeslots[{stream, slot}] = ts;
    endpoints[id] = std::move(entry);
    return Errc::ok;
  }
  Errc destroy(std::uintptr_t id, bool tx) {
    std::shared_ptr<Engine> module;
    {
      std::lock_guard<std::mutex> lock(m);
      auto it = endpoints.find(id);
      if (it == endpoints.end() || it->second.is_tx != tx) return Errc::bad_parameter;
      module = it->second.module.lock();
      forget(it->second);
      endpoints.erase(it);
    }
    if (module) module->remove_endpoint(id);
    return Errc::ok;
  }
  // Whether the connections of every module with TDM endpoints (module's
  // with pending as if made) would let a sum come back: round a loop of
  // endpoints, or to a party whose input went out (m held).
  bool loop(std::uint32_t module, const PendingConnection& pending) {
    std::map<std::uint32_t, std::shared_ptr<Engine>> engines;
    for (auto& entry : endpoints)
      if (auto e = entry.second.module.lock()) engines[e->module_no()] = e;
    if (!engines.count(module)) return false;  // no TDM endpoint on it: no path through the bus
    // The graph over endpoints: a source reaches sinks through its module,
    // a TDM[tx] reaches the TDM[rx]s of its timeslot through the bus.
    std::map<std::uintptr_t, std::vector<std::uintptr_t>> next;
    std::map<std::uintptr_t, std::pair<std::uint32_t, const std::vector<std::uint32_t>*>> source_outputs;
    std::vector<std::pair<std::uint32_t, ModuleFlow>> flows;
    for (auto& [no, engine] : engines) {
      flows.emplace_back(no, ModuleFlow{});
      engine->flow(no == module ? pending : PendingConnection{}, flows.back().second);
    }
    for (auto& [no, flow] : flows)
      for (auto& from : flow.sources) {
        next[from.source] = from.sinks;
        source_outputs[from.source] = {no, &from.outputs};
      }
    for (auto& [tx_id, tx] : endpoints) {
      if (!tx.is_tx || tx.tx.expired()) continue;
      for (auto& [rx_id, rx] : endpoints)
        if (!rx.is_tx && !rx.rx.expired() && rx.where == tx.where) next[tx_id].push_back(rx_id);
    }
    for (auto& [no, flow] : flows) {
      for (auto& into : flow.sinks) {
        // Everything this sink's audio reaches.
        std::set<std::uintptr_t> seen;
        std::vector<std::uintptr_t> todo(1, into.sink);
        while (!todo.empty()) {
          const std::uintptr_t at = todo.back();
          todo.pop_back();
          auto it = next.find(at);
          if (it == next.end()) continue;
          for (std::uintptr_t to : it->second) {
            if (to == into.sink) return true;  // round a loop
            if (!seen.insert(to).second) continue;
            todo.push_back(to);
            auto src = source_outputs.find(to);
            if (src == source_outputs.end() || src->second.first != no) continue;
            // Back on the sink's module: does it reach a party whose input
            // went out?
            const auto& outputs = *src->second.second;
            for (std::uint32_t in : into.inputs)
              if (std::binary_search(outputs.begin(), outputs.end(), in)) return true;
          }
        }
      }
    }
    return false;
  }

  // The live endpoint id names, with its module (m held).
  Endpoint* find(std::uintptr_t id, bool tx) {
    auto it = endpoints.find(id);
    if (it == endpoints.end() || it->second.is_tx != tx) return nullptr;
    return &it->second;
  }
};

TdmBus& TdmBus::instance() {
  static TdmBus bus;
  return bus;
}

TdmBus::TdmBus() : impl_(std::make_unique<Impl>()) {
  Engine::set_loop_check([](std::uint32_t module, const PendingConnection& pending) {
    Impl& impl = *TdmBus::instance().impl_;
    std::lock_guard<std::mutex> lock(impl.m);
    return impl.loop(module, pending) ? Errc::bad_parameter : Errc::ok;
  });
}

Errc TdmBus::create_rx(const std::shared_ptr<Engine>& module, int stream, int timeslot, TimeslotType type,
                       std::uintptr_t& id) {
  return impl_->create(module, stream, timeslot, type, false, id);
}

Errc TdmBus::create_tx(const std::shared_ptr<Engine>& module, int stream, int timeslot, TimeslotType type,
                       std::uintptr_t& id) {
  return impl_->create(module, stream, timeslot, type, true, id);
}

Errc TdmBus::destroy_rx(std::uintptr_t id) { return impl_->destroy(id, false); }
Errc TdmBus::destroy_tx(std::uintptr_t id) { return impl_->destroy(id, true); }

Errc TdmBus::rx_datafeed(std::uintptr_t id, std::uintptr_t& datafeed) {
  std::lock_guard<std::mutex> lock(impl_->m);
  Impl::Endpoint* e = impl_->find(id, false);
  if (!e || e->module.expired()) return Errc::bad_parameter;
  datafeed = id;
  return Errc::ok;
}

Errc TdmBus::connect_tx(std::uintptr_t id, std::uintptr_t datafeed) {
  std::shared_ptr<Engine> module;
  {
    std::lock_guard<std::mutex> lock(impl_->m);
    Impl::Endpoint* e = impl_->find(id, true);
    if (!e) return Errc::bad_parameter;
    module = e->module.lock();
    if (!module) return Errc::bad_parameter;
    // TDM[rx] to TDM[tx] (of one module) is the switch's work, not a
    // datafeed's; one of another module is refused by the module.
    const Impl::Endpoint* from = impl_->find(datafeed, false);
    if (from && from->module.lock() == module) return Errc::bad_parameter;
  }
  return module->connect_sink(id, datafeed);
}

Errc TdmBus::rx_stats(std::uintptr_t id, TdmRxStats& stats) {
  std::lock_guard<std::mutex> lock(impl_->m);
  Impl::Endpoint* e = impl_->find(id, false);
  auto rx = e ? e->rx.lock() : nullptr;
  if (!rx) return Errc::bad_parameter;
  stats = rx->stats();
  return Errc::ok;
}

}  // namespace prosody::detail
