#!/usr/bin/env bash
# Runs the pandas example end to end, for CI:
#   examples/run_example.sh [WORK_DIR]
# creates a venv in WORK_DIR (default: target/example), installs
# examples/requirements.txt, makes a small fresh run with --timeseries and runs
# examples/analysis.py on it. Set FLASHPOINT to use a built binary instead of
# `cargo run --release`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$root/target/example}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
python="${PYTHON:-python3}"
if [ ! -x "$work/venv/bin/python" ]; then
    "$python" -m venv "$work/venv"
fi
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$root/examples/requirements.txt"
cd "$root"
if [ -n "${FLASHPOINT:-}" ]; then
    fp=("$FLASHPOINT")
else
    fp=(cargo run --quiet --release --)
fi
rm -rf "$work/result"
"${fp[@]}" run scenarios/west2025.toml --reps 500 --seed 42 --timeseries 1 --timeseries-reps 5 \
    --quiet --out "$work/result" > /dev/null
"$work/venv/bin/python" examples/analysis.py "$work/result" "$work/tension_fan.png"
