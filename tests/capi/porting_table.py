#!/usr/bin/env python3
"""Keeps the call table of docs/porting.md true.

usage: porting_table.py PORTING_MD INCLUDE_DIR LIBRARY [INCLUDE_DIR LIBRARY...]

Reads the table between the porting-table markers (call, header, state,
notes) and checks it against the public headers and the library that
provides them (libprosody's; libprosody-vmp's for the RTP headers):
- a provided call ("yes" or "differs") is declared in the header its row
  names (directly, or as a #define to a declared name, as res_lib.h maps
  acu_open_card to acu_open_card_65), and the library exports it;
- a call marked "no" is declared in no header;
- every call the Aculab-named headers (all but prosody_sw.h) declare has a
  row, and no call has two.
Prints the counts; exits 1 on any mismatch.
"""
import os
import re
import subprocess
import sys

STATES = {"yes", "differs", "no"}
CALL = re.compile(r"\b((?:sm|smd|acu)_[a-z0-9_]+)\s*\(")
DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(\w+)\s*$", re.M)


def table_rows(path):
    text = open(path, encoding="utf-8").read()
    begin, end = text.index("<!-- porting-table begin -->"), text.index("<!-- porting-table end -->")
    rows = []
    for line in text[begin:end].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        rows.append((cells[0].strip("`"), cells[1], cells[2]))
    return rows


def header_declarations(include_dir):
    """{header: (declared calls, {macro: target})}"""
    out = {}
    for name in sorted(os.listdir(include_dir)):
        if not name.endswith(".h"):
            continue
        text = open(os.path.join(include_dir, name), encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        macros = dict(DEFINE.findall(text))
        calls = {m for m in CALL.findall(text) if not re.search(r"#\s*define\s+" + m + r"\b", text)}
        out[name] = (calls, macros)
    return out


def exported(library):
    out = subprocess.run(["nm", "-D", "--defined-only", library], check=True, capture_output=True, text=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def main():
    md, pairs = sys.argv[1], sys.argv[2:]
    if not pairs or len(pairs) % 2:
        sys.exit(__doc__)
    rows = table_rows(md)
    headers = {}  # header: (calls, macros, what its library exports)
    for include_dir, library in zip(pairs[::2], pairs[1::2]):
        symbols = exported(library)
        for name, (calls, macros) in header_declarations(include_dir).items():
            headers[name] = (calls, macros, symbols)
    declared_anywhere = set().union(*(calls for calls, _, _ in headers.values()))
    errors = []
    seen = set()
    for call, header, state in rows:
        if call in seen:
            errors.append(f"{call}: two rows")
        seen.add(call)
        if state not in STATES:
            errors.append(f"{call}: state '{state}' is none of {sorted(STATES)}")
            continue
        if state == "no":
            if call in declared_anywhere:
                errors.append(f"{call}: marked no, but a header declares it (update the table)")
            continue
        if header not in headers:
            errors.append(f"{call}: no header {header}")
            continue
        calls, macros, symbols = headers[header]
        name = call if call in calls else macros.get(call)
        if name not in calls:
            errors.append(f"{call}: marked {state}, but {header} does not declare it")
        elif name not in symbols:
            errors.append(f"{call}: declared as {name}, but the library does not export it")
    tabled = {r[0] for r in rows}
    for header, (calls, macros, _) in headers.items():
        if header in ("prosody_sw.h", "prosody_vmp.h"):
            continue  # our extensions, listed in their own sections
        mapped = {target: macro for macro, target in macros.items()}
        for call in sorted(calls):
            if call not in tabled and mapped.get(call) not in tabled:
                errors.append(f"{call}: declared in {header} but not in the table")
    provided = sum(1 for r in rows if r[2] in ("yes", "differs"))
    print(f"{len(rows)} calls in the table: {provided} provided, {len(rows) - provided} not")
    for e in errors:
        print("MISMATCH:", e)
    return 1 if errors or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
