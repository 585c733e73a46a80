// control.cpp - the control model's own rules: slots and generations,
// participant ids, membership bookkeeping, what release aborts.
#include "engine/control.hpp"

#include "engine/tonegen.hpp"

namespace prosody::detail {

ChannelCtl* ControlModel::find(std::uintptr_t id, ChannelKey* key_out) {
  ChannelKey key;
  if (!decode_channel(id, key) || key.module != module_no_) return nullptr;
  ChannelCtl* ch = find(key);
  if (ch && key_out) *key_out = key;
  return ch;
}

ChannelCtl* ControlModel::find(const ChannelKey& key) {
  return const_cast<ChannelCtl*>(static_cast<const ControlModel*>(this)->find(key));
}

const ChannelCtl* ControlModel::find(const ChannelKey& key) const {
  if (key.module != module_no_ || key.slot >= slots_.size()) return nullptr;
  const ChannelCtl& c = slots_[key.slot];
  return c.allocated && c.gen == key.gen ? &c : nullptr;
}

Errc ControlModel::allocate(ChannelType type, ChannelKey& key) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= 0xFFFFFE) return Errc::no_resources;
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
    records_.emplace_back();
    // Generations start at a module-dependent value so ids of different
    // modules rarely look alike.
    slots_.back().gen = (module_no_ * 7919u) & 0x7FFFFF;
  }
  ChannelCtl& ch = slots_[slot];
  const std::uint32_t gen = (ch.gen + 1) & 0x7FFFFF;
  ch = ChannelCtl{};
  ch.allocated = true;
  ch.gen = gen == 0 ? 1 : gen;
  ch.type = type;
  ch.io = std::make_shared<ChannelIo>();
  key = ChannelKey{module_no_, slot, ch.gen};
  return Errc::ok;
}

void ControlModel::release(const ChannelKey& key) {
  ChannelCtl& ch = slots_[key.slot];
  // Everything on the channel is aborted, as documented.
  if (ch.out_job != OutputJob::none) stop_output(ch);
  ch.io->conf_stopped_pending = false;
  if (ch.pid >= 0) {
    for (auto& o : slots_)
      if (o.allocated && o.out_job == OutputJob::conference && o.conf.members.reset(static_cast<std::size_t>(ch.pid)))
        ++o.conf.version;
    detach_input(ch);
  }
  abort_record(key.slot, true);
  records_[key.slot].reset();
  // Inputs fed by this channel's datafeed hear silence from now on; records
  // of this channel's input or output end.
  for (std::size_t s = 0; s < slots_.size(); ++s) {
    ChannelCtl& o = slots_[s];
    if (!o.allocated) continue;
    if (o.feed == InputFeed::datafeed && o.feed_source == key) o.feed = InputFeed::none;
    if (o.has_sidetone && o.sidetone == key) o.has_sidetone = false;
    auto& rec = records_[s];
    if (rec && rec->source == key && s != key.slot) {
      int expected = static_cast<int>(RecordTermination::not_yet);
      rec->termination.compare_exchange_strong(expected, static_cast<int>(RecordTermination::error));
    }
  }
  ch.io->listening = false;
  ch.io->output_busy = false;
  ch.io->record_busy = false;
  ch.io->released = true;
  ch.allocated = false;
  ch.io.reset();
  free_slots_.push_back(key.slot);
  plan_changed();
}

std::vector<std::uintptr_t> ControlModel::live_ids() const {
  std::vector<std::uintptr_t> ids;
  for (std::size_t s = 0; s < slots_.size(); ++s)
    if (slots_[s].allocated) ids.push_back(encode_channel(module_no_, static_cast<std::uint32_t>(s), slots_[s].gen));
  return ids;
}

int ControlModel::attach_input(ChannelCtl& ch, bool explicit_attach, int conf_type) {
  if (ch.pid < 0) {
    const std::size_t pid = pids_.allocate();
    if (pid >= pid_slot_.size()) pid_slot_.resize(pid + 1, 0);
    pid_slot_[pid] = static_cast<std::uint32_t>(&ch - slots_.data());
    ch.pid = static_cast<int>(pid);
    ch.attach_type = conf_type;
    ch.member_of = 0;
    ch.input = InputSettings{};
    ch.input_agc = InputAgcSettings{};
    ch.tracking = TrackingSettings{};
    ch.gating = true;
    ch.has_sidetone = false;
    plan_changed();
  }
  if (explicit_attach) ch.explicit_attach = true;
  return ch.pid;
}

void ControlModel::detach_input(ChannelCtl& ch) {
  if (ch.pid < 0) return;
  pids_.release(static_cast<std::size_t>(ch.pid));
  ch.pid = -1;
  ch.explicit_attach = false;
  ch.member_of = 0;
  ch.has_sidetone = false;
  plan_changed();
}

bool ControlModel::leave(ChannelCtl& out, std::size_t pid) {
  if (!out.conf.members.reset(pid)) return false;
  ++out.conf.version;
  ChannelCtl& in = holder(pid);
  if (in.member_of > 0) --in.member_of;
  // Standard type: an input no output holds any more, and which was only
  // attached implicitly, is detached.
  if (in.member_of == 0 && !in.explicit_attach && in.pid >= 0) detach_input(in);
  plan_changed();
  return true;
}

void ControlModel::clear_members(ChannelCtl& ch) {
  ch.conf.members.for_each([&](std::size_t pid) {
    if (pid >= pid_slot_.size()) return;
    ChannelCtl& in = holder(pid);
    if (in.member_of > 0) --in.member_of;
    if (in.member_of == 0 && !in.explicit_attach && in.pid >= 0) detach_input(in);
  });
  ch.conf.members.clear();
  ++ch.conf.version;
  plan_changed();
}

void ControlModel::stop_output(ChannelCtl& ch) {
  if (ch.out_job == OutputJob::conference) {
    clear_members(ch);
    ch.io->conf_stopped_pending = true;
  } else if (ch.out_job == OutputJob::replay) {
    if (ch.io->replay) {
      ch.io->replay->abort_requested = true;
      ch.io->replay->finished = true;
    }
    ch.io->replay.reset();
  } else if (ch.out_job == OutputJob::tone) {
    if (ch.io->tone) ch.io->tone->abort_requested = true;
    ch.io->tone.reset();
  }
  ch.out_job = OutputJob::none;
  ch.io->output_busy = false;
  plan_changed();
}

void ControlModel::abort_record(std::uint32_t slot, bool discard) {
  auto& job = records_[slot];
  if (!job) return;
  job->discard = discard;
  job->abort_requested = true;
  if (discard) job->data.clear();
  int expected = static_cast<int>(RecordTermination::not_yet);
  job->termination.compare_exchange_strong(expected, static_cast<int>(RecordTermination::aborted));
}

}  // namespace prosody::detail
