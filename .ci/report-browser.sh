#!/usr/bin/env bash
# The HTML report in a real browser: `flashpoint report` on a traced run
# with time series and on a sweep, each page opened in headless Chromium
# (Debian's `chromium`). Fails on any console message (the page has no
# script, so any is an error), on a page whose rendered DOM lacks its
# sections or charts, or on a missing screenshot. The screenshots are kept
# as CI artifacts: target/ci-artifacts/report-run.png and report-sweep.png.
#
#   bash .ci/report-browser.sh [path/to/flashpoint]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/flashpoint}
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "report-browser: chromium is not installed (apt-get install chromium)"; exit 1
fi
work=target/report-browser
artifacts=target/ci-artifacts
rm -rf "$work"
mkdir -p "$work" "$artifacts"

"$bin" run scenarios/west2025.toml --reps 500 --seed 11 --trace 3 \
    --timeseries 1 --timeseries-reps 3 --quiet --out "$work/run" >/dev/null
"$bin" sweep scenarios/west2025.toml --vary close_prob=0,0.5,1 --vary talks_prob=0.2,0.8 \
    --reps 100 --seed 11 --quiet --out "$work/sweep" >/dev/null

# One headless Chromium, bounded in time, on a local file; never the network.
chrome() {
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --no-first-run --disable-extensions --disable-background-networking \
        --enable-logging=stderr --v=0 "$@"
}

for kind in run sweep; do
    "$bin" report "$work/$kind" --force >/dev/null
    page="file://$(pwd)/$work/$kind/report.html"
    chrome --dump-dom "$page" >"$work/$kind.dom" 2>"$work/$kind.log"
    if grep -E ':CONSOLE|Uncaught' "$work/$kind.log"; then
        echo "report-browser: $kind: console messages above"; exit 1
    fi
    for id in about scenario parameters outcomes charts manifest; do
        grep -q "<section id=\"$id\">" "$work/$kind.dom" ||
            { echo "report-browser: $kind: the rendered page has no section $id"; exit 1; }
    done
    charts=$(grep -o '<svg class="chart ' "$work/$kind.dom" | wc -l)
    [ "$charts" -ge 2 ] || { echo "report-browser: $kind: $charts charts rendered"; exit 1; }
    if [ "$kind" = run ]; then
        grep -q '<section id="timeline">' "$work/$kind.dom" ||
            { echo "report-browser: run: no timeline"; exit 1; }
    fi
    shot="$artifacts/report-$kind.png"
    rm -f "$shot"
    chrome --window-size=1280,4000 --screenshot="$shot" "$page" >/dev/null 2>>"$work/$kind.log"
    [ -s "$shot" ] && [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        { echo "report-browser: $kind: no PNG screenshot"; exit 1; }
    echo "report-browser: $kind: $charts charts, no console message; screenshot $shot"
done
