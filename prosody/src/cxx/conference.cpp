// conference.cpp - the high-level conferencing library (Aculab's smclib),
// built on the primitives in the documented call order. sm_conference_* in
// the C API are thin wrappers over this class.
#include <algorithm>
#include <mutex>
#include <set>

#include "engine/engine.hpp"
#include "engine/registry.hpp"
#include "prosody/prosody.hpp"

namespace prosody {

using detail::Engine;

namespace {

std::shared_ptr<Engine> engine_for(std::uintptr_t id) {
  detail::ChannelKey key;
  if (!detail::decode_channel(id, key)) return nullptr;
  return detail::Registry::instance().find(key.module);
}

// Every channel that is a party of some conference: a party must not be in
// two conferences.
std::mutex g_parties_mutex;
std::set<std::uintptr_t> g_party_channels;

constexpr int kStandard = 0;

}  // namespace

struct Conference::State {
  struct Party {
    ChannelId in;   // empty: a listener only (a monitor)
    ChannelId out;  // empty: a talker only (a background)
    int id = -1;    // participant id of in (the same in every output)
  };
  mutable std::mutex m;
  std::vector<Party> parties;
};

Conference::Conference() : state_(std::make_unique<State>()) {}

Conference::~Conference() {
  // sm_conference_delete: abort every party's output, then detach every input.
  std::lock_guard<std::mutex> lock(state_->m);
  for (const auto& p : state_->parties)
    if (auto e = p.out ? engine_for(p.out.value) : nullptr) e->conf_stop(p.out.value, true);
  for (const auto& p : state_->parties)
    if (auto e = p.in ? engine_for(p.in.value) : nullptr) e->conf_detach(p.in.value, kStandard);
  std::lock_guard<std::mutex> glock(g_parties_mutex);
  for (const auto& p : state_->parties) {
    g_party_channels.erase(p.in.value);
    g_party_channels.erase(p.out.value);
  }
}

void Conference::add_party(ChannelId in, ChannelId out, const PartySettings& s) {
  std::lock_guard<std::mutex> lock(state_->m);
  auto& parties = state_->parties;
  if (!in && !out) throw Error(Errc::bad_parameter, "Conference::add_party: a party needs an input or an output");
  auto ein = in ? engine_for(in.value) : nullptr;
  auto eout = out ? engine_for(out.value) : nullptr;
  if ((in && !ein) || (out && !eout)) throw Error(Errc::no_such_channel, "Conference::add_party");
  for (const auto& p : parties)
    if ((in && p.in == in) || (out && p.out == out))
      throw Error(Errc::bad_parameter, "Conference::add_party: party already added");
  {
    std::lock_guard<std::mutex> glock(g_parties_mutex);
    if (g_party_channels.count(in.value) || g_party_channels.count(out.value))
      throw Error(Errc::bad_parameter, "Conference::add_party: party is in another conference");
  }
  const auto module = ein ? ein : eout;
  if ((ein && eout && ein != eout) ||
      (!parties.empty() && module != engine_for((parties.front().in ? parties.front().in : parties.front().out).value)))
    throw Error(Errc::bad_parameter, "Conference::add_party: party on another module");

  // 1. Attach first, so running out of ids fails before any job starts.
  int id = -1;
  Errc e = Errc::ok;
  if (in) {
    e = ein->conf_attach(in.value, kStandard, id);
    if (e != Errc::ok) throw Error(e, "Conference::add_party: attach");
  }
  auto undo_attach = [&] {
    if (in) ein->conf_detach(in.value, kStandard);
  };

  // 2. The output: a clone of the first listening party's output, plus that
  //    party's input, which its own output never holds; with no listener
  //    yet, every talker's input.
  auto undo_output = [&] {
    if (out) eout->conf_stop(out.value, true);
  };
  if (out) {
    const State::Party* model = nullptr;
    for (const auto& p : parties)
      if (p.out) {
        model = &p;
        break;
      }
    e = eout->conf_clone(out.value, model ? model->out.value : 0);
    for (const auto& p : parties) {
      if (e != Errc::ok) break;
      if (p.in && (!model || &p == model)) {
        int got = -1;
        e = eout->conf_add(out.value, p.in.value, 0.0f, got);
      }
    }
    if (e != Errc::ok) {
      undo_output();
      undo_attach();
      throw Error(e, "Conference::add_party: output");
    }
  }

  // 3. Levels, then echo suppression against the party's own output.
  if (out) {
    OutputSettings os;
    os.volume_db = s.out_volume_db;
    os.agc = s.out_agc;
    e = eout->conf_adjust_output(out.value, os);
  }
  if (in && e == Errc::ok) {
    InputSettings is;
    is.mute = s.in_volume_db == kMuteVolume;
    is.volume_db = is.mute ? 0.0 : s.in_volume_db;
    is.agc = s.in_agc;
    e = ein->conf_adjust_input(in.value, is);
    if (e == Errc::ok && out) e = ein->set_sidetone(in.value, out.value);
  }
  if (e != Errc::ok) {
    undo_output();
    undo_attach();
    throw Error(e, "Conference::add_party: adjust");
  }

  // 4. The new input into every existing party's output.
  if (in) {
    std::vector<ChannelId> added;
    for (const auto& p : parties) {
      if (!p.out) continue;
      auto ep = engine_for(p.out.value);
      int got = -1;
      e = ep ? ep->conf_add(p.out.value, in.value, 0.0f, got) : Errc::no_such_channel;
      if (e != Errc::ok) {
        for (ChannelId o : added)
          if (auto eo = engine_for(o.value)) eo->conf_leave(o.value, id);
        undo_output();
        undo_attach();
        throw Error(e, "Conference::add_party: add to existing party");
      }
      added.push_back(p.out);
      id = got;
    }
  }
  parties.push_back({in, out, id});
  std::lock_guard<std::mutex> glock(g_parties_mutex);
  if (in) g_party_channels.insert(in.value);
  if (out) g_party_channels.insert(out.value);
}

void Conference::remove_party(ChannelId in, ChannelId out) {
  std::lock_guard<std::mutex> lock(state_->m);
  auto& parties = state_->parties;
  auto it = std::find_if(parties.begin(), parties.end(),
                         [&](const State::Party& p) { return in ? p.in == in : (out && p.out == out); });
  if (it == parties.end() || it->out != out || it->in != in)
    throw Error(Errc::bad_parameter, "Conference::remove_party: not a party (or channelOut does not match)");
  const State::Party leaving = *it;
  Errc first_error = Errc::ok;
  if (leaving.in) {
    for (const auto& p : parties) {
      if (!p.out || p.out == leaving.out) continue;
      auto e = engine_for(p.out.value);
      const Errc r = e ? e->conf_leave(p.out.value, leaving.id) : Errc::no_such_channel;
      if (r != Errc::ok && first_error == Errc::ok) first_error = r;
    }
    if (auto e = engine_for(leaving.in.value)) {
      const Errc r = e->conf_detach(leaving.in.value, kStandard);
      if (r != Errc::ok && first_error == Errc::ok) first_error = r;
    }
  }
  if (leaving.out)
    if (auto e = engine_for(leaving.out.value)) e->conf_stop(leaving.out.value, true);
  // Move the last party into the gap, as the library does.
  *it = parties.back();
  parties.pop_back();
  {
    std::lock_guard<std::mutex> glock(g_parties_mutex);
    g_party_channels.erase(leaving.in.value);
    g_party_channels.erase(leaving.out.value);
  }
  if (first_error != Errc::ok && first_error != Errc::no_such_channel)
    throw Error(first_error, "Conference::remove_party");
}

std::size_t Conference::size() const {
  std::lock_guard<std::mutex> lock(state_->m);
  return state_->parties.size();
}

std::vector<ChannelId> Conference::speaking() const {
  std::lock_guard<std::mutex> lock(state_->m);
  const auto& parties = state_->parties;
  std::vector<ChannelId> result;
  if (parties.size() < 2) return result;  // a lone member is never reported
  // Every input is in every output but its own party's: the outputs of two
  // parties cover them all.
  std::set<int> active;
  int outputs = 0;
  for (const auto& p : parties) {
    if (!p.out || outputs == 2) continue;
    ++outputs;
    auto e = engine_for(p.out.value);
    std::vector<int> ids;
    if (e && e->conf_members(p.out.value, nullptr, &ids, true) == Errc::ok) active.insert(ids.begin(), ids.end());
  }
  for (const auto& p : parties)
    if (p.in && active.count(p.id)) result.push_back(p.in);
  return result;
}

}  // namespace prosody
