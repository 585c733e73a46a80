#!/usr/bin/env python3
"""Checks that an executable takes each named symbol from a shared library.

usage: undefined_symbols.py EXECUTABLE SYMBOL...

Lists the executable's undefined dynamic symbols (nm -D --undefined-only)
and fails unless every SYMBOL is among them: proof that the object was
compiled to reference those link names (Aculab's decorated names), not the
plain ones.
"""
import subprocess
import sys


def main():
    exe, wanted = sys.argv[1], sys.argv[2:]
    out = subprocess.run(["nm", "-D", "--undefined-only", exe], check=True, capture_output=True, text=True).stdout
    undefined = {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}
    missing = [s for s in wanted if s not in undefined]
    for s in wanted:
        print(f"{s:45} {'referenced' if s not in missing else 'MISSING'}")
    return 1 if missing or not wanted else 0


if __name__ == "__main__":
    sys.exit(main())
