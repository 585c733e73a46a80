/* prosodymodulehub.hpp - what the prosodysink and prosodysrc elements of one
 * process share of one shared module: its parties (named channels the hub
 * allocates), the channels elements feed and hear, the named conferences of
 * their conference property, and the frames between their streaming threads
 * and the module. GStreamer-free.
 *
 * The hub is the module's frame client (prosody::FrameClient): whenever the
 * module processes a frame, on its real-time thread or when stepped, the hub
 * hands it every attached sink's next frame (InputFifo) and puts the output
 * of every channel a src reads into that src's OutputTap. A stepped module
 * is stepped by the hub's own thread, one frame at a time, once every sink
 * has its frame and every src has room: the module waits for the slowest
 * element, so a run of file pipelines is deterministic.
 *
 * Element life cycle, as its states go: register (NULL->READY: the module is
 * opened, the party's role in its conference fixed), attach (READY->PAUSED:
 * the channel allocated or found, its frame port enabled, the party in its
 * conference), detach (PAUSED->READY) and unregister (READY->NULL).
 *
 * Locks: ModuleHub::mutex_ guards the parties, endpoints, conferences and
 * the snapshot of ports the processing path works from; the processing path
 * takes it only to pick up a new snapshot (in real time with try_lock, so it
 * never waits). Control calls into the module are made under it.
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "prosody/prosody.hpp"
#include "prosodyelastic.hpp"

namespace prosody_gst {

/* Which module an element opens, and what it must be. */
struct ModuleRequest {
  std::string name = "0"; /* a shared module's name: "0".."N" card 0's, else named */
  unsigned rate = 0;      /* Hz; 0: whatever the module has (or is configured with) */
  unsigned frame_us = 0;  /* 0: likewise */
  int drive = -1;         /* a prosody::DriveMode; -1: likewise */
};

enum class EndpointKind { sink, src };

/* An element as the hub knows it. */
struct EndpointSpec {
  EndpointKind kind = EndpointKind::sink;
  std::string element;       /* its name, for messages */
  std::string party;         /* a party name, or "" */
  std::uint64_t channel = 0; /* a channel id (C/C++ API), or 0 */
  std::string conference;    /* a conference name, or "" */
};

/* A prosodysink's way into the module. */
struct SinkPort {
  SinkPort(prosody::ChannelId id, std::uint32_t frame_samples, std::int64_t frame_ns, const ElasticSettings& s)
      : channel(id), fifo(frame_samples, frame_ns, s) {}
  const prosody::ChannelId channel;
  InputFifo fifo;
};

/* A prosodysrc's way out of the module. */
struct SrcPort {
  SrcPort(prosody::ChannelId id, std::uint32_t frame_samples, std::uint32_t capacity_frames)
      : channel(id), tap(frame_samples, capacity_frames) {}
  const prosody::ChannelId channel;
  OutputTap tap;
  /* Frames go to the tap only while this is set (a live src: PLAYING), and
   * the src takes those due since it was last set. */
  std::atomic<bool> active{false};
  std::atomic<std::int64_t> active_since_ns{-1};
};

class ModuleHub : public prosody::FrameClient, public std::enable_shared_from_this<ModuleHub> {
 public:
  /* The hub of the module request names, opening (or creating) the module;
   * null, and why in error, if it cannot be had as requested. */
  static std::shared_ptr<ModuleHub> open(const ModuleRequest& request, std::string& error);
  ~ModuleHub() override;
  ModuleHub(const ModuleHub&) = delete;
  ModuleHub& operator=(const ModuleHub&) = delete;

  const std::string& name() const { return name_; }
  prosody::Module module() const { return module_; }
  bool realtime() const { return realtime_; }
  unsigned rate() const { return rate_; }
  std::uint32_t frame_samples() const { return n_; }
  std::int64_t frame_ns() const { return frame_ns_; }

  /* NULL->READY: an id (> 0), or 0 and why in error. */
  std::uint64_t register_endpoint(const EndpointSpec& spec, std::string& error);
  /* READY->PAUSED: the element's port, or null and why in error. */
  std::shared_ptr<SinkPort> attach_sink(std::uint64_t id, const ElasticSettings& settings, std::string& error);
  std::shared_ptr<SrcPort> attach_src(std::uint64_t id, std::uint32_t capacity_frames, std::string& error);
  /* The channel an attached element feeds or hears (0 if none). */
  std::uint64_t channel_of(std::uint64_t id);
  /* PAUSED->READY. */
  void detach(std::uint64_t id);
  /* READY->NULL. The last one closes the hub. */
  void unregister(std::uint64_t id);

  /* Stepped: an element made progress (queued a frame, made room). */
  void poke() { stepper_wake_.notify(); }

  /* prosody::FrameClient: the processing path. */
  void prepare(const prosody::FrameTime& time, std::vector<prosody::FrameInput>& inputs,
               std::vector<prosody::FrameOutput>& outputs) override;
  void complete(const prosody::FrameTime& time) override;

  /* Private to open(). */
  struct Token {};
  ModuleHub(Token, prosody::Module module, std::string name);

 private:
  struct Party {
    std::string label;        /* "party NAME" or "channel 0x..." for messages */
    bool named = false;       /* party=: the hub allocates its channel */
    prosody::ChannelId given; /* channel=: the application's */
    std::string conference;   /* its conference, or "" */
    int sinks_registered = 0, srcs_registered = 0;
    int attached = 0;         /* elements attached */
    prosody::Channel channel; /* while attached > 0 (owned or borrowed) */
    std::uint64_t feeder = 0; /* the attached sink's endpoint */
    int srcs_attached = 0;
    bool member = false, member_in = false, member_out = false; /* in its conference, with these halves */
  };
  struct Endpoint {
    EndpointSpec spec;
    std::string party_key;
    bool attached = false;
    std::shared_ptr<SinkPort> sink;
    std::shared_ptr<SrcPort> src;
  };
  /* What the processing path works from: rebuilt at every attach and detach. */
  struct Snapshot {
    std::vector<std::shared_ptr<SinkPort>> sinks;
    std::vector<std::shared_ptr<SrcPort>> srcs;
    std::vector<prosody::ChannelId> outputs; /* the channels srcs read, once each */
    std::vector<std::size_t> src_output;     /* per src: its channel in outputs */
  };

  /* mutex_ held */
  Party* attach_party(Endpoint& e, std::string& error);
  void detach_party(Endpoint& e);
  void update_membership(Party& p);
  void rebuild_snapshot();
  bool step_ready();
  void close();
  void stepper_main();

  prosody::Module module_;
  const std::string name_;
  const bool realtime_;
  const unsigned rate_;
  const std::uint32_t n_;
  const std::int64_t frame_ns_;

  std::mutex mutex_;
  std::map<std::uint64_t, Endpoint> endpoints_;
  std::map<std::string, Party> parties_;
  std::map<std::string, std::unique_ptr<prosody::Conference>> conferences_;
  std::uint64_t next_id_ = 1;
  int pending_ = 0;                            /* registered, not attached: a stepped module waits for them */
  int attached_ = 0;                           /* attached endpoints */
  bool sinks_seen_ = false, finished_ = false; /* stepped: a run of feeders, and its end */
  std::shared_ptr<const Snapshot> snapshot_;
  std::atomic<std::uint64_t> snapshot_version_{0};
  bool closed_ = false;

  /* The processing path's own. */
  std::shared_ptr<const Snapshot> rt_snapshot_;
  std::uint64_t rt_version_ = 0;
  std::vector<float> scratch_; /* the frame of every channel srcs read */

  /* Stepped: the thread that steps the module. */
  std::thread stepper_;
  std::atomic<bool> stop_{false};
  Wakeup stepper_wake_;
};

}  // namespace prosody_gst
