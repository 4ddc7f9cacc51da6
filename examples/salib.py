"""Sobol indices of flashpoint outputs by SALib, next to flashpoint's own.

SALib draws Saltelli's design (on a Sobol sequence) over three parameters of
west2025; every design point is a flashpoint run of REPS replications (the
model output is their mean, with common random numbers across points, as
``flashpoint sensitivity`` does) and SALib computes first-order (S1) and
total (ST) indices with bootstrap intervals. ``flashpoint sensitivity
--method sobol:N`` on the same parameters and ranges gives its own; both
sets of 95% intervals are printed, and whether each pair overlaps.

Run from the repository root (needs ``pip install ./python SALib`` and the
CLI binary: $FLASHPOINT, or target/release/flashpoint):

    python examples/salib.py [--n 256] [--reps 50]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from SALib.analyze import sobol
from SALib.sample import sobol as saltelli

import flashpoint as fp

ROOT = pathlib.Path(__file__).resolve().parents[1]
VARY = {"clash_prob": (0.0, 0.2), "half_life": (3.0, 30.0), "incident_gain": (0.0, 0.5)}
# (metric, category): a numeric outcome's mean, a label's share.
METRICS = [("closure_days", None), ("path", "escalation")]


def cli_binary() -> str:
    given = os.environ.get("FLASHPOINT")
    if given:
        return given
    for profile in ("release", "debug"):
        exe = ROOT / "target" / profile / "flashpoint"
        if exe.exists():
            return str(exe)
    sys.exit("no flashpoint binary: build it (cargo build --release) or set FLASHPOINT")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256, help="base samples (a power of 2)")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    path = ROOT / "scenarios" / "west2025.toml"
    scenario = fp.load(path)

    problem = {"num_vars": len(VARY), "names": list(VARY), "bounds": [list(b) for b in VARY.values()]}
    design = saltelli.sample(problem, args.n, calc_second_order=False, seed=args.seed)
    outputs = {m: np.empty(len(design)) for m in METRICS}
    for i, row in enumerate(design):
        runs = scenario.run(reps=args.reps, seed=args.seed, set=dict(zip(VARY, row)), progress=False).runs
        for metric, category in METRICS:
            column = runs[metric]
            outputs[(metric, category)][i] = (column == category).mean() if category else column.mean()

    with tempfile.TemporaryDirectory() as out:
        command = [cli_binary(), "sensitivity", str(path), "--method", f"sobol:{args.n}"]
        command += [f"--vary={name}={lo}:{hi}" for name, (lo, hi) in VARY.items()]
        command += ["--reps", str(args.reps), "--seed", str(args.seed), "--out", out]
        subprocess.run(command, check=True, capture_output=True)
        theirs = pd.read_csv(pathlib.Path(out) / "sensitivity.csv")

    print(f"west2025: Sobol indices over {', '.join(VARY)}; N = {args.n}, {args.reps} replications a point")
    print(f"SALib: {len(design)} points of Saltelli's design; flashpoint sensitivity --method sobol:{args.n}\n")
    overlaps = total = 0
    for metric, category in METRICS:
        Si = sobol.analyze(problem, outputs[(metric, category)], calc_second_order=False, seed=args.seed)
        label = f"{metric}={category}" if category else metric
        print(label)
        print(f"  {'param':<14} {'index':<5} {'SALib 95% interval':>24} {'flashpoint 95% interval':>26}  overlap")
        rows = theirs[(theirs["metric"] == metric)]
        rows = rows[rows["category"] == category] if category else rows
        for j, name in enumerate(VARY):
            for index in ("S1", "ST"):
                est, half = Si[index][j], Si[f"{index}_conf"][j]
                lo, hi = est - half, est + half
                mine = rows[(rows["param"] == name) & (rows["index"] == index)].iloc[0]
                overlap = lo <= mine["ci95_hi"] and mine["ci95_lo"] <= hi
                overlaps += overlap
                total += 1
                print(
                    f"  {name:<14} {index:<5} {est:7.3f} [{lo:6.3f}, {hi:6.3f}]"
                    f"   {mine['estimate']:7.3f} [{mine['ci95_lo']:6.3f}, {mine['ci95_hi']:6.3f}]  "
                    f"{'yes' if overlap else 'NO'}"
                )
        print()
    print(f"{overlaps} of {total} interval pairs overlap")
    if overlaps < total:
        sys.exit(1)


if __name__ == "__main__":
    main()
