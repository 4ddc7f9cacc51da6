"""flashpoint as an EMA Workbench model: scenario discovery with PRIM.

The west2025 scenario is wrapped as an EMA ``Model`` whose uncertainties are
the scenario's declared parameter bounds and whose outcomes are its
outcomes (the mean of each numeric one, the share of each label of a
categorical one). 1000 Latin hypercube experiments, each a flashpoint run of
REPS replications, then PRIM finds the parameter region where the share of
escalation paths exceeds 5%, and prints the box with its coverage and density.

Run from the repository root (needs ``pip install ./python "ema_workbench>=2.5,<2.6"``):

    python examples/ema_workbench.py [--experiments 1000] [--reps 200]
"""

from __future__ import annotations

import argparse
import logging
import math
import pathlib
import warnings

import sys

# This file is named after the package it demonstrates: take its own folder
# off the import path, or `import ema_workbench` would import this file.
HERE = pathlib.Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != HERE]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import flashpoint as fp  # noqa: E402

warnings.filterwarnings("ignore", message="ipyparallel not installed")
from ema_workbench import Model, RealParameter, Samplers, ScalarOutcome, perform_experiments
from ema_workbench.analysis import prim  # noqa: E402

ROOT = HERE.parent


def flashpoint_model(scenario: fp.Scenario, reps: int, seed: int) -> Model:
    """The scenario as an EMA model: uncertainties from every parameter with
    finite bounds, a scalar outcome per numeric outcome (its mean) and per
    label of a categorical one (its share)."""
    bounded = {
        name: p for name, p in scenario.params.items() if math.isfinite(p["min"]) and math.isfinite(p["max"])
    }
    outcomes = []
    for name in scenario.outcomes:
        labels = scenario.columns[name]
        outcomes += [name] if labels is None else [f"{name}_{label}" for label in labels]

    def run(**values: float) -> dict:
        runs = scenario.run(reps=reps, seed=seed, set=values, progress=False).runs
        out = {}
        for name in scenario.outcomes:
            labels = scenario.columns[name]
            if labels is None:
                out[name] = float(runs[name].mean())
            else:
                shares = runs[name].value_counts(normalize=True)
                out.update({f"{name}_{label}": float(shares[label]) for label in labels})
        return out

    model = Model(scenario.name, function=run)
    model.uncertainties = [RealParameter(name, p["min"], p["max"]) for name, p in bounded.items()]
    model.outcomes = [ScalarOutcome(name) for name in outcomes]
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "west2025.toml"))
    ap.add_argument("--experiments", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=200, help="replications per experiment")
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args()
    logging.getLogger("EMA").setLevel(logging.WARNING)

    scenario = fp.load(args.scenario)
    model = flashpoint_model(scenario, args.reps, args.seed)
    np.random.seed(args.seed)  # EMA's LHS draws from numpy's global generator
    experiments, outcomes = perform_experiments(model, scenarios=args.experiments, uncertainty_sampling=Samplers.LHS)
    names = [u.name for u in model.uncertainties]
    x = experiments[names]
    escalation = np.asarray(outcomes["path_escalation"])
    y = escalation > 0.05
    print(
        f"{scenario.name}: {len(x)} LHS experiments x {args.reps} replications over "
        f"{len(names)} uncertain parameters; escalation share > 5% in {y.mean():.1%} of them"
    )

    finder = prim.Prim(x, y, threshold=0.8, peel_alpha=0.1)
    box = finder.find_box()
    chosen = box.peeling_trajectory.iloc[box._cur_box]
    print(f"\nPRIM box {box._cur_box} of the peeling trajectory: "
          f"coverage {chosen['coverage']:.3f}, density {chosen['density']:.3f}, "
          f"mass {chosen['mass']:.3f}, restricted dimensions {int(chosen['res_dim'])}")
    limits = box.box_lims[box._cur_box]
    restricted = [n for n in names if (limits[n][0], limits[n][1]) != (x[n].min(), x[n].max())]
    table = pd.DataFrame(
        {
            "min": [limits[n][0] for n in restricted],
            "max": [limits[n][1] for n in restricted],
            "declared_min": [scenario.params[n]["min"] for n in restricted],
            "declared_max": [scenario.params[n]["max"] for n in restricted],
        },
        index=pd.Index(restricted, name="parameter"),
    )
    with pd.option_context("display.width", 120):
        print(table.to_string(float_format=lambda v: f"{v:.4g}"))
    print("\nThe peeling trajectory's last boxes:")
    with pd.option_context("display.width", 120):
        print(box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].tail(5).to_string())


if __name__ == "__main__":
    main()
