#!/usr/bin/env python3
"""Runs flashpoint, the hand-written Rust floor and the SimPy reference model
of scenarios/west2025.toml side by side on this machine, and prints

* replications/s and events/s of each (single thread; flashpoint also on 2
  threads), and the ratios; the floor also runs with --contract (one stream
  per source of randomness and libm, as docs/design.md asks of the engine), which
  splits the engine's distance to the floor into the price of the
  determinism contract and the price of the scenario language;
* the agreement of the main outcomes (path shares, closure_days, reopen_day,
  n_incidents, ...): each model's mean with its standard error, and the
  z-score of each difference, z = (a - b) / sqrt(se_a^2 + se_b^2). With the
  same model, |z| > 3 should be rare (about 1 in 370 per metric).

The machine may be shared: timings are repeated (--rounds), interleaved, and
each ratio is shown two ways: between the best rounds of the two models, and
as the median (and range) of the ratios within each round, where both were
timed a few seconds apart. Trust the ratios more than the absolute rates.

Usage (from the repository root, with SimPy installed, see
benches/reference/requirements.txt):

    python3 benches/compare.py [--reps 200000] [--simpy-reps 20000] [--rounds 3]
"""

import argparse
import csv
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIO = os.path.join(ROOT, "scenarios", "west2025.toml")
ENGINE = os.path.join(ROOT, "target", "release", "flashpoint")
FLOOR = os.path.join(ROOT, "target", "release", "examples", "floor")
SIMPY = os.path.join(ROOT, "benches", "reference", "west2025_simpy.py")

# Outcomes compared: name in the models' JSON -> (metric, category) in summary.csv.
METRICS = {
    "path=escalation": ("path", "escalation"),
    "path=dialogue": ("path", "dialogue"),
    "path=entrenchment": ("path", "entrenchment"),
    "closure_days": ("closure_days", ""),
    "reopen_day": ("reopen_day", ""),
    "n_incidents": ("n_incidents", ""),
    "observed_like": ("observed_like", ""),
    "n_events": ("n_events", ""),
    "count_border_close": ("count_border_close", ""),
    "count_talks": ("count_talks", ""),
    "count_raise_alert": ("count_raise_alert", ""),
    "tension_POL_BLR_final": ("tension_POL_BLR_final", ""),
}


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def engine_speed(reps, threads, seed):
    """(reps/s, events/s) as the run command reports them (no --out)."""
    out = run([ENGINE, "run", SCENARIO, "--reps", str(reps), "--threads", str(threads),
               "--seed", str(seed)])
    m = re.search(r"\(([\d.]+) replications/s, ([\d.]+) events/s\)", out)
    return float(m.group(1)), float(m.group(2))


def engine_metrics(reps, seed):
    with tempfile.TemporaryDirectory() as out:
        run([ENGINE, "run", SCENARIO, "--reps", str(reps), "--seed", str(seed), "--out", out])
        with open(os.path.join(out, "summary.csv")) as f:
            rows = {(r["metric"], r["category"]): r for r in csv.DictReader(f)}
    return {name: {"mean": float(rows[key]["mean"]), "se": float(rows[key]["se"])}
            for name, key in METRICS.items()}


def speed(summary):
    return summary["reps"] / summary["seconds"], summary["events"] / summary["seconds"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200_000, help="flashpoint and floor replications")
    parser.add_argument("--simpy-reps", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds (best kept)")
    parser.add_argument("--python", default=sys.executable, help="a Python with simpy and numpy")
    args = parser.parse_args()

    print("building the release binary and the floor ...", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "flashpoint",
                    "--example", "floor"], check=True, cwd=ROOT)

    keys = ("engine1", "engine2", "floor", "contract", "simpy")
    rounds = {k: [] for k in keys}  # (reps/s, events/s) per round
    floor_summary = simpy_summary = None
    for r in range(args.rounds):
        print(f"timing round {r + 1}/{args.rounds} ...", file=sys.stderr)
        timings = {
            "engine1": engine_speed(args.reps, 1, 1000 + r),
            "engine2": engine_speed(args.reps, 2, 1000 + r),
        }
        floor_summary = json.loads(run([FLOOR, "--reps", str(args.reps), "--seed", str(2000 + r),
                                        "--json"]))
        timings["floor"] = speed(floor_summary)
        timings["contract"] = speed(json.loads(run([FLOOR, "--reps", str(args.reps), "--seed",
                                                    str(2000 + r), "--json", "--contract"])))
        simpy_summary = json.loads(run([args.python, SIMPY, "--reps", str(args.simpy_reps),
                                        "--seed", str(3000 + r), "--json"]))
        timings["simpy"] = speed(simpy_summary)
        for k, v in timings.items():
            rounds[k].append(v)
    best = {k: max(v) for k, v in rounds.items()}

    print(f"\nwest2025, single thread unless stated; best of {args.rounds} interleaved rounds")
    print(f"{'model':28} {'reps/s':>12} {'events/s':>14}   reps/s of each round")
    labels = {"engine1": "flashpoint (1 thread)", "engine2": "flashpoint (2 threads)",
              "floor": "hand-written Rust floor",
              "contract": "floor under the contract", "simpy": "SimPy reference"}
    for k, label in labels.items():
        each = " ".join(f"{x:.0f}" for x, _ in rounds[k])
        print(f"{label:28} {best[k][0]:12.0f} {best[k][1]:14.0f}   {each}")

    def ratio(a, b):
        """(ratio of the best rates, median and range of the per-round ratios)."""
        per_round = sorted(x[0] / y[0] for x, y in zip(rounds[a], rounds[b]))
        return best[a][0] / best[b][0], statistics.median(per_round), per_round[0], per_round[-1]

    print("\nratios (reps/s)                  best   round median (min-max)   target")
    for label, a, b, fmt, target in [
        ("flashpoint / SimPy", "engine1", "simpy", ".1f", ">= 60x"),
        ("flashpoint / floor", "engine1", "floor", ".2f", ">= 0.6x"),
        ("flashpoint 2 threads / 1", "engine2", "engine1", ".2f", ">= 1.9x"),
        ("floor under contract / floor", "contract", "floor", ".2f", "(per-source streams, libm)"),
        ("flashpoint / floor under contract", "engine1", "contract", ".2f", "(the scenario language)"),
    ]:
        b_, med, lo, hi = ratio(a, b)
        spread = f"{med:{fmt}}x ({lo:{fmt}}-{hi:{fmt}})"
        print(f"{label:33} {b_:{fmt}}x   {spread:>22}   {target}")
    print("(the last two: a decomposition of the distance to the floor, no target)")

    engine = engine_metrics(args.reps, 1)
    print(f"\nagreement: mean (standard error); z = difference / combined SE")
    print(f"{'metric':24} {'flashpoint':>20} {'SimPy':>20} {'z':>6} {'floor':>20} {'z':>6}")
    worst = 0.0
    for name in METRICS:
        a, b, c = engine[name], simpy_summary["metrics"][name], floor_summary["metrics"][name]

        def z(x, y):
            se = math.hypot(x["se"], y["se"])
            return (x["mean"] - y["mean"]) / se if se > 0 else 0.0

        zs, zf = z(a, b), z(a, c)
        worst = max(worst, abs(zs), abs(zf))
        cell = lambda m: f"{m['mean']:.4f} ({m['se']:.4f})"
        print(f"{name:24} {cell(a):>20} {cell(b):>20} {zs:6.2f} {cell(c):>20} {zf:6.2f}")
    n = 2 * len(METRICS)
    print(f"\nlargest |z| = {worst:.2f} over {n} comparisons "
          f"({'agree' if worst < 3.5 else 'CHECK: a difference beyond Monte Carlo error'})")


if __name__ == "__main__":
    main()
