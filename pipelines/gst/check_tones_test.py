#!/usr/bin/python3
"""Tests check_tones.py, the pipelines' oracle: a tone that is there fails
--not (with one window and with the median of several), a click does not
fail the median of several windows, and a clean mix passes."""
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave

RATE = 8000
HERE = os.path.dirname(os.path.abspath(__file__))


def amplitude(dbm0):
    return math.sqrt(10 ** ((dbm0 - 3.14) / 10))


def mix(own_dbm0=None, click_at=None):
    """660 Hz at -10 and 990 Hz at -15 dBm0 for 3 s, with 440 Hz (the
    party's own voice) at own_dbm0, and a click (1 ms at 0.9 of full
    scale: about -53 dBm0 at 440 Hz in a 1.5 s Hann window)."""
    x = []
    for i in range(3 * RATE):
        v = amplitude(-10) * math.sin(2 * math.pi * 660 * i / RATE)
        v += amplitude(-15) * math.sin(2 * math.pi * 990 * i / RATE)
        if own_dbm0 is not None:
            v += amplitude(own_dbm0) * math.sin(2 * math.pi * 440 * i / RATE)
        x.append(v)
    if click_at is not None:
        start = int(click_at * RATE)
        x[start:start + RATE // 1000] = [0.9] * (RATE // 1000)
    return x


def write(path, x):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(x)}h", *[max(-32768, min(32767, round(v * 32767))) for v in x]))


def passes(path, windows):
    r = subprocess.run([sys.executable, os.path.join(HERE, "check_tones.py"), path, "--hears", "660,990",
                        "--not", "440", "--from", "1.0", "--seconds", "1.5", "--absent-below", "-60",
                        "--absent-windows", str(windows)], capture_output=True, text=True)
    print(r.stdout.strip())
    return r.returncode == 0


def main():
    # The click sits in the middle of the median's third window (1.75 s).
    cases = [("clean", mix(), 1, True), ("clean", mix(), 5, True),
             ("click", mix(click_at=1.75), 1, False), ("click", mix(click_at=1.75), 5, True),
             ("own voice at -50 dBm0", mix(own_dbm0=-50), 1, False),
             ("own voice at -50 dBm0", mix(own_dbm0=-50), 5, False),
             ("own voice at -50 dBm0 and a click", mix(own_dbm0=-50, click_at=1.75), 5, False)]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, x, windows, expected in cases:
            path = os.path.join(tmp, "mix.wav")
            write(path, x)
            got = passes(path, windows)
            ok = got == expected
            failed += not ok
            print(f"{'ok' if ok else 'FAILED'}: {name}, {windows} window(s): "
                  f"{'passes' if got else 'fails'} (expected to {'pass' if expected else 'fail'})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
