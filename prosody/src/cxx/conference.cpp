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
    ChannelId in;
    ChannelId out;
    int id = -1;  // participant id of in (the same in every output)
  };
  mutable std::mutex m;
  std::vector<Party> parties;
};

Conference::Conference() : state_(std::make_unique<State>()) {}

Conference::~Conference() {
  // sm_conference_delete: abort every party's output, then detach every input.
  std::lock_guard<std::mutex> lock(state_->m);
  for (const auto& p : state_->parties)
    if (auto e = engine_for(p.out.value)) e->conf_stop(p.out.value, true);
  for (const auto& p : state_->parties)
    if (auto e = engine_for(p.in.value)) e->conf_detach(p.in.value, kStandard);
  std::lock_guard<std::mutex> glock(g_parties_mutex);
  for (const auto& p : state_->parties) {
    g_party_channels.erase(p.in.value);
    g_party_channels.erase(p.out.value);
  }
}

void Conference::add_party(ChannelId in, ChannelId out, const PartySettings& s) {
  std::lock_guard<std::mutex> lock(state_->m);
  auto& parties = state_->parties;
  auto ein = engine_for(in.value);
  auto eout = engine_for(out.value);
  if (!ein || !eout) throw Error(Errc::no_such_channel, "Conference::add_party");
  for (const auto& p : parties)
    if (p.in == in || p.out == out) throw Error(Errc::bad_parameter, "Conference::add_party: party already added");
  {
    std::lock_guard<std::mutex> glock(g_parties_mutex);
    if (g_party_channels.count(in.value) || g_party_channels.count(out.value))
      throw Error(Errc::bad_parameter, "Conference::add_party: party is in another conference");
  }
  if (!parties.empty() && eout != engine_for(parties.front().out.value))
    throw Error(Errc::bad_parameter, "Conference::add_party: party on another module");

  // 1. Attach first, so running out of ids fails before any job starts.
  int id = -1;
  Errc e = ein->conf_attach(in.value, kStandard, id);
  if (e != Errc::ok) throw Error(e, "Conference::add_party: attach");
  auto undo_attach = [&] { ein->conf_detach(in.value, kStandard); };

  // 2. Clone party 0's output (or start afresh); add party 0's input, which
  //    the model never holds.
  const std::uintptr_t model = parties.empty() ? 0 : parties.front().out.value;
  e = eout->conf_clone(out.value, model);
  if (e != Errc::ok) {
    undo_attach();
    throw Error(e, "Conference::add_party: clone");
  }
  auto undo_clone = [&] { eout->conf_stop(out.value, true); };
  if (!parties.empty()) {
    int id0 = -1;
    e = eout->conf_add(out.value, parties.front().in.value, 0.0f, id0);
    if (e != Errc::ok) {
      undo_clone();
      undo_attach();
      throw Error(e, "Conference::add_party: add party 0");
    }
    parties.front().id = id0;
  }

  // 3. Levels, then echo suppression against the party's own output.
  OutputSettings os;
  os.volume_db = s.out_volume_db;
  os.agc = s.out_agc;
  e = eout->conf_adjust_output(out.value, os);
  InputSettings is;
  is.mute = s.in_volume_db == kMuteVolume;
  is.volume_db = is.mute ? 0.0 : s.in_volume_db;
  is.agc = s.in_agc;
  if (e == Errc::ok) e = ein->conf_adjust_input(in.value, is);
  if (e == Errc::ok) e = ein->set_sidetone(in.value, out.value);
  if (e != Errc::ok) {
    undo_clone();
    undo_attach();
    throw Error(e, "Conference::add_party: adjust");
  }

  // 4. The new input into every existing party's output.
  for (std::size_t i = 0; i < parties.size(); ++i) {
    auto ep = engine_for(parties[i].out.value);
    int got = -1;
    e = ep ? ep->conf_add(parties[i].out.value, in.value, 0.0f, got) : Errc::no_such_channel;
    if (e != Errc::ok) {
      for (std::size_t j = 0; j < i; ++j)
        if (auto ej = engine_for(parties[j].out.value)) ej->conf_leave(parties[j].out.value, id);
      undo_clone();
      undo_attach();
      throw Error(e, "Conference::add_party: add to existing party");
    }
    id = got;
  }
  parties.push_back({in, out, id});
  std::lock_guard<std::mutex> glock(g_parties_mutex);
  g_party_channels.insert(in.value);
  g_party_channels.insert(out.value);
}

void Conference::remove_party(ChannelId in, ChannelId out) {
  std::lock_guard<std::mutex> lock(state_->m);
  auto& parties = state_->parties;
  auto it = std::find_if(parties.begin(), parties.end(), [&](const State::Party& p) { return p.in == in; });
  if (it == parties.end() || it->out != out)
    throw Error(Errc::bad_parameter, "Conference::remove_party: not a party (or channelOut does not match)");
  const State::Party leaving = *it;
  Errc first_error = Errc::ok;
  for (const auto& p : parties) {
    if (p.in == leaving.in) continue;
    auto e = engine_for(p.out.value);
    const Errc r = e ? e->conf_leave(p.out.value, leaving.id) : Errc::no_such_channel;
    if (r != Errc::ok && first_error == Errc::ok) first_error = r;
  }
  if (auto e = engine_for(leaving.in.value)) {
    const Errc r = e->conf_detach(leaving.in.value, kStandard);
    if (r != Errc::ok && first_error == Errc::ok) first_error = r;
  }
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
  // Every input is in party 0's output or party 1's: the union covers all.
  std::set<int> active;
  for (int k = 0; k < 2; ++k) {
    auto e = engine_for(parties[static_cast<std::size_t>(k)].out.value);
    std::vector<int> ids;
    if (e && e->conf_members(parties[static_cast<std::size_t>(k)].out.value, nullptr, &ids, true) == Errc::ok)
      active.insert(ids.begin(), ids.end());
  }
  for (const auto& p : parties)
    if (active.count(p.id)) result.push_back(p.in);
  return result;
}

}  // namespace prosody
