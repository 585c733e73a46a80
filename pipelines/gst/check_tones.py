#!/usr/bin/python3
"""Checks which tones a mono WAV file holds, by Goertzel (Hann window).

  check_tones.py FILE --hears 440,660 --not 990 [--from 1.0] [--heard-above -30]
                 [--absent-below -55] [--channel N] [--absent-windows N]

Levels are dBm0 (a full-scale sine is +3.14 dBm0). Exits 1 when a tone in
--hears is below --heard-above, or a tone in --not is above --absent-below.

--absent-windows N: a tone in --not is measured in N equal windows of the
segment and its level is their median. A tone that is there (a party's own
voice coming back) is there in every window; a click (a concealed frame, a
sample the drift control dropped) is in one, and its spectrum spreads over
every frequency. With one window (the default) a single click on a loaded
machine can read as -58 dBm0 at any frequency.
"""
import argparse
import math
import struct
import sys
import wave


def read_mono(path, channel=0):
    with wave.open(path) as w:
        if w.getsampwidth() != 2:
            sys.exit(f"{path}: 16-bit PCM expected")
        rate, ch, n = w.getframerate(), w.getnchannels(), w.getnframes()
        data = struct.unpack(f"<{n * ch}h", w.readframes(n))
    if channel >= ch:
        sys.exit(f"{path}: no channel {channel} (it has {ch})")
    return [v / 32768.0 for v in data[channel::ch]], rate


def tone_dbm0(x, freq, rate):
    n = len(x)
    if n < 2:
        return -300.0
    re = im = wsum = 0.0
    for i, v in enumerate(x):
        w = 0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1))
        ph = 2 * math.pi * freq * i / rate
        re += w * v * math.cos(ph)
        im -= w * v * math.sin(ph)
        wsum += w
    amp = 2 * math.hypot(re, im) / wsum
    ms = amp * amp / 2
    return 10 * math.log10(ms / 0.5) + 3.14 if ms > 1e-30 else -300.0


def freqs(text):
    return [float(f) for f in text.split(",") if f]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--hears", type=freqs, default=[])
    ap.add_argument("--not", dest="absent", type=freqs, default=[])
    ap.add_argument("--from", dest="start", type=float, default=0.5)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--heard-above", type=float, default=-30.0)
    ap.add_argument("--absent-below", type=float, default=-55.0)
    ap.add_argument("--channel", type=int, default=0)
    ap.add_argument("--absent-windows", type=int, default=1)
    a = ap.parse_args()
    x, rate = read_mono(a.file, a.channel)
    seg = x[int(a.start * rate):int((a.start + a.seconds) * rate)]
    ok = len(seg) >= rate // 10
    if not ok:
        print(f"{a.file}: only {len(x) / rate:.2f} s of audio")
    for f in a.hears:
        db = tone_dbm0(seg, f, rate)
        good = db > a.heard_above
        ok &= good
        print(f"{a.file}[{a.channel}]: {f:g} Hz at {db:6.1f} dBm0 (heard: {'yes' if good else 'NO'})")
    windows = max(1, a.absent_windows)
    step = len(seg) // windows
    for f in a.absent:
        levels = sorted(tone_dbm0(seg[k * step:(k + 1) * step], f, rate) for k in range(windows))
        db = levels[windows // 2] if windows % 2 else (levels[windows // 2 - 1] + levels[windows // 2]) / 2
        good = db < a.absent_below
        ok &= good
        each = f" (median of {windows} windows: {', '.join(f'{v:.1f}' for v in levels)})" if windows > 1 else ""
        print(f"{a.file}[{a.channel}]: {f:g} Hz at {db:6.1f} dBm0{each} (absent: {'yes' if good else 'NO'})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
