#!/usr/bin/env bash
# The Python package in CI (called from .ci/run): a fresh venv under
# target/, `pip install ./python` (maturin builds the wheel from source),
# the pytest suite in python/tests and the examples that use the package
# (EMA Workbench, SALib, and the notebook examples/analysis.ipynb, executed).
# Needs network access to PyPI and the CLI binary ($FLASHPOINT, else
# target/release/flashpoint, built here if absent).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
step() { echo; echo "== python [$((SECONDS / 60))m$((SECONDS % 60))s] $*"; }

export FLASHPOINT="${FLASHPOINT:-target/release/flashpoint}"
if [ ! -x "$FLASHPOINT" ]; then
    step "cargo build --release (the CLI the tests compare with)"
    cargo build --release --locked --no-default-features --features cli
fi
FLASHPOINT="$(cd "$(dirname "$FLASHPOINT")" && pwd)/$(basename "$FLASHPOINT")"

# The venv: $VENV when the caller made one (.ci/run does), else a fresh one.
venv="${VENV:-target/python-venv}"
if [ -z "${VENV:-}" ]; then
    step "fresh venv in $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip

step "pip install ./python (builds the wheel with maturin)"
"$venv/bin/python" -m pip install ./python

step "test and example dependencies"
"$venv/bin/python" -m pip install --quiet pytest tqdm polars pyarrow "ema_workbench>=2.5,<2.6" SALib \
    nbclient nbformat ipykernel matplotlib

step "pytest python/tests"
"$venv/bin/python" -m pytest python/tests

step "examples/ema_workbench.py"
"$venv/bin/python" examples/ema_workbench.py

step "examples/salib.py"
"$venv/bin/python" examples/salib.py

step "examples/analysis.ipynb, executed (examples/run_notebook.py)"
"$venv/bin/python" examples/run_notebook.py examples/analysis.ipynb
