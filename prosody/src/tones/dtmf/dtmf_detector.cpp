// dtmf_detector.cpp - DtmfDetector: feeds 8 kHz audio to the hop analyser
// and, at the end of every hop with a window to judge, runs the window
// through the analyser's screen and verification and the digit tracker.
#include "dtmf_detector.hpp"

#include <algorithm>

namespace prosody::tones {

DtmfDetector::DtmfDetector(const DtmfConfig& config) {
  configure(config);
  reset();
}

void DtmfDetector::configure(const DtmfConfig& config) {
  config_ = config;
  analyser_.configure(config);
  tracker_.configure(config);
}

void DtmfDetector::reset() {
  analyser_.reset();
  tracker_.reset();
}

DtmfDetector::Stats DtmfDetector::stats() const noexcept {
  Stats s;
  s.hops = analyser_.counts().hops;
  s.direct = analyser_.counts().direct;
  s.screened = analyser_.counts().screened;
  s.verified = analyser_.counts().verified;
  s.candidates = tracker_.counts().candidates;
  s.confirmed = tracker_.counts().confirmed;
  return s;
}

void DtmfDetector::process(const float* x, std::size_t n, std::vector<DtmfEvent>& events) { feed(x, n, events); }

void DtmfDetector::conceal(std::size_t n, std::vector<DtmfEvent>& events) {
  if (n == 0) return;
  analyser_.begin_loss(n);
  // Zeros keep the bank's phase bookkeeping exact; the windows that see them
  // are marked unknown, so they neither end nor start anything.
  feed(nullptr, n, events);
}

void DtmfDetector::feed(const float* x, std::size_t n, std::vector<DtmfEvent>& events) {
  const bool tracing = trace_ != nullptr;  // a traced detector takes every hop
  while (n > 0) {
    // Run the bank to the next bank hop (or the end of the input); the hop
    // in between, if crossed, is judged from the history afterwards.
    const std::size_t run = std::min(n, analyser_.samples_to_bank_hop());
    const bool tracking_idle = tracker_.idle();
    const dtmf::HopAnalyser::HopEnds ends = analyser_.take(x, run, tracking_idle && !tracing, tracking_idle);
    if (x) x += run;
    n -= run;
    // Hops without a window (none complete yet, or skipped) end here.
    if (ends.hop_end)
      if (const dtmf::WindowRecord* window = analyser_.close_hop(ends.hop_end, false)) judge_window(*window, events);
    if (ends.bank_hop_end)
      if (const dtmf::WindowRecord* window = analyser_.close_hop(ends.bank_hop_end, true))
        judge_window(*window, events);
  }
}

void DtmfDetector::judge_window(const dtmf::WindowRecord& window, std::vector<DtmfEvent>& events) {
  Trace* const trace = trace_ ? &last_trace_ : nullptr;
  if (trace) *trace = Trace{};
  dtmf::WindowVerdict verdict;
  analyser_.examine(window, tracker_.pair(), verdict, trace);
  tracker_.track(window, analyser_.window_back(1), verdict, analyser_, events, trace);
  analyser_.update_resolution(tracker_.pair());
  if (trace) {
    trace->hop_end = window.end;
    trace->screened = verdict.screened;
    trace->valid = verdict.valid;
    trace->phase = static_cast<int>(tracker_.phase());
    trace_(*trace, trace_user_);
  }
}

DtmfActivity DtmfDetector::activity() const noexcept {
  DtmfActivity a;
  switch (tracker_.phase()) {
    case dtmf::TrackingPhase::candidate:
      a.state = DtmfActivity::State::candidate;
      break;
    case dtmf::TrackingPhase::confirmed:
    case dtmf::TrackingPhase::ending:
      a.state = DtmfActivity::State::present;
      break;
    default:
      a.state = DtmfActivity::State::idle;
  }
  a.onset = static_cast<std::uint64_t>(std::max(0.0, tracker_.onset()));
  a.release = static_cast<std::uint64_t>(std::max(0.0, tracker_.release()));
  a.released_digit = tracker_.released_digit();
  return a;
}

}  // namespace prosody::tones
