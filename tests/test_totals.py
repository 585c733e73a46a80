#!/usr/bin/env python3
"""Totals of one or more `meson test` runs, counted in test cases.

usage: test_totals.py BUILD_DIR [BUILD_DIR...]

meson counts test programs. A GoogleTest program holds many cases, and a
GTEST_SKIP inside it would count as a pass. So: every test that meson ran
with the gtest protocol (it writes BUILD_DIR/<test name>.xml) counts its
cases from that XML, skips as skips; a program that failed although its XML
shows no failing case (a sanitizer report at exit, a crash, a timeout) adds
one failure; a test without an XML (scripts, the C program) counts as one
case. Prints the failing cases, then one line: "N passed, N failed" and
", N skipped" if any. Exits 1 if anything failed or nothing ran.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

OK_RESULTS = {"OK", "EXPECTEDFAIL"}
SKIP_RESULTS = {"SKIP"}


def gtest_cases(path):
    """(passed, failed, skipped, failing names) from a GoogleTest XML."""
    passed = failed = skipped = 0
    failing = []
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failing.append(name)
        elif (case.get("result") == "skipped" or case.find("skipped") is not None
              or case.get("status") == "notrun"):
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped, failing


def totals(build_dir):
    log = os.path.join(build_dir, "meson-logs", "testlog.json")
    passed = failed = skipped = 0
    failing = []
    if not os.path.exists(log):
        return 0, 1, 0, [f"{build_dir}: no test log (did the build fail?)"]
    with open(log) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    for run in runs:
        name = run["name"]
        short = name.split(" / ", 1)[-1]
        result = run["result"]
        xml = os.path.join(build_dir, short + ".xml")
        if os.path.exists(xml) and os.path.getmtime(xml) + 1 >= run["starttime"]:
            p, f_, s, names = gtest_cases(xml)
            passed, failed, skipped = passed + p, failed + f_, skipped + s
            failing += [f"{name}: {n}" for n in names]
            if result not in OK_RESULTS | SKIP_RESULTS and f_ == 0:
                failed += 1
                failing.append(f"{name}: the program failed ({result}, exit {run.get('returncode')}) "
                               "although no case did")
        elif result in OK_RESULTS:
            passed += 1
        elif result in SKIP_RESULTS:
            skipped += 1
        else:
            failed += 1
            failing.append(f"{name}: {result}")
    if not runs:
        failed += 1
        failing.append(f"{build_dir}: no tests ran")
    return passed, failed, skipped, failing


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    passed = failed = skipped = 0
    failing = []
    for build_dir in argv[1:]:
        p, f, s, names = totals(build_dir)
        passed, failed, skipped = passed + p, failed + f, skipped + s
        failing += names
    for n in failing:
        print(f"FAILED: {n}")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
