#!/usr/bin/python3
"""gen_flows.py - synthetic `nad flows` CSV with learnable structure.

Every model feature is a noisy function of three hidden factors (flow size,
rate, "kind"), so an autoencoder can compress them; counts are heavy tailed
like real ones. Usage: gen_flows.py NAD ROWS SEED OUT [--nan ROW] [--drop NAME]
"""
import subprocess
import sys

import numpy as np


def feature_names(nad):
    out = subprocess.run([nad, "flows", "--list-features"], check=True,
                         capture_output=True, text=True).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.split()[3:4] == ["model"]]


def main():
    nad, rows, seed, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    nan_row = int(sys.argv[sys.argv.index("--nan") + 1]) if "--nan" in sys.argv else -1
    drop = sys.argv[sys.argv.index("--drop") + 1] if "--drop" in sys.argv else None
    names = feature_names(nad)
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(rows, 3))
    mix = rng.normal(size=(3, len(names)))
    x = np.exp(1.5 + z @ mix * 0.8 + 0.05 * rng.normal(size=(rows, len(names))))
    cols = [n for n in names if n != drop]
    ident = ["first_ts", "last_ts", "src_addr", "src_port", "dst_addr", "dst_port", "proto"]
    with open(out, "w") as f:
        f.write(",".join(ident + cols) + "\n")
        for r in range(rows):
            ts = 1700000000.0 + r
            vals = ["%.6f" % ts, "%.6f" % (ts + 1), "10.0.0.2", "40000", "10.0.0.1", "443", "6"]
            for c, n in enumerate(names):
                if n == drop:
                    continue
                vals.append("nan" if r == nan_row and c == 3 else "%.6g" % x[r, c])
            f.write(",".join(vals) + "\n")


if __name__ == "__main__":
    main()
