"""Reading flashpoint output with pandas: an example for notebooks.

Usage: python examples/analysis.py RESULT_DIR [FIGURE.png]

RESULT_DIR is the output of `flashpoint run ... --timeseries DT --out RESULT_DIR`
(see docs/output-files.md for every column). The script

1. loads runs.csv, summary.csv and timeseries_summary.csv;
2. reproduces a number of summary.csv from runs.csv: the mean of every numeric
   column (closure_days among them) agrees to 1e-9;
3. draws the median and 50%/90% bands of each tension over time, saved as a PNG
   (matplotlib's Agg backend: no display needed).

It exits non-zero if a check fails, so CI can run it.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def load(result: Path):
    """The three tables. `keep_default_na=False` keeps empty categories as ''."""
    runs = pd.read_csv(result / "runs.csv")
    summary = pd.read_csv(result / "summary.csv", keep_default_na=False, na_values=[""])
    ts = pd.read_csv(result / "timeseries_summary.csv", parse_dates=["date"])
    return runs, summary, ts


def check_means(runs: pd.DataFrame, summary: pd.DataFrame) -> None:
    """summary.csv's `mean` of each numeric metric is the mean of its runs.csv column."""
    numeric = summary[summary["kind"] == "numeric"]
    for _, row in numeric.iterrows():
        column = runs[row["metric"]]
        finite = column[column.abs() != float("inf")].dropna()
        assert len(finite) == row["n"], (row["metric"], len(finite), row["n"])
        diff = abs(finite.mean() - row["mean"])
        assert diff <= 1e-9 * max(1.0, abs(row["mean"])), (row["metric"], diff)
    closure = numeric.set_index("metric").loc["closure_days", "mean"]
    print(
        f"mean closure_days: runs.csv {runs['closure_days'].mean():.12f}, "
        f"summary.csv {closure:.12f}"
    )
    # A categorical share: the fraction of replications per terminal label.
    shares = runs["terminal"].value_counts(normalize=True)
    terminal = summary[summary["metric"] == "terminal"].set_index("category")["mean"]
    for label, share in shares.items():
        assert abs(share - terminal[label]) <= 1e-12, (label, share, terminal[label])
    print(f"checked {len(numeric)} numeric means and {len(shares)} terminal shares")


def fan_chart(ts: pd.DataFrame, figure: Path) -> None:
    """Median and 50%/90% bands of each tension over time, by calendar date."""
    tensions = [s for s in ts["series"].unique() if s.startswith("tension_")]
    fig, axes = plt.subplots(
        len(tensions), 1, figsize=(8, 2.6 * len(tensions)), sharex=True, squeeze=False
    )
    for ax, name in zip(axes[:, 0], tensions):
        s = ts[ts["series"] == name]
        x = s["date"] if s["date"].notna().all() else s["t"]
        ax.fill_between(x, s["p05"], s["p95"], color="C0", alpha=0.2, label="90% band")
        ax.fill_between(x, s["p25"], s["p75"], color="C0", alpha=0.4, label="50% band")
        ax.plot(x, s["p50"], label="median")
        ax.set_ylabel("tension")
        ax.set_title(name)
    axes[0, 0].legend(loc="upper right")
    axes[-1, 0].set_xlabel("date")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(figure, dpi=100)
    print(f"wrote {figure}")


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    result = Path(argv[1])
    figure = Path(argv[2]) if len(argv) > 2 else result / "tension_fan.png"
    runs, summary, ts = load(result)
    print(f"{len(runs)} replications, {len(summary)} summary rows, {len(ts)} time-series rows")
    check_means(runs, summary)
    fan_chart(ts, figure)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
