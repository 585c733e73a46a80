// adopt.cpp - building the runtime from the control model at a frame
// boundary. The builders keep the state of everything that carries on
// (levels, AGC, limiter, detectors, concealment history), start what is new,
// and let what ended fade out over one frame:
//   needs          which channels need an input, an output, a kept frame
//   build_inputs   inputs, participants first (contribution indices)
//   build_outputs  conference outputs, replays by depth, idle outputs
//   build_endpoints  TDM and VMP endpoints (endpoints.cpp)
//   link_inputs    datafeed sources and echo-suppression outputs by index
//   build_records  record jobs and their sources
//   build_plan     the mix plan (plan.cpp), when membership changed
#include <algorithm>
#include <cstring>

#include "dsp/levels.hpp"
#include "engine/runtime.hpp"

namespace prosody::detail {

Runtime::Runtime(std::uint32_t module_no, const ModuleConfig& config)
    : module_no_(module_no),
      config_(config),
      frame_(config.sample_rate / 1000 * config.frame_us / 1000),
      frame_seconds_(config.frame_us / 1e6) {
  acc_.resize(frame_);
  fade_out_.resize(frame_);
  for (unsigned i = 0; i < frame_; ++i) fade_out_[i] = 1.0f - float(i + 1) / float(frame_);
  limiter_coeff_ = dsp::limiter_coefficients({}, config.sample_rate);
  scratch_.resize(frame_ + 2);
  peaks_per_output_ = frame_ / limiter_coeff_.subblock + 2;
  peaks_.resize(2 * peaks_per_output_);
  out_scratch_.resize(2 * frame_);
  level_alpha_ = std::min(1.0, frame_seconds_ / 0.1);
  // Echo suppression thresholds as mean squares, so the frame loop compares
  // without logarithms.
  echo_min_output_ms_ = dsp::dbm0_to_mean_square(-40.0);
  echo_margin_ratio_ = std::pow(10.0, -20.0 / 10.0);
  dsp::AgcParams out_agc;
  out_agc.frame_seconds = frame_seconds_;
  out_agc.target_dbm0 = 0.0;  // Prosody: output AGC drives toward about 0 dBm0
  output_agc_coeff_ = dsp::agc_coefficients(out_agc);
  replay_agc_coeff_ = output_agc_coeff_;
  record_agc_params_.frame_seconds = frame_seconds_;
  record_agc_params_.target_dbm0 = -12.0;  // Prosody: record AGC converges toward about -12 dBm0
}

namespace {

// The previous runtime's list (inputs or outputs) while a builder makes the
// new one: the entry of a channel that carries on is taken over, once.
template <class State, class Setup>
class Previous {
 public:
  Previous(std::vector<State>& state, std::vector<Setup>& setup, std::vector<std::int32_t>& by_slot, std::size_t nslots)
      : state_(std::move(state)), setup_(std::move(setup)), by_slot_(std::move(by_slot)) {
    state.clear();
    setup.clear();
    by_slot.assign(nslots, -1);
  }
  // Moves out slot s's entry if it holds the same channel (generation gen).
  bool take(std::size_t s, std::uint32_t gen, State& state, Setup& setup) {
    const std::int32_t i = s < by_slot_.size() ? by_slot_[s] : -1;
    if (i < 0 || !setup_[std::size_t(i)].io || setup_[std::size_t(i)].key.gen != gen) return false;
    state = state_[std::size_t(i)];
    setup = std::move(setup_[std::size_t(i)]);
    setup_[std::size_t(i)].io.reset();  // taken
    return true;
  }
  // Whether entry i was left behind (its channel does not carry on).
  std::size_t size() const { return state_.size(); }
  bool left(std::size_t i) const { return setup_[i].io != nullptr; }
  State& state(std::size_t i) { return state_[i]; }
  Setup& setup(std::size_t i) { return setup_[i]; }

 private:
  std::vector<State> state_;
  std::vector<Setup> setup_;
  std::vector<std::int32_t> by_slot_;
};

}  // namespace

struct Runtime::Needs {
  std::vector<char> input;   // the channel's input is used
  std::vector<char> output;  // the channel's output is computed
  std::vector<char> cur;     // its output samples are read after the output is done
};

void Runtime::adopt(const ControlModel& model) {
  adopting_ = true;
  const auto& slots = model.slots();
  const std::size_t nslots = slots.size();
  ensure_slots(nslots);
  gen_by_slot_.assign(nslots, 0);
  for (std::size_t s = 0; s < nslots; ++s)
    if (slots[s].allocated) gen_by_slot_[s] = slots[s].gen;

  const Needs need = needs(model);
  const bool participants_changed = build_inputs(model, need);
  build_outputs(model, need);
  index_frame_ports(nslots);
  build_endpoints(model);
  link_inputs(model);
  build_records(model);

  any_activity_reporting_ = false;
  for (std::size_t i = 0; i < outputs_.size(); ++i)
    if (outputs_[i].job == OutputJob::conference && output_setup_[i].activity_delay_ms > 0)
      any_activity_reporting_ = true;

  if (participants_changed || model.plan_version() != plan_version_) {
    build_plan(model);
    plan_version_ = model.plan_version();
  }
  // The few outputs that the end of a frame visits, so that it does not
  // sweep every output's state again (10,000 cache lines at 10,000 parties).
  keeping_prev_.clear();
  transitioning_.clear();
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    if (outputs_[i].keeps_prev) keeping_prev_.push_back(std::uint32_t(i));
    if (outputs_[i].has_transitions) transitioning_.push_back(std::uint32_t(i));
  }
  group_sum_.resize(groups_.size() * frame_);
  adopting_ = false;
}

// Which slots have frame ports, for bind_frame; nothing is bound between
// frames.
void Runtime::index_frame_ports(std::size_t nslots) {
  unbind_frame();
  frame_input_by_slot_.assign(nslots, -1);
  frame_output_by_slot_.assign(nslots, -1);
  for (std::size_t i = 0; i < inputs_.size(); ++i)
    if (inputs_[i].frame_port) frame_input_by_slot_[input_setup_[i].key.slot] = std::int32_t(i);
  for (std::size_t i = 0; i < outputs_.size(); ++i)
    if (outputs_[i].frame_port) frame_output_by_slot_[output_setup_[i].key.slot] = std::int32_t(i);
  bound_input_.assign(inputs_.size(), nullptr);
  bound_output_.assign(outputs_.size(), nullptr);
}

// Two frame buffers per channel slot, kept across rebuilds: a slot's
// history survives its input being rebuilt.
void Runtime::ensure_slots(std::size_t nslots) {
  if (nslots <= frame_slots_) return;
  std::size_t grown = std::max<std::size_t>(16, frame_slots_);
  while (grown < nslots) grown *= 2;
  input_frames_.resize(grown * 2 * frame_);
  frame_slots_ = grown;
  // The arena moved: build_inputs points every input into it afresh.
}

Runtime::Needs Runtime::needs(const ControlModel& model) const {
  const auto& slots = model.slots();
  const std::size_t nslots = slots.size();
  Needs need{std::vector<char>(nslots, 0), std::vector<char>(nslots, 0), std::vector<char>(nslots, 0)};
  for (std::size_t s = 0; s < nslots; ++s) {
    const ChannelCtl& ch = slots[s];
    if (!ch.allocated) continue;
    if (ch.pid >= 0 || ch.listening || ch.host_input || ch.frame_input || model.record(std::uint32_t(s)))
      need.input[s] = 1;
    if (ch.out_job != OutputJob::none || ch.host_output || ch.frame_output || ch.datafeed_referenced)
      need.output[s] = 1;
  }
  for (std::size_t s = 0; s < nslots; ++s) {
    const auto& rec = model.record(std::uint32_t(s));
    if (!rec || !slots[s].allocated || rec->source.slot >= nslots) continue;
    if (rec->settings.source == RecordSource::alt_output)
      need.output[rec->source.slot] = need.cur[rec->source.slot] = 1;
    else
      need.input[rec->source.slot] = 1;
  }
  for (const ChannelCtl& ch : slots) {
    if (!ch.allocated || ch.out_job != OutputJob::replay || !ch.io->replay || !ch.io->replay->settings.background)
      continue;
    ChannelKey bk;
    if (decode_channel(ch.io->replay->settings.background.value, bk) && bk.slot < nslots) need.cur[bk.slot] = 1;
  }
  return need;
}

const InputCoefficients& Runtime::coefficients_for(const ChannelCtl& ch, std::uint16_t& index) {
  for (std::size_t i = 0; i < coefficients_.size(); ++i) {
    const InputCoefficients& c = coefficients_[i];
    if (c.tracking.min_noise_level_db == ch.tracking.min_noise_level_db &&
        c.tracking.speech_thresh == ch.tracking.speech_thresh &&
        c.agc_settings.max_level_decay == ch.input_agc.max_level_decay &&
        c.agc_settings.target_level_db == ch.input_agc.target_level_db) {
      index = static_cast<std::uint16_t>(i);
      return c;
    }
  }
  InputCoefficients c;
  c.tracking = ch.tracking;
  c.agc_settings = ch.input_agc;
  dsp::ActivityParams ap;
  ap.frame_seconds = frame_seconds_;
  ap.min_noise_level_db = ch.tracking.min_noise_level_db;
  ap.speech_thresh = ch.tracking.speech_thresh;
  c.tracker = dsp::activity_coefficients(ap);
  dsp::AgcParams agp;
  agp.frame_seconds = frame_seconds_;
  agp.target_dbm0 = ch.input_agc.target_level_db;
  agp.max_level_decay = ch.input_agc.max_level_decay;
  c.agc = dsp::agc_coefficients(agp);
  index = static_cast<std::uint16_t>(coefficients_.size());
  coefficients_.push_back(c);
  return coefficients_.back();
}

// Returns true if the set of participants (or their contribution indices)
// changed, so the plan must be recomputed.
bool Runtime::build_inputs(const ControlModel& model, const Needs& need) {
  const auto& slots = model.slots();
  const std::size_t nslots = slots.size();
  Previous<InputState, InputSetup> old(inputs_, input_setup_, input_by_slot_, nslots);
  // Settings that fell out of use are forgotten; the table is rebuilt as
  // inputs ask for their coefficients.
  coefficients_.clear();

  bool participants_changed = false;
  // Participants detached this boundary whose input is still received.
  std::vector<InputState> detached;
  std::vector<InputSetup> detached_setup;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t s = 0; s < nslots; ++s) {
      if (!need.input[s]) continue;
      const ChannelCtl& ch = slots[s];
      const bool participant = ch.pid >= 0;
      if (participant != (pass == 0)) continue;
      InputState in;
      InputSetup setup;
      if (old.take(s, ch.gen, in, setup)) {
        if (in.participant != participant || setup.pid != ch.pid) participants_changed = true;
        if (in.participant && !participant) {
          // It fades out of every sum over one frame, mixing the audio it
          // still receives (as a released participant fades out).
          InputState fade = in;
          fade.leaving = true;
          fade.tones = nullptr;
          fade.sidetone_output = -1;
          InputSetup fade_setup;
          fade_setup.twin = static_cast<std::int32_t>(inputs_.size());
          fade_setup.key = setup.key;
          fade_setup.io = setup.io;
          fade_setup.pid = setup.pid;
          detached.push_back(fade);
          detached_setup.push_back(std::move(fade_setup));
        }
        if (setup.pid != ch.pid) {  // re-attached: a new participant, fades in
          in.gain_prev = 0.0f;
          in.agc = dsp::AgcLevel{};
          in.tracker = dsp::ActivityState{};
        }
      } else {
        setup.key = ChannelKey{module_no_, static_cast<std::uint32_t>(s), ch.gen};
        // The channel's counters go on from where they are.
        in.frames_in = ch.io->in_frames.load();
        setup.frames_concealed = ch.io->in_concealed.load();
        if (participant) participants_changed = true;
      }
      setup.io = ch.io;
      setup.feed_source = ch.feed_source;
      in.frames = input_frames_.data() + std::size_t(s) * 2 * frame_;
      in.io = ch.io.get();
      in.feed = ch.feed;
      if (ch.feed == InputFeed::datafeed && !model.find(ch.feed_source)) in.feed = InputFeed::none;
      if (ch.feed == InputFeed::host) {
        std::lock_guard<std::mutex> io_lock(ch.io->api_mutex);
        setup.host = ch.io->host_in;
      } else {
        setup.host.reset();
      }
      if (in.feed != InputFeed::frame) in.stream_ended = false;
      in.frame_port = ch.frame_input;
      in.participant = participant;
      in.leaving = false;
      setup.pid = ch.pid;
      in.agc_on = ch.input.agc;
      in.volume_gain = ch.input.mute ? 0.0f : static_cast<float>(dsp::db_to_gain(ch.input.volume_db));
      in.gating = ch.gating;
      coefficients_for(ch, in.coeff);
      if (ch.listening) {
        if (!setup.tones) {
          setup.tones = std::make_unique<InputTones>(config_.sample_rate, ch.listen, frame_, frames() * frame_);
        } else if (std::memcmp(&setup.tones->detector.settings(), &ch.listen, sizeof(ListenSettings)) != 0) {
          setup.tones->detector.configure(ch.listen);
        }
        const auto tables = model.input_tones().tables_for(ch.listen.tone_set);
        if (!(setup.tones->detector.call_progress_tables() == tables))
          setup.tones->detector.set_call_progress_tables(tables);
      } else if (setup.tones) {
        end_tones(in, setup, frames() * frame_);
        setup.tones.reset();
      }
      in.tones = setup.tones.get();
      input_by_slot_[s] = static_cast<std::int32_t>(inputs_.size());
      inputs_.push_back(in);
      input_setup_.push_back(std::move(setup));
    }
  }

  // Inputs no longer needed whose channel is still there stopped listening:
  // a tone in progress gets its end report (a released channel's jobs are
  // aborted, its tones unreported).
  for (std::size_t i = 0; i < old.size(); ++i) {
    InputSetup& o = old.setup(i);
    if (old.left(i) && o.tones && model.find(o.key)) {
      end_tones(old.state(i), o, frames() * frame_);
      o.tones.reset();
      old.state(i).tones = nullptr;
    }
  }

  // Contribution indices: participants, then those still fading out from
  // an earlier boundary, then participants that left now (detached or
  // released), which fade out over one frame.
  std::uint32_t contrib = 0;
  for (auto& in : inputs_)
    if (in.participant) in.contrib = contrib++;
  for (auto& in : leaving_) in.contrib = contrib++;
  for (std::size_t i = 0; i < old.size(); ++i) {
    InputState& in = old.state(i);
    if (!old.left(i) || !in.participant) continue;
    participants_changed = true;
    in.leaving = true;
    in.contrib = contrib++;
    in.sidetone_output = -1;
    // Its slot may be taken by a new channel this very frame: the fading
    // input keeps its history in buffers of its own.
    InputSetup& setup = old.setup(i);
    setup.own_frames.assign(in.frames, in.frames + 2 * frame_);
    in.frames = setup.own_frames.data();
    leaving_.push_back(in);
    leaving_setup_.push_back(std::move(setup));
  }
  for (std::size_t i = 0; i < detached.size(); ++i) {
    detached[i].contrib = contrib++;
    leaving_.push_back(detached[i]);
    leaving_setup_.push_back(std::move(detached_setup[i]));
  }
  contrib_.assign(contrib, Contribution{});
  return participants_changed;
}

void Runtime::build_outputs(const ControlModel& model, const Needs& need) {
  const auto& slots = model.slots();
  const std::size_t nslots = slots.size();
  Previous<OutputState, OutputSetup> old(outputs_, output_setup_, output_by_slot_, nslots);

  auto background_of = [&](const ChannelCtl& ch, ChannelKey& bk) {
    return ch.out_job == OutputJob::replay && ch.io->replay && ch.io->replay->settings.background &&
           decode_channel(ch.io->replay->settings.background.value, bk) && bk.slot < nslots;
  };
  // Replays are computed after the outputs they hear: follow background
  // links; a loop is cut (that background is heard one frame late, from its
  // previous output).
  auto replay_depth = [&](std::size_t s) {
    int d = 0;
    std::size_t at = s;
    ChannelKey bk;
    for (int guard = 0; guard < 64 && background_of(slots[at], bk); ++guard) {
      ++d;
      at = bk.slot;
      if (at == s) break;
    }
    return d;
  };
  std::vector<std::pair<int, std::size_t>> order;
  for (std::size_t s = 0; s < nslots; ++s) {
    if (!need.output[s]) continue;
    const ChannelCtl& ch = slots[s];
    int rank = 0;
    if (ch.out_job == OutputJob::replay)
      rank = 1 + replay_depth(s);
    else if (ch.out_job == OutputJob::none)
      rank = 1000;
    order.emplace_back(rank, s);
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });

  for (const auto& [rank, s] : order) {
    const ChannelCtl& ch = slots[s];
    OutputState out;
    OutputSetup setup;
    if (!old.take(s, ch.gen, out, setup)) {
      setup.key = ChannelKey{module_no_, static_cast<std::uint32_t>(s), ch.gen};
      out.frames_out = ch.io->out_frames.load();
      out.frames_limited = ch.io->out_limited.load();
    }
    // Only a channel whose datafeed is referenced (or that a replay may hear
    // from the previous frame) needs last frame's output.
    out.keeps_prev = ch.datafeed_referenced || ch.out_job == OutputJob::replay || ch.out_job == OutputJob::none;
    out.keeps_cur = out.keeps_prev || need.cur[s];
    if (out.keeps_cur && setup.frame_a.size() != frame_) {
      setup.frame_a.assign(frame_, 0.0f);
      setup.frame_b.assign(frame_, 0.0f);
      out.cur = setup.frame_a.data();
      setup.prev = setup.frame_b.data();
    }
    const OutputJob was = out.job;
    setup.io = ch.io;
    out.io = ch.io.get();
    out.job = ch.out_job;
    setup.order = rank;
    if (ch.host_output) {
      std::lock_guard<std::mutex> io_lock(ch.io->api_mutex);
      setup.host = ch.io->host_out;
    } else {
      setup.host.reset();
    }
    out.host = setup.host.get();
    out.frame_port = ch.frame_output;
    if (out.job == OutputJob::conference) {
      if (was != OutputJob::conference) {  // a new conference output
        setup.members.clear();
        setup.members_version = ~std::uint64_t{0};
        out.agc = dsp::AgcState{};
        out.limiter = dsp::LimiterState{};
        out.gain_prev = 1.0f;
        setup.reported_once = false;
      }
      out.mute = ch.conf.settings.mute;
      out.agc_on = ch.conf.settings.agc;
      out.volume_gain = static_cast<float>(dsp::db_to_gain(ch.conf.settings.volume_db));
      setup.conf_type = ch.conf.conf_type;
      setup.activity_delay_ms = ch.conf.activity_delay_ms;
      setup.activity_sensitivity = ch.conf.activity_sensitivity;
    } else {
      setup.terms.clear();
      setup.term_factors.clear();
      setup.transitions.clear();
      setup.members.clear();
      setup.members_version = ~std::uint64_t{0};
      out.term_count = 0;
      out.has_transitions = false;
    }
    if (out.job == OutputJob::replay) {
      const auto job = ch.io->replay;
      if (setup.replay.job != job) {
        setup.replay = ReplayRt{};
        setup.replay.job = job;
        setup.replay.stream = std::make_shared<ReplayStream>(job->settings, config_.sample_rate, frame_);
        out.limiter = dsp::LimiterState{};
      }
      setup.replay.volume_gain = static_cast<float>(dsp::db_to_gain(job->settings.volume_db));
      setup.replay.agc = job->settings.agc;
    } else {
      setup.replay = ReplayRt{};
    }
    adopt_tone(out, setup, ch);
    output_by_slot_[s] = static_cast<std::int32_t>(outputs_.size());
    outputs_.push_back(out);
    output_setup_.push_back(std::move(setup));
  }

  // Backgrounds by output index (a background must be computed this frame).
  for (std::size_t i = 0; i < outputs_.size(); ++i) {
    ReplayRt& r = output_setup_[i].replay;
    r.background = -1;
    ChannelKey bk;
    const ChannelCtl& ch = slots[output_setup_[i].key.slot];
    if (background_of(ch, bk) && model.find(bk)) r.background = output_by_slot_[bk.slot];
  }
}

void Runtime::link_inputs(const ControlModel& model) {
  auto source_output = [&](const InputState& in, const InputSetup& setup) -> std::int32_t {
    if (in.feed == InputFeed::endpoint) return endpoint_source_index(model, setup.feed_source);
    if (in.feed != InputFeed::datafeed || !model.find(setup.feed_source)) return -1;
    const std::int32_t oi = output_by_slot_[setup.feed_source.slot];
    return oi >= 0 && outputs_[std::size_t(oi)].keeps_prev ? oi : -1;
  };
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    InputState& in = inputs_[i];
    const ChannelCtl& ch = model.slots()[input_setup_[i].key.slot];
    input_setup_[i].feed_output = source_output(in, input_setup_[i]);
    in.sidetone_output = ch.has_sidetone && model.find(ch.sidetone) ? output_by_slot_[ch.sidetone.slot] : -1;
  }
  for (std::size_t i = 0; i < leaving_.size(); ++i)
    leaving_setup_[i].feed_output = source_output(leaving_[i], leaving_setup_[i]);
}

// A new record job's converters, rules and tone eliminator.
void Runtime::start_record(RecordRt& rec, const RecordJob& job) {
  const RecordSettings& s = job.settings;
  RecordRules rules;
  rules.silence_level_dbm0 = s.silence_level_db;
  rules.max_elapsed_ms = s.max_elapsed_ms;
  rules.max_silence_ms = s.max_silence_ms;
  rules.max_initial_silence_ms = s.max_initial_silence_ms;
  rules.silence_elimination_ms = s.silence_elimination_ms;
  rec.gate = std::make_shared<RecordGate>(rules, config_.sample_rate, frame_, 1);
  // The gate may release its held lead-in with a frame: that many at once.
  const std::size_t most = rec.gate->max_samples_out();
  rec.stream = std::make_shared<RecordStream>(s, config_.sample_rate, unsigned(most));
  rec.tones.reset();
  if (s.tone_elimination.enabled) {
    ListenSettings t = s.tone_elimination;
    t.suppress = true;
    t.lookahead_us = 16000;  // removed from their first sample
    rec.tones = std::make_shared<ToneSuppressor>(config_.sample_rate, t);
  }
}

void Runtime::build_records(const ControlModel& model) {
  const auto& slots = model.slots();
  std::vector<RecordRt> old = std::move(records_);
  records_.clear();
  for (std::size_t s = 0; s < slots.size(); ++s) {
    const auto& job = model.record(std::uint32_t(s));
    if (!job || !slots[s].allocated) continue;
    RecordRt rec;
    for (auto& o : old)
      if (o.job == job) {
        rec = std::move(o);
        break;
      }
    if (rec.job != job) start_record(rec, *job);
    rec.job = job;
    dsp::AgcParams agc = record_agc_params_;
    agc.max_level_decay = job->agc_settings.max_level_decay;
    agc.target_dbm0 = job->agc_settings.target_level_db;
    rec.agc_coeff = dsp::agc_coefficients(agc);
    rec.io = slots[s].io;
    rec.from_output = job->settings.source == RecordSource::alt_output;
    rec.source = job->source;
    rec.volume_gain = static_cast<float>(dsp::db_to_gain(job->settings.volume_db));
    rec.source_index = -1;
    if (model.find(job->source)) {
      rec.source_index = (rec.from_output ? output_by_slot_ : input_by_slot_)[job->source.slot];
    } else {
      int expected = static_cast<int>(RecordTermination::not_yet);
      job->termination.compare_exchange_strong(expected, static_cast<int>(RecordTermination::error));
    }
    records_.push_back(std::move(rec));
  }
}

}  // namespace prosody::detail
