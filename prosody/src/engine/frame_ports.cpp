// frame_ports.cpp - step_frame's arguments: every input and output is
// checked against the adopted runtime before anything is processed, then
// bound to its input or output for the one frame.
#include "engine/runtime.hpp"

namespace prosody::detail {

namespace {

bool format_ok(SampleFormat f) { return f == SampleFormat::f32 || f == SampleFormat::s16; }

}  // namespace

Errc Runtime::bind_frame(Span<const FrameInput> inputs, Span<const FrameOutput> outputs, bool lenient) {
  // The slot of a live channel of this module, or Errc::no_such_channel.
  auto live_slot = [&](ChannelId id, std::uint32_t& slot) {
    ChannelKey key;
    if (!decode_channel(id.value, key) || key.module != module_no_ || key.slot >= gen_by_slot_.size() ||
        gen_by_slot_[key.slot] != key.gen)
      return Errc::no_such_channel;
    slot = key.slot;
    return Errc::ok;
  };
  auto fail = [&](Errc e) {
    unbind_frame();
    return e;
  };
  unbind_frame();

  // Strict (step_frame): the first error fails the call. Lenient (a frame
  // client): an entry in error is left out.
  Errc first_error = Errc::ok;
  auto reject = [&](Errc e) {
    if (first_error == Errc::ok) first_error = e;
  };
  for (const FrameInput& fi : inputs) {
    std::uint32_t slot;
    if (Errc e = live_slot(fi.channel, slot); e != Errc::ok) {
      reject(e);
      continue;
    }
    const std::int32_t index = frame_input_by_slot_[slot];
    if (index < 0) {  // no input, or not a frame port
      reject(Errc::wrong_channel_state);
      continue;
    }
    const FrameInput*& bound = bound_input_[std::size_t(index)];
    bool ok = !bound && (fi.pieces.empty() || fi.pieces.data());  // not named twice
    std::size_t end = 0;                                          // pieces in order, without overlap, inside the frame
    for (std::size_t k = 0; ok && k < fi.pieces.size(); ++k) {    // (no piece is read through a null span)
      const FramePiece& p = fi.pieces[k];
      ok = format_ok(p.format) && (p.count == 0 || p.samples) && p.offset >= end && p.offset <= frame_ &&
           p.count <= frame_ - p.offset;
      end = std::size_t(p.offset) + p.count;
    }
    if (!ok) {
      reject(Errc::bad_parameter);
      continue;
    }
    bound = &fi;
    frame_inputs_bound_.push_back(std::uint32_t(index));
  }
  for (const FrameOutput& fo : outputs) {
    std::uint32_t slot;
    if (Errc e = live_slot(fo.channel, slot); e != Errc::ok) {
      reject(e);
      continue;
    }
    const std::int32_t index = frame_output_by_slot_[slot];
    if (index < 0) {  // no output, or not a frame port
      reject(Errc::wrong_channel_state);
      continue;
    }
    const FrameOutput*& bound = bound_output_[std::size_t(index)];
    if (bound || !fo.samples || !format_ok(fo.format)) {  // named twice, or no buffer
      reject(Errc::bad_parameter);
      continue;
    }
    bound = &fo;
    frame_outputs_bound_.push_back(std::uint32_t(index));
  }
  if (first_error != Errc::ok && !lenient) return fail(first_error);
  return Errc::ok;
}

// The caller's buffers are released (at the end of the frame, or before
// binding the next).
void Runtime::unbind_frame() {
  for (std::uint32_t i : frame_inputs_bound_) bound_input_[i] = nullptr;
  for (std::uint32_t i : frame_outputs_bound_) bound_output_[i] = nullptr;
  frame_inputs_bound_.clear();
  frame_outputs_bound_.clear();
}

}  // namespace prosody::detail
