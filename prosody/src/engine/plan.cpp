// plan.cpp - how each conference output is computed.
//
// An output is the sum of its participant set M. Outputs that share inputs
// form a component with union U; the sum over U is computed once per frame,
// and an output for which U \ M is smaller than M is computed as
// sum(U) - sum(U \ M). For an ordinary conference U \ M is the listener's own
// input, so N outputs cost O(N) instead of O(N^2); coach, monitor and several
// conferences on one module fall out of the same rule. The mixing bus is
// double precision, so subtracting is exact and no saturation happens before
// it: the listener's own signal cannot leak.
#include <algorithm>

#include "engine/runtime.hpp"

namespace prosody::detail {

namespace {

constexpr std::size_t kLabelScanLimit = 256;  // below this, look components up per id

struct Component {
  IdSet ids;
  std::vector<std::uint32_t> outputs;  // indices into outputs_
  bool alive = true;
  int group = -1;
};

}  // namespace

void Runtime::build_plan(const ControlModel& model) {
  const auto& slots = model.slots();
  // Contribution of each participant id now.
  contrib_by_pid_.assign(model.pid_bound(), -1);
  std::vector<ChannelKey> holder(model.pid_bound());
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (!inputs_[i].participant) continue;
    const std::size_t pid = static_cast<std::size_t>(input_setup_[i].pid);
    contrib_by_pid_[pid] = static_cast<std::int32_t>(inputs_[i].contrib);
    holder[pid] = input_setup_[i].key;
  }
  if (pid_key_.size() < holder.size()) pid_key_.resize(holder.size());
  // Ids whose holder changed since the last plan (detached, re-attached).
  std::vector<std::size_t> changed_pids;
  for (std::size_t pid = 0; pid < pid_key_.size(); ++pid) {
    const ChannelKey now = pid < holder.size() ? holder[pid] : ChannelKey{};
    if (pid_key_[pid] != now) changed_pids.push_back(pid);
  }
  // The contribution of a holder known by key: live input or leaving one.
  auto contrib_of_key = [&](const ChannelKey& key) -> std::int32_t {
    if (key.module == 0) return -1;
    if (key.slot < input_by_slot_.size() && input_by_slot_[key.slot] >= 0) {
      const std::size_t i = static_cast<std::size_t>(input_by_slot_[key.slot]);
      if (inputs_[i].participant && input_setup_[i].key == key) return static_cast<std::int32_t>(inputs_[i].contrib);
    }
    for (std::size_t i = 0; i < leaving_.size(); ++i)
      if (leaving_setup_[i].key == key) return static_cast<std::int32_t>(leaving_[i].contrib);
    return -1;
  };
  auto members_of = [&](std::size_t oi) -> const ConferenceOutputCtl& {
    return slots[output_setup_[oi].key.slot].conf;
  };

  // Transitions not yet faded (a boundary with no frame since): the
  // contribution indices moved, so look them up again.
  for (std::size_t oi = 0; oi < outputs_.size(); ++oi) {
    auto& tr = output_setup_[oi].transitions;
    tr.erase(std::remove_if(tr.begin(), tr.end(),
                            [&](Transition& t) {
                              const std::int32_t c = contrib_of_key(t.holder);
                              t.contrib = c >= 0 ? static_cast<std::uint32_t>(c) : 0;
                              return c < 0;
                            }),
             tr.end());
  }

  // Components of outputs sharing inputs.
  std::vector<Component> comps;
  std::vector<std::int32_t> comp_of_pid(model.pid_bound(), -1);
  for (std::uint32_t oi = 0; oi < outputs_.size(); ++oi) {
    if (outputs_[oi].job != OutputJob::conference) continue;
    const ConferenceOutputCtl& conf = members_of(oi);
    const IdSet& m = conf.members;
    const std::size_t n = m.count();
    if (n == 0 || conf.conf_type != 0) continue;
    std::vector<std::int32_t> labels;
    if (n <= kLabelScanLimit) {
      m.for_each([&](std::size_t pid) {
        const std::int32_t c = comp_of_pid[pid];
        if (c >= 0 && std::find(labels.begin(), labels.end(), c) == labels.end()) labels.push_back(c);
      });
    } else {
      for (std::size_t c = 0; c < comps.size(); ++c)
        if (comps[c].alive && comps[c].ids.intersects(m)) labels.push_back(static_cast<std::int32_t>(c));
    }
    std::int32_t target;
    if (labels.empty()) {
      target = static_cast<std::int32_t>(comps.size());
      comps.emplace_back();
    } else {
      target = labels[0];
      for (auto l : labels)
        if (comps[l].ids.count() > comps[target].ids.count()) target = l;
      for (auto l : labels) {
        if (l == target) continue;
        Component& from = comps[static_cast<std::size_t>(l)];
        from.ids.for_each([&](std::size_t pid) { comp_of_pid[pid] = target; });
        comps[target].ids.unite(from.ids);
        comps[target].outputs.insert(comps[target].outputs.end(), from.outputs.begin(), from.outputs.end());
        from.alive = false;
        from.ids.clear();
        from.outputs.clear();
      }
    }
    Component& c = comps[static_cast<std::size_t>(target)];
    m.for_each_minus(c.ids, [&](std::size_t pid) { comp_of_pid[pid] = target; });
    c.ids.unite(m);
    c.outputs.push_back(oi);
  }

  auto add_term = [&](std::vector<std::uint32_t>& terms, std::size_t pid) {
    if (pid < contrib_by_pid_.size() && contrib_by_pid_[pid] >= 0)
      terms.push_back(static_cast<std::uint32_t>(contrib_by_pid_[pid]));
  };

  // Recipes.
  groups_.clear();
  for (auto& c : comps) {
    if (!c.alive) continue;
    for (std::uint32_t oi : c.outputs) {
      OutputState& out = outputs_[oi];
      OutputSetup& setup = output_setup_[oi];
      const IdSet& m = members_of(oi).members;
      const std::size_t direct_cost = m.count();
      const std::size_t subtract_cost = c.ids.count_minus(m);
      setup.terms.clear();
      setup.term_factors.clear();
      if (subtract_cost + 1 < direct_cost) {
        if (c.group < 0) {
          c.group = static_cast<int>(groups_.size());
          MixGroup g;
          c.ids.for_each([&](std::size_t pid) { add_term(g.contribs, pid); });
          groups_.push_back(std::move(g));
        }
        out.subtractive = true;
        out.group = static_cast<std::uint32_t>(c.group);
        c.ids.for_each_minus(m, [&](std::size_t pid) { add_term(setup.terms, pid); });
      } else {
        out.subtractive = false;
        m.for_each([&](std::size_t pid) { add_term(setup.terms, pid); });
      }
    }
  }

  // Each contribution adds into at most one group sum (components are
  // disjoint), right after it is computed.
  group_of_contrib_.assign(contrib_.size(), -1);
  for (std::size_t g = 0; g < groups_.size(); ++g)
    for (std::uint32_t c : groups_[g].contribs) group_of_contrib_[c] = static_cast<std::int32_t>(g);

  // Outputs not in any component (empty, or individual volume) and the
  // transitions of every output whose participant set changed.
  for (std::size_t oi = 0; oi < outputs_.size(); ++oi) {
    OutputState& out = outputs_[oi];
    OutputSetup& setup = output_setup_[oi];
    if (out.job != OutputJob::conference) continue;
    const ConferenceOutputCtl& conf = members_of(oi);
    const IdSet& m = conf.members;
    if (m.empty()) {
      out.subtractive = false;
      setup.terms.clear();
      setup.term_factors.clear();
    } else if (conf.conf_type != 0) {
      out.subtractive = false;
      setup.terms.clear();
      setup.term_factors.clear();
      m.for_each([&](std::size_t pid) {
        if (pid < contrib_by_pid_.size() && contrib_by_pid_[pid] >= 0) {
          setup.terms.push_back(static_cast<std::uint32_t>(contrib_by_pid_[pid]));
          setup.term_factors.push_back(pid < conf.factors.size() ? conf.factors[pid] : 1.0f);
        }
      });
    }
    out.term_count = static_cast<std::uint32_t>(setup.terms.size());
    out.term0 = setup.terms.empty() ? 0 : setup.terms[0];

    if (setup.members_version != conf.version) {
      const bool first_plan = setup.members_version == ~std::uint64_t{0};
      if (!first_plan) {
        auto fade = [&](const ChannelKey& key, float sign) {
          const std::int32_t c = contrib_of_key(key);
          if (c >= 0) setup.transitions.push_back({key, static_cast<std::uint32_t>(c), sign});
        };
        // Became a member: fade in, unless the input is new (it fades
        // itself in). Left: fade out the holder's contribution.
        m.for_each_difference(setup.members, [&](std::size_t pid) {
          const ChannelKey old_holder = pid < pid_key_.size() ? pid_key_[pid] : ChannelKey{};
          const ChannelKey new_holder = pid < holder.size() ? holder[pid] : ChannelKey{};
          if (m.test(pid)) {
            if (old_holder == new_holder) fade(new_holder, -1.0f);
          } else {
            fade(old_holder, +1.0f);
          }
        });
        // Same id, different input, member before and after: the old holder
        // leaves (fade out); the new one fades itself in.
        for (std::size_t pid : changed_pids)
          if (setup.members.test(pid) && m.test(pid)) fade(pid_key_[pid], +1.0f);
      }
      setup.members = m;
      setup.members_version = conf.version;
    }
    out.has_transitions = !setup.transitions.empty();
  }

  pid_key_ = std::move(holder);
}

}  // namespace prosody::detail
