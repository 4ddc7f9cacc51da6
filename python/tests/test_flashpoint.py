"""The Python package against the library's own behaviour and the CLI's files."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

import flashpoint as fp

from conftest import TINY, WEST


def test_a_scenario_shows_its_params_actors_events_and_columns():
    s = fp.Scenario.from_string(TINY, name="tiny.toml")
    assert s.name == "tiny"
    assert s.path == "tiny.toml"
    assert s.params == {"rate": {"value": 2.0, "min": 0.0, "max": 10.0, "doc": "pings per unit time"}}
    assert s.actors == [fp.Actor("A", "Alpha")]
    assert s.events == [fp.Event("ping", "a ping", None, False)]
    assert list(s.columns)[0] == "pings"
    assert s.outcomes == ["pings"]
    assert s.columns["terminal"] == ["horizon"]
    assert s.columns["pings"] is None


def test_a_run_gives_the_same_runs_csv_as_the_cli(cli, tmp_path):
    out = tmp_path / "run"
    subprocess.run(
        [str(cli), "run", str(WEST), "--reps", "200", "--seed", "7", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    r = fp.load(WEST).run(reps=200, seed=7, progress=False)
    csv = pd.read_csv(out / "runs.csv")
    runs = r.runs
    assert list(runs.columns) == list(csv.columns)
    assert runs.columns[0] == "rep"
    assert len(runs) == 200
    for name in csv.columns:
        mine, theirs = runs[name], csv[name]
        if isinstance(mine.dtype, pd.CategoricalDtype):
            assert list(mine.astype(str)) == list(theirs.astype(str)), name
        else:
            # Bit for bit: the CSV holds shortest round-trip decimals.
            np.testing.assert_array_equal(mine.to_numpy(), theirs.to_numpy(dtype=float), err_msg=name)
    # And the summary is summary.csv's.
    summary = pd.read_csv(out / "summary.csv")
    mine = r.summary
    assert list(mine.columns) == list(summary.columns)
    assert list(mine["metric"]) == list(summary["metric"])
    assert list(mine["category"].fillna("")) == list(summary["category"].fillna(""))
    for c in ["n", "mean", "sd", "se", "ci95_lo", "ci95_hi", "p05", "p50", "p95"]:
        np.testing.assert_array_equal(mine[c].to_numpy(dtype=float), summary[c].to_numpy(dtype=float), err_msg=c)
    manifest = json.loads((out / "manifest.json").read_text())
    written = r.write(tmp_path / "written")
    for name in ["runs.csv", "summary.csv"]:
        assert (written / name).read_bytes() == (out / name).read_bytes(), name
    theirs = json.loads((written / "manifest.json").read_text())
    for key in ["created", "command"]:
        theirs.pop(key), manifest.pop(key)
    assert theirs == manifest
    assert r.manifest["params"] == manifest["params"]
    assert r.manifest["scenario"]["sha256"] == manifest["scenario"]["sha256"]
    assert (r.manifest["seed"], r.manifest["reps"]) == (manifest["seed"], manifest["reps"])


def test_the_numbers_do_not_depend_on_the_threads():
    s = fp.load(WEST)
    one = s.run(reps=600, seed=3, threads=1, progress=False).runs
    three = s.run(reps=600, seed=3, threads=3, progress=False).runs
    pd.testing.assert_frame_equal(one, three)


def test_categorical_columns_carry_the_labels_in_order():
    s = fp.load(WEST)
    r = s.run(reps=300, seed=1, progress=False)
    path = r.runs["path"]
    assert isinstance(path.dtype, pd.CategoricalDtype)
    assert list(path.cat.categories) == s.columns["path"]
    assert list(path.cat.categories)[0] == "escalation"
    assert r.runs["rep"].tolist() == list(range(300))
    shares = r.summary[r.summary["metric"] == "path"].set_index("category")["mean"]
    counts = path.value_counts(normalize=True)
    for label in s.columns["path"]:
        assert shares[label] == pytest.approx(counts[label], abs=1e-15)


def test_overrides_change_the_run_and_are_recorded():
    s = fp.Scenario.from_string(TINY)
    r = s.run(reps=500, seed=42, set={"rate": 3.0}, progress=False)
    assert r.manifest["set"] == {"rate": 3.0}
    assert r.manifest["params"] == {"rate": 3.0}
    mean = r.runs["pings"].mean()
    assert abs(mean - 30.0) < 4.0 * (30.0 / 500) ** 0.5


def test_the_default_seed_is_the_scenarios():
    s = fp.load(WEST)
    a = s.run(reps=50, progress=False)
    b = s.run(reps=50, seed=s.seed, progress=False)
    assert a.manifest["seed"] == s.seed
    pd.testing.assert_frame_equal(a.runs, b.runs)


def test_a_bad_scenario_raises_the_clis_located_diagnostic(cli, tmp_path):
    text = TINY.replace('horizon = 10', 'horizn = 10')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(fp.ScenarioError) as caught:
        fp.load(bad)
    e = caught.value
    cli_run = subprocess.run([str(cli), "run", str(bad), "--reps", "1"], capture_output=True, text=True)
    assert cli_run.returncode != 0
    assert str(e) in cli_run.stderr
    assert str(e).startswith(f"{bad}:4:1: error: unknown key `horizn`")
    assert (e.line, e.column) == (4, 1)
    assert e.diagnostics[0].message == "unknown key `horizn`"
    assert e.path == str(bad)
    with pytest.raises(fp.ScenarioError) as caught:
        fp.Scenario.from_string(text, name="mine.toml")
    assert str(caught.value).startswith("mine.toml:4:1: error: unknown key `horizn`")
    assert str(caught.value).endswith("mine.toml: 1 error found")


def test_every_problem_is_listed_and_the_first_located():
    text = TINY.replace('event = "ping"', 'event = "pong"').replace("horizon = 10", "horizon = -1")
    with pytest.raises(fp.ScenarioError) as caught:
        fp.Scenario.from_string(text)
    e = caught.value
    assert len(e.diagnostics) >= 2
    assert (e.line, e.column) == (e.diagnostics[0].line, e.diagnostics[0].column)
    assert str(e).endswith(f"<string>: {len(e.diagnostics)} errors found")


def test_bad_parameter_values_raise_a_value_error_with_the_librarys_message():
    s = fp.Scenario.from_string(TINY)
    with pytest.raises(fp.ParameterError) as caught:
        s.run(reps=1, set={"rate": 11})
    assert str(caught.value) == "parameter `rate` = 11 is outside its bounds [0, 10]"
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ValueError, match=r"^unknown parameter `rat`; did you mean `rate`\?$"):
        s.point({"rat": 1})


def test_a_missing_file_is_file_not_found():
    with pytest.raises(FileNotFoundError):
        fp.load("/no/such/scenario.toml")


def test_bad_settings_are_refused():
    s = fp.Scenario.from_string(TINY)
    with pytest.raises(ValueError, match="threads must be at least 1"):
        s.run(reps=1, threads=0)
    # run, sweep and compare check seed and threads alike.
    west = fp.load(WEST)
    for call in (
        lambda **kw: west.run(reps=2, **kw),
        lambda **kw: fp.sweep(west, {"clash_prob": "0:0.1:2"}, reps=2, **kw),
        lambda **kw: fp.compare(west, reps=2, **kw),
    ):
        with pytest.raises(ValueError, match=r"^seed 18446744073709551616 does not fit in 64 bits$"):
            call(seed=2**64, progress=False)
        with pytest.raises(ValueError, match="^threads must be at least 1$"):
            call(threads=0, progress=False)
    with pytest.raises(ValueError, match="reps must not be negative"):
        s.run(reps=-1)
    with pytest.raises(TypeError):
        s.run(reps=1.5)


def test_progress_is_called_in_order_up_to_the_total():
    s = fp.Scenario.from_string(TINY)
    seen = []
    s.run(reps=1000, seed=1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(256, 1000), (512, 1000), (768, 1000), (1000, 1000)]


def test_an_exception_in_progress_stops_the_run_and_is_raised():
    s = fp.load(WEST)
    calls = []

    def boom(done, total):
        calls.append(done)
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        s.run(reps=100_000, seed=1, progress=boom)
    assert calls == [256]


def test_zero_reps_is_an_empty_table():
    r = fp.Scenario.from_string(TINY).run(reps=0, progress=False)
    assert len(r.runs) == 0
    assert list(r.runs.columns)[:2] == ["rep", "pings"]


def test_polars_holds_the_same_runs():
    r = fp.load(WEST).run(reps=100, seed=2, progress=False)
    pl = pytest.importorskip("polars")
    frame = r.to_polars()
    assert frame.columns == list(r.runs.columns)
    assert frame["path"].to_list() == list(r.runs["path"].astype(str))
    assert isinstance(frame.schema["path"], pl.Enum)
    np.testing.assert_array_equal(frame["closure_days"].to_numpy(), r.runs["closure_days"].to_numpy())


def test_arrow_holds_the_same_runs():
    r = fp.load(WEST).run(reps=100, seed=2, progress=False)
    pa = pytest.importorskip("pyarrow")
    table = r.to_arrow()
    assert table.column_names == list(r.runs.columns)
    assert pa.types.is_dictionary(table.schema.field("path").type)
    assert table.column("path").to_pylist() == list(r.runs["path"].astype(str))


def test_a_sweep_gives_the_same_files_as_the_cli_sweep(cli, tmp_path):
    out = tmp_path / "sweep"
    subprocess.run(
        [str(cli), "sweep", str(WEST), "--vary", "clash_prob=0:0.2:3", "--vary", "half_life=5,10",
         "--reps", "40", "--seed", "3", "--set", "talks_prob=0.7", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    r = fp.sweep(WEST, {"clash_prob": "0:0.2:3", "half_life": "5,10"}, reps=40, seed=3,
                 set={"talks_prob": 0.7}, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert r.points.values.tolist() == manifest["design"]["points"]
    written = r.write(tmp_path / "written")
    for name in ["runs.csv", "summary.csv"]:
        assert (written / name).read_bytes() == (out / name).read_bytes(), name
    assert r.manifest["params"] == manifest["params"]
    csv = pd.read_csv(out / "runs.csv")
    assert list(r.runs.columns) == list(csv.columns)
    for name in csv.columns:
        mine = r.runs[name]
        if isinstance(mine.dtype, pd.CategoricalDtype):
            assert list(mine.astype(str)) == list(csv[name].astype(str)), name
        else:
            np.testing.assert_array_equal(mine.to_numpy(dtype=float), csv[name].to_numpy(dtype=float), err_msg=name)
    summary = pd.read_csv(out / "summary.csv")
    assert list(r.summary.columns) == list(summary.columns)
    for name in summary.columns:
        if not pd.api.types.is_numeric_dtype(summary[name]) or name == "category":
            assert list(r.summary[name].fillna("")) == list(summary[name].fillna("")), name
        else:
            np.testing.assert_array_equal(r.summary[name].to_numpy(dtype=float), summary[name].to_numpy(dtype=float), err_msg=name)


def test_a_sweep_refuses_a_bad_spec_with_the_clis_message():
    s = fp.load(WEST)
    with pytest.raises(ValueError, match=r"^--vary: unknown parameter `clash_prb`; did you mean `clash_prob`\?$"):
        fp.sweep(s, ["clash_prb=0:1:3"], reps=1)
    with pytest.raises(ValueError, match="unknown design `cube`"):
        fp.sweep(s, {"clash_prob": None}, design="cube", reps=1)
    lhs = fp.sweep(s, {"clash_prob": None, "half_life": "5:20"}, design="lhs:7", reps=3, seed=1, progress=False)
    assert len(lhs.points) == 7 and len(lhs.runs) == 21
    assert lhs.points["half_life"].between(5, 20).all()


def test_a_sweep_refuses_a_parameter_both_set_and_varied_as_the_cli_does(cli):
    s = fp.load(WEST)
    message = "parameter `clash_prob` is both --set and --vary; drop one"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        fp.sweep(s, {"clash_prob": "0,0.1"}, set={"clash_prob": 0.2}, reps=1)
    cli_run = subprocess.run(
        [str(cli), "sweep", str(WEST), "--vary", "clash_prob=0,0.1", "--set", "clash_prob=0.2", "--reps", "1"],
        capture_output=True,
        text=True,
    )
    assert cli_run.returncode != 0 and cli_run.stderr == f"error: {message}\n"
    # A parameter set and not varied is fine.
    r = fp.sweep(s, {"clash_prob": "0,0.1"}, set={"half_life": 9.0}, reps=2, progress=False)
    assert r.manifest["params"]["half_life"] == 9.0


def test_a_file_design_runs_the_points_of_the_clis_points_csv(cli, tmp_path):
    out = tmp_path / "lhs"
    subprocess.run(
        [str(cli), "sweep", str(WEST), "--vary", "clash_prob", "--vary", "half_life=5:20", "--design", "lhs:5",
         "--reps", "30", "--seed", "4", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    design = f"file:{out / 'points.csv'}"
    r = fp.sweep(WEST, design=design, reps=30, seed=4, progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(r.points.columns) == ["clash_prob", "half_life"]
    assert r.points.values.tolist() == manifest["design"]["points"]
    written = r.write(tmp_path / "written")
    for name in ["runs.csv", "summary.csv", "points.csv"]:
        assert (written / name).read_bytes() == (out / name).read_bytes(), name
    bad = tmp_path / "bad.csv"
    bad.write_text("clash_prob,half_life\n0.1,10\n0.2,2\n")
    with pytest.raises(ValueError, match=f"^{re.escape(str(bad))}:3:2: half_life = 2 is outside its bounds \\[3, 30\\]$"):
        fp.sweep(WEST, design=f"file:{bad}", reps=1)
    with pytest.raises(ValueError, match="--vary cannot be used with --design file:"):
        fp.sweep(WEST, {"clash_prob": None}, design=design, reps=1)
    with pytest.raises(ValueError, match=re.escape(f"parameter `half_life` is both --set and a column of {out / 'points.csv'}; drop one")):
        fp.sweep(WEST, design=design, set={"half_life": 9.0}, reps=1)


def test_compare_gives_the_clis_compare_csv(cli, tmp_path):
    out = tmp_path / "compare"
    subprocess.run(
        [str(cli), "compare", str(WEST), "--a", "talks_prob=0.3", "--b", "talks_prob=0.8",
         "--reps", "300", "--seed", "5", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    result = fp.compare(WEST, set_a={"talks_prob": 0.3}, set_b={"talks_prob": 0.8}, reps=300, seed=5, threads=1)
    mine = result.summary
    theirs = pd.read_csv(out / "compare.csv")
    assert list(mine.columns) == list(theirs.columns)
    for name in theirs.columns:
        if not pd.api.types.is_numeric_dtype(theirs[name]) or name == "category":
            assert list(mine[name].fillna("")) == list(theirs[name].fillna("")), name
        else:
            np.testing.assert_array_equal(mine[name].to_numpy(dtype=float), theirs[name].to_numpy(dtype=float), err_msg=name)
    # write() gives the CLI's files: compare.csv byte for byte, the same manifest.
    written = result.write(tmp_path / "written")
    assert (written / "compare.csv").read_bytes() == (out / "compare.csv").read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    theirs = json.loads((written / "manifest.json").read_text())
    for key in ["created", "command"]:
        theirs.pop(key), manifest.pop(key)
    assert theirs == manifest
    assert result.manifest["b"]["set"] == {"talks_prob": 0.8}
    assert result.manifest["a"]["params"]["talks_prob"] == manifest["params"]["talks_prob"] == 0.3
    with pytest.raises(RuntimeError, match="already holds a result|exists"):
        result.write(tmp_path / "written")


def test_progress_shows_a_tqdm_bar_when_tqdm_is_installed(capsys):
    pytest.importorskip("tqdm")
    r = fp.Scenario.from_string(TINY).run(reps=2000, seed=1)
    assert len(r.runs) == 2000
    err = capsys.readouterr().err
    assert "/2.00k" in err


def test_help_is_useful():
    assert "Runs replications" in fp.Scenario.run.__doc__
    assert "ScenarioError" in fp.__doc__
    assert fp.sweep.__doc__ and fp.compare.__doc__ and fp.load.__doc__


def test_write_refuses_a_scenario_without_a_file_and_a_directory_with_a_result(tmp_path):
    r = fp.Scenario.from_string(TINY).run(reps=10, progress=False)
    with pytest.raises(ValueError, match="needs a scenario loaded from a file"):
        r.write(tmp_path / "x")
    r = fp.load(WEST).run(reps=10, seed=1, progress=False)
    r.write(tmp_path / "y")
    with pytest.raises(RuntimeError):
        r.write(tmp_path / "y")
