#!/bin/bash
# Usage: scripts/same-outputs.sh OLD_BINARY NEW_BINARY
# Runs the same run, sweep (grid; LHS shard with time series), compare,
# paths, sensitivity, plot and validate with both binaries on
# scenarios/west2025.toml and compares every output file (all but the
# manifests, which record times and commands) and every printed report
# (without its timing line) byte for byte. Exit 0 when all are identical.
set -u
cd "$(dirname "$0")/.."
old=$1 new=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for b in "$old" "$new"; do
  n=$([ "$b" = "$old" ] && echo old || echo new)
  $b run scenarios/west2025.toml --reps 300 --out $work/run-$n --timeseries 5 --trace 2 --tie-audit | grep -v "replications/s\|^wrote" >$work/run-$n.txt
  $b sweep scenarios/west2025.toml --vary close_prob=0.1,0.5 --design grid --reps 100 --out $work/sw-$n --quiet > /dev/null
  $b sweep scenarios/west2025.toml --vary close_prob --design lhs:3 --reps 50 --shard 1/2 --timeseries 10 --out $work/sh-$n --quiet > /dev/null
  $b compare scenarios/west2025.toml --b close_prob=0.5 --reps 200 --out $work/cmp-$n | grep -v "^wrote" > $work/cmp-$n.txt
  $b paths scenarios/west2025.toml --reps 200 --out $work/paths-$n | grep -v "^wrote" > $work/paths-$n.txt
  $b sensitivity scenarios/west2025.toml --vary close_prob=0.1:0.5 --vary incident_gain=0:0.3 --method morris:4 --reps 20 --bootstrap 100 --out $work/sens-$n | grep -v "^wrote" > $work/sens-$n.txt
  $b plot $work/run-$n --out $work/plot-$n.svg > /dev/null
  $b validate scenarios/west2025.toml > $work/validate-$n.txt
done
bad=0
for d in run sw sh cmp paths sens; do
  for f in $(cd $work/$d-old && ls | grep -v manifest.json); do
    cmp -s $work/$d-old/$f $work/$d-new/$f || { echo "DIFF $d/$f"; bad=1; }
  done
done
for t in run cmp paths sens validate; do cmp -s $work/$t-old.txt $work/$t-new.txt || { echo "DIFF stdout $t"; bad=1; }; done
cmp -s $work/plot-old.svg $work/plot-new.svg || { echo "DIFF plot"; bad=1; }
[ $bad = 0 ] && echo "all outputs identical"
exit $bad
