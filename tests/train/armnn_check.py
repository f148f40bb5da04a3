#!/usr/bin/python3
"""armnn_check.py - models written by nad load in ArmNN and agree with nad.

1. train_export (nad's training code, built for tests) writes float32 and
   int8 (per-channel, per-tensor) models plus the outputs nad's own
   arithmetic gives for 64 vectors; ArmNN must agree: float within 1e-4,
   int8 within one quantisation step for one layer (ArmNN requantises
   through float, nad follows TFLite's integer kernel exactly); through
   four layers such steps can add up, so >= 98% within one step and none
   beyond two. Per-channel int8 files crash
   ArmNN 22 (an ArmNN limitation), so they are checked against nad's
   integer kernel only, exactly.
2. `nad train` writes float and int8 models from synthetic flows; ArmNN must
   load and run them, and once `nad model run` exists its outputs must agree
   with ArmNN's in the same way.

usage: armnn_check.py --nad NAD --export TRAIN_EXPORT --work DIR
"""
import argparse
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import armnn  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def load(path, dtype):
    return np.loadtxt(path, dtype=dtype, ndmin=2)


def armnn_outputs(model_path, inputs):
    m = armnn.Model(model_path)
    return np.stack([m.run(v) for v in inputs])


def nad_model_run(nad, model, inputs, raw):
    """Outputs of `nad model run`, or None if that command is not built."""
    text = "\n".join(" ".join(str(x) for x in row) for row in inputs) + "\n"
    cmd = [nad, "model", "run", model] + (["--raw"] if raw else [])
    p = subprocess.run(cmd, input=text, capture_output=True, text=True)
    if p.returncode != 0:
        if "not built yet" in p.stderr:
            return None
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr.strip()))
    return np.array([[float(t) for t in ln.replace(",", " ").split()]
                     for ln in p.stdout.splitlines() if ln.strip()])


def compare(name, got, want, tol):
    diff = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - want)))
    check(got.shape == want.shape and diff <= tol,
          "%s: max |diff| %.3g <= %g over %d values" % (name, diff, tol, want.size))


def deep_compare(name, got, want):
    d = np.abs(np.asarray(got, dtype=np.float64) - want)
    within = float(np.mean(d <= 1))
    check(got.shape == want.shape and d.max() <= 2 and within >= 0.98,
          "%s: %.2f%% within one step, max %d (<= 2)" % (name, 100 * within, d.max()))


def exported(args):
    subprocess.run([args.export, args.work], check=True)
    w = args.work
    inputs = load(os.path.join(w, "inputs.txt"), np.float32)
    want = load(os.path.join(w, "float_out.txt"), np.float64)
    got = armnn_outputs(os.path.join(w, "float.tflite"), inputs)
    compare("float32: ArmNN vs nad training forward", got, want, 1e-4)
    nad = nad_model_run(args.nad, os.path.join(w, "float.tflite"), inputs, False)
    if nad is not None:
        compare("float32: ArmNN vs nad model run", got, nad, 1e-4)
    # One layer: ArmNN rounds a float product, TFLite a fixed-point one, so
    # an output may differ by one step, never more.
    tag = "int8_1l"
    qin = load(os.path.join(w, tag + "_in.txt"), np.int8)
    want = load(os.path.join(w, tag + "_out.txt"), np.float64)
    got = armnn_outputs(os.path.join(w, tag + ".tflite"), qin)
    compare("%s: ArmNN vs nad integer kernel (raw int8)" % tag, got, want, 1)
    nad = nad_model_run(args.nad, os.path.join(w, tag + ".tflite"), qin, True)
    if nad is not None:
        compare("%s: ArmNN vs nad model run --raw" % tag, got, nad, 1)
        compare("%s: nad model run --raw vs nad integer kernel" % tag, nad, want, 0)
    # Four layers: a one-step difference in a hidden layer can move a later
    # output by two; require nearly all within one step, none beyond two.
    tag = "int8_pt"
    qin = load(os.path.join(w, tag + "_in.txt"), np.int8)
    want = load(os.path.join(w, tag + "_out.txt"), np.float64)
    got = armnn_outputs(os.path.join(w, tag + ".tflite"), qin)
    deep_compare("%s: ArmNN vs nad integer kernel (raw int8)" % tag, got, want)
    nad = nad_model_run(args.nad, os.path.join(w, tag + ".tflite"), qin, True)
    if nad is not None:
        deep_compare("%s: ArmNN vs nad model run --raw" % tag, got, nad)
        compare("%s: nad model run --raw vs nad integer kernel" % tag, nad, want, 0)
    # ArmNN 22's CpuRef aborts on per-channel FULLY_CONNECTED weights
    # (GetBiasTypeFromWeightsType), so per-channel files are held against
    # nad's integer kernel only: both follow TFLite's arithmetic exactly.
    tag = "int8_pc"
    qin = load(os.path.join(w, tag + "_in.txt"), np.int8)
    want = load(os.path.join(w, tag + "_out.txt"), np.float64)
    nad = nad_model_run(args.nad, os.path.join(w, tag + ".tflite"), qin, True)
    if nad is not None:
        compare("%s: nad model run --raw vs nad integer kernel" % tag, nad, want, 0)


def trained(args):
    here = os.path.dirname(os.path.abspath(__file__))
    csv = os.path.join(args.work, "flows.csv")
    subprocess.run([sys.executable, os.path.join(here, "gen_flows.py"), args.nad, "600", "11", csv],
                   check=True)
    rng = np.random.default_rng(5)
    for tag, extra in (("float", []), ("int8", ["--int8"])):
        model = os.path.join(args.work, "trained_%s.tflite" % tag)
        subprocess.run([args.nad, "train", "--quiet", "--input", csv, "--out", model,
                        "--epochs", "15", "--seed", "4"] + extra, check=True)
        m = armnn.Model(model)
        n = m.ib[1].GetShape()[1]
        if m.int8:
            inputs = rng.integers(-128, 128, size=(16, n)).astype(np.int8)
        else:
            inputs = rng.normal(size=(16, n)).astype(np.float32)
        got = np.stack([m.run(v) for v in inputs])
        check(got.shape == (16, n) and np.all(np.isfinite(got)),
              "nad train %s: ArmNN loads and runs the model" % tag)
        nad = nad_model_run(args.nad, model, inputs, m.int8)
        if nad is not None:
            if m.int8:
                deep_compare("nad train %s: ArmNN vs nad model run" % tag, got, nad)
            else:
                compare("nad train %s: ArmNN vs nad model run" % tag, got, nad, 1e-4)
        else:
            print("skip nad train %s: nad model run not built yet" % tag)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nad", required=True)
    ap.add_argument("--export", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    exported(args)
    trained(args)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
