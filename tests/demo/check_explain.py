#!/usr/bin/env python3
"""Explanations say honestly where a value sits: every "X is V unit
(typical LO to HI...)" clause of every incident on the bundled demo must carry
", usual alone but not with the rest" exactly when LO <= V <= HI, and at
least one clause of each kind must occur (so the check cannot pass empty).

Usage: check_explain.py NAD SOURCE_DIR
"""
import json
import re
import subprocess
import sys

CLAUSE = re.compile(r"(?:^|; )(\w+) is (-?[\d.e+]+) [^(;]*\(typical (-?[\d.e+]+)(?: to (-?[\d.e+]+))?(, usual alone but not with the rest)?\)")


def main():
    nad, src = sys.argv[1], sys.argv[2]
    out = subprocess.run([nad, "detect", "-r", f"{src}/data/demo/demo.pcap", "-m", f"{src}/data/demo/model.tflite",
                          "--json", "--min-level", "low"], capture_output=True, text=True, check=True).stdout
    seen = {True: 0, False: 0}
    for inc in json.loads(out)["incidents"]:
        text = inc["explanation"].split(". ")[0]
        clauses = CLAUSE.findall(text)
        if not clauses:
            sys.exit(f"no clause parsed in explanation: {text!r}")
        for name, v, lo, hi, flag in clauses:
            v, lo = float(v), float(lo)
            hi = float(hi) if hi else lo
            inside = lo <= v <= hi
            if v in (lo, hi):
                continue  # printed to 3 digits: a value on a bound may be either side of it
            if inside != bool(flag):
                sys.exit(f"{name}={v} typical {lo}..{hi}: in-range marker {'missing' if inside else 'wrong'} in {text!r}")
            seen[inside] += 1
    if not seen[True] or not seen[False]:
        sys.exit(f"expected both in-range and out-of-range clauses on the demo, saw {seen}")
    print(f"ok: {seen[False]} out-of-range and {seen[True]} in-range clauses consistent")


if __name__ == "__main__":
    main()
