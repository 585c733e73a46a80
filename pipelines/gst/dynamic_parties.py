#!/usr/bin/python3
"""Adds and removes a conference party while the pipeline is PLAYING.

Party 0 talks (440 Hz) and party 1 listens. After 0.5 s party 2 joins
(880 Hz): a sink_2/src_2 pair is requested and a live source linked to it;
after 1.5 s it leaves (source stopped, pads released). What party 1 heard is
checked with a Goertzel filter: 880 Hz only while party 2 was there, 440 Hz
all along. Exit status 0 when it holds.

Needs GST_PLUGIN_PATH to hold the built plugin (see env.sh).
"""
import math
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstApp", "1.0")
from gi.repository import Gst, GstApp  # noqa: E402

RATE = 8000


def tone_dbm0(x, freq):
    n = len(x)
    re = im = wsum = 0.0
    for i, v in enumerate(x):
        w = 0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1))
        re += w * v * math.cos(2 * math.pi * freq * i / RATE)
        im -= w * v * math.sin(2 * math.pi * freq * i / RATE)
        wsum += w
    ms = (2 * math.hypot(re, im) / wsum) ** 2 / 2
    return 10 * math.log10(ms / 0.5) + 3.14 if ms > 1e-30 else -300.0


def main():
    Gst.init(None)
    pipeline = Gst.parse_launch(
        "prosodyconfmix name=m rate=8000 "
        "audiotestsrc is-live=true freq=440 volume=0.3 samplesperbuffer=80 ! "
        "audio/x-raw,format=S16LE,rate=8000,channels=1 ! m.sink_0 "
        "m.src_0 ! queue ! fakesink async=false "
        "m.src_1 ! queue ! appsink name=heard sync=false async=false "
        "caps=audio/x-raw,format=S16LE")
    mix = pipeline.get_by_name("m")
    sink = pipeline.get_by_name("heard")
    samples = []
    # Running time of samples[0]: windows are placed by running time, so that
    # how far the appsink lags behind (a loaded machine) does not matter.
    first_pts = []

    def drain():
        while True:
            s = sink.try_pull_sample(0)
            if s is None:
                return
            buf = s.get_buffer()
            if not first_pts:
                first_pts.append(buf.pts)
            data = buf.extract_dup(0, buf.get_size())
            samples.extend(int.from_bytes(data[i:i + 2], "little", signed=True) / 32768.0
                           for i in range(0, len(data), 2))

    def run_for(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            drain()
            msg = pipeline.get_bus().pop_filtered(Gst.MessageType.ERROR)
            if msg:
                sys.exit(f"error: {msg.parse_error()[0].message}")
            time.sleep(0.01)

    def running_time():
        return pipeline.get_clock().get_time() - pipeline.get_base_time()

    pipeline.set_state(Gst.State.PLAYING)
    run_for(0.5)
    joined_rt = running_time()
    # Party 2 joins: both pads by name, a live talker on the sink pad.
    talker = Gst.parse_bin_from_description(
        "audiotestsrc is-live=true freq=880 volume=0.3 samplesperbuffer=80 ! "
        "capsfilter caps=audio/x-raw,format=S16LE,rate=8000,channels=1", True)
    pipeline.add(talker)
    sink2 = mix.request_pad_simple("sink_2")
    src2 = mix.request_pad_simple("src_2")
    talker.get_static_pad("src").link(sink2)
    talker.sync_state_with_parent()
    run_for(1.0)
    left_rt = running_time()
    # Party 2 leaves: stop its source, release its pads (ramped out).
    talker.set_state(Gst.State.NULL)
    pipeline.remove(talker)
    mix.release_request_pad(sink2)
    mix.release_request_pad(src2)
    run_for(1.0)
    pipeline.set_state(Gst.State.NULL)

    def level(freq, a, b):
        return tone_dbm0(samples[a:b], freq)

    def sample_at(rt):
        return max(0, min(len(samples), (rt - first_pts[0]) * RATE // Gst.SECOND))

    joined_at, left_at = sample_at(joined_rt), sample_at(left_rt)

    q = RATE // 4  # skip a quarter second around each change (joining, ramps)
    during = (joined_at + q, left_at)
    after = (left_at + q, len(samples))
    results = [
        ("440 Hz before party 2", level(440, RATE // 10, joined_at), True),
        ("880 Hz before party 2 joined", level(880, RATE // 10, joined_at), False),
        ("880 Hz while party 2 is there", level(880, *during), True),
        ("880 Hz after party 2 left", level(880, *after), False),
        ("440 Hz after party 2 left", level(440, *after), True),
    ]
    ok = True
    for what, db, want in results:
        good = db > -20.0 if want else db < -55.0
        ok &= good
        print(f"{what}: {db:6.1f} dBm0 {'ok' if good else 'WRONG'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
