// frame_ports.cpp - step_frame's arguments: every input and output is
// checked against the adopted runtime before anything is processed, then
// bound to its input or output for the one frame.
#include "engine/runtime.hpp"

namespace prosody::detail {

namespace {

bool format_ok(SampleFormat f) { return f == SampleFormat::f32 || f == SampleFormat::s16; }

}  // namespace

Errc Runtime::bind_frame(Span<const FrameInput> inputs, Span<const FrameOutput> outputs) {
  // The slot of a live channel of this module, or Errc::no_such_channel.
  auto live_slot = [&](ChannelId id, std::uint32_t& slot) {
    ChannelKey key;
    if (!decode_channel(id.value, key) || key.module != module_no_ || key.slot >= gen_by_slot_.size() ||
        gen_by_slot_[key.slot] != key.gen)
      return Errc::no_such_channel;
    slot = key.slot;
    return Errc::ok;
  };
  auto unbind = [&] {
    for (std::uint32_t i : frame_inputs_bound_) inputs_[i].frame = nullptr;
    for (std::uint32_t i : frame_outputs_bound_) outputs_[i].frame = nullptr;
    frame_inputs_bound_.clear();
    frame_outputs_bound_.clear();
  };
  auto fail = [&](Errc e) {
    unbind();
    return e;
  };
  unbind();

  for (const FrameInput& fi : inputs) {
    std::uint32_t slot;
    if (Errc e = live_slot(fi.channel, slot); e != Errc::ok) return fail(e);
    const std::int32_t index = input_by_slot_[slot];
    if (index < 0 || !inputs_[std::size_t(index)].frame_port) return fail(Errc::wrong_channel_state);
    InputState& in = inputs_[std::size_t(index)];
    if (in.frame) return fail(Errc::bad_parameter);  // named twice
    if (!fi.pieces.empty() && !fi.pieces.data()) return fail(Errc::bad_parameter);
    std::size_t end = 0;  // pieces in order, without overlap, inside the frame
    for (const FramePiece& p : fi.pieces) {
      if (!format_ok(p.format) || (p.count > 0 && !p.samples)) return fail(Errc::bad_parameter);
      if (p.offset < end || p.offset > frame_ || p.count > frame_ - p.offset) return fail(Errc::bad_parameter);
      end = std::size_t(p.offset) + p.count;
    }
    in.frame = &fi;
    frame_inputs_bound_.push_back(std::uint32_t(index));
  }
  for (const FrameOutput& fo : outputs) {
    std::uint32_t slot;
    if (Errc e = live_slot(fo.channel, slot); e != Errc::ok) return fail(e);
    const std::int32_t index = output_by_slot_[slot];
    if (index < 0 || !outputs_[std::size_t(index)].frame_port) return fail(Errc::wrong_channel_state);
    OutputState& out = outputs_[std::size_t(index)];
    if (out.frame) return fail(Errc::bad_parameter);  // named twice
    if (!fo.samples || !format_ok(fo.format)) return fail(Errc::bad_parameter);
    out.frame = &fo;
    frame_outputs_bound_.push_back(std::uint32_t(index));
  }
  return Errc::ok;
}

}  // namespace prosody::detail
