// engine_conference.cpp - the conferencing primitives: conference outputs
// (start, clone, add, leave, stop, settings, activity reports) and
// conference inputs (attach, detach, settings, echo suppression).
#include <cmath>

#include "engine/engine.hpp"

namespace prosody::detail {

namespace {

constexpr int kConfTypeStandard = 0;
constexpr int kConfTypeIndividualVolume = 1;

bool conf_type_ok(int t) { return t == kConfTypeStandard || t == kConfTypeIndividualVolume; }

}  // namespace

// ---------------------------------------------------------------------------
// Conference outputs

// The output half takes up a conference (ctl_mutex_ held).
void Engine::start_output(ChannelCtl& ch, ConferenceOutputCtl& conf) {
  ch.out_job = OutputJob::conference;
  ch.conf = std::move(conf);
  ch.io->output_busy = true;
  ch.io->conf_stopped_pending = false;
  ch.io->activity.clear();
  model_.plan_changed();
  changed();
  update_event(*ch.io, kWriteEvent);
}

Errc Engine::conf_start(std::uintptr_t out, const OutputSettings& settings, int conf_type) {
  if (!conf_type_ok(conf_type)) return Errc::bad_parameter;
  if (!volume_ok(settings.volume_db)) return Errc::bad_parameter;
  return with_channel(out, Half::output, [&](ChannelCtl& ch, ChannelKey) {
    if (output_half_busy(ch)) return Errc::wrong_channel_state;
    if (ch.type == ChannelType::half_duplex && input_half_busy(ch)) return Errc::wrong_channel_state;
    ConferenceOutputCtl conf;
    conf.settings = settings;
    // The deprecated individual-volume type ignores the start volume.
    if (conf_type == kConfTypeIndividualVolume) conf.settings.volume_db = 0.0;
    conf.conf_type = conf_type;
    start_output(ch, conf);
    return Errc::ok;
  });
}

Errc Engine::conf_clone(std::uintptr_t out, std::uintptr_t model) {
  if (model == 0) return conf_start(out, OutputSettings{}, kConfTypeStandard);
  if (model == out) return Errc::bad_parameter;
  if (Errc e = check_connection(PendingConnection::Kind::clone, model, out); e != Errc::ok) return e;
  return with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    ChannelCtl* m;
    ChannelKey mkey;
    if (Errc e = lookup_argument(model, m, mkey); e != Errc::ok) return e;
    if (m == &ch) return Errc::bad_parameter;
    if (m->out_job != OutputJob::conference) return Errc::wrong_channel_state;
    if (!has_output(ch.type)) return Errc::wrong_channel_type;
    if (output_half_busy(ch)) return Errc::wrong_channel_state;
    if (ch.type == ChannelType::half_duplex && input_half_busy(ch)) return Errc::wrong_channel_state;
    ConferenceOutputCtl conf;
    conf.members = m->conf.members;
    conf.factors = m->conf.factors;
    conf.settings = m->conf.settings;
    conf.conf_type = m->conf.conf_type;
    // Activity reporting is not copied, as documented.
    conf.members.for_each([&](std::size_t pid) { ++model_.holder(pid).member_of; });
    start_output(ch, conf);
    return Errc::ok;
  });
}

Errc Engine::conf_add(std::uintptr_t out, std::uintptr_t participant, float factor, int& id) {
  id = -1;
  if (Errc e = check_connection(PendingConnection::Kind::member, participant, out); e != Errc::ok) return e;
  return with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    ChannelCtl* p;
    ChannelKey pkey;
    if (Errc e = lookup_argument(participant, p, pkey); e != Errc::ok) return e;
    if (ch.out_job != OutputJob::conference) return Errc::wrong_channel_state;
    if (!has_input(p->type)) return Errc::wrong_channel_type;
    if (ch.conf.conf_type == kConfTypeStandard) {
      if (factor != 0.0f) return Errc::bad_parameter;
      if (p->pid >= 0 && p->attach_type != kConfTypeStandard) return Errc::wrong_channel_state;
      if (p->pid < 0) {
        if (p->type == ChannelType::half_duplex && output_half_busy(*p)) return Errc::wrong_channel_state;
        model_.attach_input(*p, false, kConfTypeStandard);  // implicit attach
      }
    } else {
      // Individual volume: no implicit attach; factor is linear.
      if (p->pid < 0 || p->attach_type != kConfTypeIndividualVolume) return Errc::wrong_channel_state;
      if (!std::isfinite(factor) || factor < 0.0f || factor > 100.0f) return Errc::bad_parameter;
    }
    const std::size_t pid = static_cast<std::size_t>(p->pid);
    if (ch.conf.members.set(pid)) {
      ++p->member_of;
      ++ch.conf.version;
      model_.plan_changed();
    }
    if (ch.conf.conf_type == kConfTypeIndividualVolume) {
      if (ch.conf.factors.size() <= pid) ch.conf.factors.resize(pid + 1, 1.0f);
      ch.conf.factors[pid] = factor;
      ++ch.conf.version;
      model_.plan_changed();
    }
    id = p->pid;
    changed();
    return Errc::ok;
  });
}

Errc Engine::conf_leave(std::uintptr_t out, int id) {
  return with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (ch.out_job != OutputJob::conference) return Errc::wrong_channel_state;
    if (id < 0 || static_cast<std::size_t>(id) >= model_.pid_bound()) return Errc::bad_parameter;
    if (!model_.pid_in_use(static_cast<std::size_t>(id))) return Errc::wrong_channel_state;
    model_.leave(ch, static_cast<std::size_t>(id));
    changed();
    return Errc::ok;
  });
}

Errc Engine::conf_stop(std::uintptr_t out, bool wait) {
  std::uint64_t version = 0;
  const Errc e = with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (ch.out_job != OutputJob::conference) return Errc::wrong_channel_state;
    model_.stop_output(ch);
    // A blocking stop has nothing left to report; a non-blocking one reports
    // Stopped through sm_conf_prim_status.
    if (wait) ch.io->conf_stopped_pending = false;
    changed();
    version = version_.load();
    return Errc::ok;
  });
  if (e == Errc::ok && wait) wait_applied(version);
  return e;
}

Errc Engine::conf_adjust_output(std::uintptr_t out, const OutputSettings& settings) {
  if (!volume_ok(settings.volume_db)) return Errc::bad_parameter;
  return with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (ch.out_job != OutputJob::conference || ch.conf.conf_type != kConfTypeStandard) return Errc::wrong_channel_state;
    ch.conf.settings = settings;
    changed();
    return Errc::ok;
  });
}

Errc Engine::conf_members(std::uintptr_t out, std::vector<int>* members, std::vector<int>* active, bool standard_only) {
  return with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (ch.out_job != OutputJob::conference) return Errc::wrong_channel_state;
    if (standard_only && ch.conf.conf_type != kConfTypeStandard) return Errc::wrong_channel_state;
    if (members) members->clear();
    if (active) active->clear();
    ch.conf.members.for_each([&](std::size_t pid) {
      if (members) members->push_back(static_cast<int>(pid));
      const ChannelCtl& in = model_.holder(pid);
      if (active && in.io && in.io->in_active.load()) active->push_back(static_cast<int>(pid));
    });
    return Errc::ok;
  });
}

Errc Engine::conf_config_activity(std::uintptr_t out, unsigned delay_ms, unsigned sensitivity) {
  if (sensitivity > 100) return Errc::bad_parameter;
  return with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (ch.out_job != OutputJob::conference) return Errc::wrong_channel_state;
    ch.conf.activity_delay_ms = delay_ms;
    ch.conf.activity_sensitivity = sensitivity;
    if (delay_ms == 0) ch.io->activity.clear();
    changed();
    return Errc::ok;
  });
}

Errc Engine::conf_status(std::uintptr_t out, ConfStatus& status, ActivityReport& report) {
  std::shared_ptr<ChannelIo> io;
  bool running = false;
  const Errc e = with_channel(out, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    io = ch.io;
    running = ch.out_job == OutputJob::conference;
    if (running) return Errc::ok;
    if (!io->conf_stopped_pending.exchange(false)) return Errc::wrong_channel_state;
    status = ConfStatus::stopped;
    update_event(*io, 0);
    return Errc::ok;
  });
  if (e != Errc::ok || !running) return e;
  {
    std::lock_guard<std::mutex> io_lock(io->api_mutex);
    ActivityReport r;
    bool got = false;
    // Only the newest report matters to the caller; older ones are stale.
    while (io->activity.pop(r)) got = true;
    if (got) {
      status = ConfStatus::active_inputs;
      report = r;
    } else {
      status = ConfStatus::running;
    }
  }
  refresh(*io, 0);
  return Errc::ok;
}

// ---------------------------------------------------------------------------
// Conference inputs

Errc Engine::conf_attach(std::uintptr_t in, int conf_type, int& id) {
  id = -1;
  if (!conf_type_ok(conf_type)) return Errc::bad_parameter;
  return with_channel(in, Half::input, [&](ChannelCtl& ch, ChannelKey) {
    if (ch.pid >= 0 && ch.attach_type != conf_type) return Errc::wrong_channel_state;
    if (ch.pid < 0 && ch.type == ChannelType::half_duplex && output_half_busy(ch)) return Errc::wrong_channel_state;
    id = model_.attach_input(ch, true, conf_type);  // a no-op if already attached
    changed();
    return Errc::ok;
  });
}

Errc Engine::conf_detach(std::uintptr_t in, int conf_type) {
  if (!conf_type_ok(conf_type)) return Errc::bad_parameter;
  return with_channel(in, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (ch.pid < 0 || !ch.explicit_attach) return Errc::wrong_channel_state;
    if (ch.member_of > 0) return Errc::wrong_channel_state;  // detach while in use
    if (ch.attach_type != conf_type) return Errc::bad_parameter;
    model_.detach_input(ch);
    changed();
    return Errc::ok;
  });
}

// The settings of an attached input (Errc::wrong_channel_state otherwise).
template <class F>
Errc Engine::adjust_attached(std::uintptr_t in, F&& set) {
  return with_channel(in, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (ch.pid < 0) return Errc::wrong_channel_state;
    set(ch);
    changed();
    return Errc::ok;
  });
}

Errc Engine::conf_adjust_input(std::uintptr_t in, const InputSettings& settings) {
  if (!settings.mute && !volume_ok(settings.volume_db)) return Errc::bad_parameter;
  return adjust_attached(in, [&](ChannelCtl& ch) { ch.input = settings; });
}

Errc Engine::conf_input_agc(std::uintptr_t in, const InputAgcSettings& s) {
  if (!(s.max_level_decay >= 0.0 && s.max_level_decay <= 1.0)) return Errc::bad_parameter;
  if (!(s.target_level_db >= -90.0 && s.target_level_db <= 3.0)) return Errc::bad_parameter;
  return adjust_attached(in, [&](ChannelCtl& ch) { ch.input_agc = s; });
}

Errc Engine::conf_tracking(std::uintptr_t in, const TrackingSettings& s) {
  if (!(s.min_noise_level_db >= -90.0 && s.min_noise_level_db <= 3.0)) return Errc::bad_parameter;
  if (!(s.speech_thresh >= 0.0 && s.speech_thresh <= 1.0)) return Errc::bad_parameter;
  return adjust_attached(in, [&](ChannelCtl& ch) { ch.tracking = s; });
}

Errc Engine::conf_gating(std::uintptr_t in, bool enabled) {
  return adjust_attached(in, [&](ChannelCtl& ch) { ch.gating = enabled; });
}

Errc Engine::set_sidetone(std::uintptr_t in, std::uintptr_t out) {
  return with_channel(in, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    if (ch.pid < 0 || ch.attach_type != kConfTypeStandard) return Errc::wrong_channel_state;
    if (out == 0) {
      ch.has_sidetone = false;
      changed();
      return Errc::ok;
    }
    ChannelCtl* o;
    ChannelKey okey;
    if (Errc e = lookup_argument(out, o, okey); e != Errc::ok) return e;
    if (o->out_job != OutputJob::conference) return Errc::wrong_channel_state;
    ch.sidetone = okey;
    ch.has_sidetone = true;
    changed();
    return Errc::ok;
  });
}

Errc Engine::participant_id(std::uintptr_t in, int& id) {
  return with_channel(in, Half::any, [&](ChannelCtl& ch, ChannelKey) {
    id = ch.pid;
    return Errc::ok;
  });
}

Errc Engine::participant_channel(int id, std::uintptr_t& in) {
  std::lock_guard<std::mutex> lock(ctl_mutex_);
  if (id < 0 || !model_.pid_in_use(static_cast<std::size_t>(id))) return Errc::bad_parameter;
  const std::uint32_t slot = model_.holder_slot(static_cast<std::size_t>(id));
  in = encode_channel(module_no_, slot, model_.slots()[slot].gen);
  return Errc::ok;
}

}  // namespace prosody::detail
