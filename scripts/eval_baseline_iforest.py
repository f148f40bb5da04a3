#!/usr/bin/python3
"""IsolationForest baseline for `nad eval` (scikit-learn from Debian: python3-sklearn).

usage: eval_baseline_iforest.py TRAIN.csv TEST.csv OUT.txt

TRAIN.csv and TEST.csv: a header of feature names, then one flow per line
(the model's input features after its log1p/linear transforms, as nad eval
writes them). The forest is fitted on TRAIN only, with a fixed seed, and
OUT.txt gets "# <versions>" and then one anomaly score per TEST row, higher
meaning more anomalous (the negated score_samples). Exit status 3 when
scikit-learn or numpy cannot be imported, 2 on bad input.
"""
import sys


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        import numpy as np
        import sklearn
        from sklearn.ensemble import IsolationForest
    except ImportError as e:
        print(f"python3-sklearn is not usable ({e}): install the Debian package python3-sklearn",
              file=sys.stderr)
        return 3
    train_path, test_path, out_path = sys.argv[1:]
    data = []
    for path in (train_path, test_path):
        with open(path) as f:
            header = f.readline().strip().split(",")
        x = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        if x.shape[0] and x.shape[1] != len(header):
            print(f"{path}: {x.shape[1]} columns, header names {len(header)}", file=sys.stderr)
            return 2
        data.append(x.reshape(-1, len(header)))
    train, test = data
    if train.shape[0] < 2:
        print(f"{train_path}: {train.shape[0]} training rows, need at least 2", file=sys.stderr)
        return 2
    # Default settings (100 trees of 256 samples) with a fixed seed, so
    # two runs on the same flows give the same scores.
    forest = IsolationForest(n_estimators=100, random_state=1).fit(train)
    scores = -forest.score_samples(test) if test.shape[0] else np.zeros(0)
    with open(out_path, "w") as f:
        f.write(f"# scikit-learn {sklearn.__version__} IsolationForest, 100 trees, "
                f"fitted on {train.shape[0]} flows\n")
        for s in scores:
            f.write(f"{s:.9g}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
