"""flashpoint: deterministic discrete-event simulation of international
tension and crisis escalation, run in-process at Rust speed.

A scenario file declares actors, the tension between pairs of them, the
kinds of event that can happen and the rules by which actors react. Load
one, run replications of it and get a pandas DataFrame back::

    import flashpoint as fp

    s = fp.load("scenarios/west2025.toml")
    s.params["clash_prob"]        # {'value': 0.02, 'min': 0.0, 'max': 1.0, 'doc': ...}
    r = s.run(reps=1000, seed=7, set={"clash_prob": 0.05})
    r.runs                        # one row per replication, as the CLI's runs.csv
    r.summary                     # as the CLI's summary.csv
    r.manifest                    # what was run

The numbers are the command line's: ``s.run(reps=N, seed=S)`` gives, value
for value, the ``runs.csv`` of ``flashpoint run FILE --reps N --seed S``,
whatever the number of threads.

Errors: a bad scenario raises :class:`ScenarioError` (its ``str`` is the
CLI's located diagnostic; ``.line``/``.column`` locate the first problem);
a bad parameter value raises :class:`ParameterError`, a ``ValueError``.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import pandas as pd

from . import _native
from ._errors import (
    Diagnostic,
    FlashpointError,
    ParameterError,
    ScenarioError,
    SimulationError,
)

__all__ = [
    "Actor",
    "CompareResult",
    "Diagnostic",
    "Event",
    "FlashpointError",
    "ParameterError",
    "Result",
    "Scenario",
    "ScenarioError",
    "compare",
    "SimulationError",
    "SweepResult",
    "load",
    "sweep",
    "__version__",
]

__version__: str = _native.version()

#: What ``progress=`` accepts: ``None`` (a tqdm bar if tqdm is installed,
#: silent otherwise), ``True``/``False``, or a callable ``f(done, total)``.
Progress = Union[None, bool, Callable[[int, int], Any]]

SUMMARY_COLUMNS = [
    "metric",
    "kind",
    "category",
    "n",
    "mean",
    "sd",
    "se",
    "ci95_lo",
    "ci95_hi",
    "p05",
    "p50",
    "p95",
]


@dataclass(frozen=True)
class Actor:
    """An actor of a scenario: its identifier and display name."""

    id: str
    name: str


@dataclass(frozen=True)
class Event:
    """An event type: identifier, description, CAMEO code if given, and
    whether it ends the replication."""

    id: str
    label: str
    cameo: Optional[str]
    terminal: bool


def load(path: Union[str, "os.PathLike[str]"]) -> "Scenario":
    """Reads and compiles the scenario file at ``path``.

    Raises :class:`ScenarioError` if it has problems (every one, located) and
    ``OSError`` (``FileNotFoundError``, …) if it cannot be read.
    """
    scenario = Scenario(_native.NativeScenario.load(os.fspath(path)))
    scenario._file = os.fspath(path)
    return scenario


class Scenario:
    """A compiled scenario, ready to run.

    Make one with :func:`load` or :meth:`Scenario.from_string`.
    """

    def __init__(self, native: "_native.NativeScenario") -> None:
        self._native = native
        #: The file it was loaded from (``None`` for ``from_string``).
        self._file: Optional[str] = None

    @classmethod
    def from_string(cls, text: str, name: str = "<string>") -> "Scenario":
        """Compiles scenario TOML ``text``; ``name`` stands for the file's
        path in diagnostics. Raises :class:`ScenarioError`."""
        return cls(_native.NativeScenario.parse(text, name))

    def __repr__(self) -> str:
        return f"<flashpoint.Scenario {self.name!r} from {self.path!r}>"

    @property
    def name(self) -> str:
        """The scenario's short name."""
        return self._native.name

    @property
    def description(self) -> str:
        """Its free-text description."""
        return self._native.description

    @property
    def path(self) -> str:
        """The file it was read from (or the name given to ``from_string``)."""
        return self._native.path

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of its text, as manifests record it."""
        return self._native.sha256

    @property
    def seed(self) -> int:
        """The default master seed (used when ``run`` is given none)."""
        return self._native.seed

    @property
    def horizon(self) -> float:
        """The end time of each replication."""
        return self._native.horizon

    @cached_property
    def params(self) -> Dict[str, Dict[str, Any]]:
        """Declared parameters, in declaration order: name → ``{"value":
        default, "min": lower bound, "max": upper bound, "doc": text}``
        (``-inf``/``inf`` where unbounded)."""
        return {
            name: {"value": value, "min": lo, "max": hi, "doc": doc}
            for name, value, lo, hi, doc in self._native.params()
        }

    @cached_property
    def actors(self) -> List[Actor]:
        """The actors, in declaration order."""
        return [Actor(*a) for a in self._native.actors()]

    @cached_property
    def events(self) -> List[Event]:
        """The event types, in declaration order."""
        return [Event(*e) for e in self._native.events()]

    @cached_property
    def columns(self) -> Dict[str, Optional[List[str]]]:
        """The columns of a run, in order: name → its labels (in order) for a
        categorical column, ``None`` for a numeric one."""
        return dict(self._native.columns())

    @cached_property
    def outcomes(self) -> List[str]:
        """The names of the scenario's declared outcomes, in order (the first
        columns of a run; the standard ones — end time, event counts,
        tensions — follow them in :attr:`columns`)."""
        return self._native.outcome_names()

    def point(self, set: Optional[Mapping[str, float]] = None) -> Dict[str, float]:
        """Every parameter's value with the overrides ``set``. Raises
        :class:`ParameterError` for an unknown name or a value outside its
        declared bounds."""
        values = self._native.point(_overrides(set))
        return dict(zip(self.params, values))

    def run(
        self,
        reps: int = 1000,
        seed: Optional[int] = None,
        set: Optional[Mapping[str, float]] = None,
        threads: Optional[int] = None,
        progress: Progress = None,
    ) -> "Result":
        """Runs replications ``0..reps`` and returns them in memory.

        Args:
            reps: number of replications.
            seed: master seed; the scenario's own when ``None``.
            set: parameter overrides, name → value (each within its bounds).
            threads: worker threads; one per core when ``None``. The numbers
                do not depend on it.
            progress: ``None`` for a tqdm bar when tqdm is installed (silent
                otherwise), ``False`` for none, or ``f(done, total)``.

        The GIL is released while the engine runs; Ctrl-C stops it promptly
        with ``KeyboardInterrupt``. Raises :class:`ParameterError` for a bad
        override, ``ValueError`` for a bad setting.
        """
        reps = _count("reps", reps)
        seed, threads = _seed_and_threads(seed, self.seed, threads)
        overrides = _overrides(set)
        point = self._native.point(overrides)
        table = _run(self._native, [point], reps, seed, threads, False, progress)
        manifest = {
            "flashpoint_version": __version__,
            "language_version": _native.language_version(),
            "kind": "run",
            "scenario": {"path": self.path, "name": self.name, "sha256": self.sha256},
            "seed": seed,
            "reps": reps,
            "independent_streams": False,
            "set": dict(overrides),
            "params": dict(zip(self.params, point)),
            "threads": threads,
        }
        return Result(self, table, manifest)


class Result:
    """The replications of one run, in memory.

    ``runs`` and ``summary`` are pandas DataFrames shaped as the CLI's
    ``runs.csv`` and ``summary.csv``; ``manifest`` says what was run.
    """

    def __init__(self, scenario: Scenario, table: "_native.NativeTable", manifest: Dict[str, Any]):
        self.scenario = scenario
        self._table = table
        #: What was run: versions, scenario (path, name, sha256), seed,
        #: reps, the overrides (``set``), every parameter's value, threads.
        self.manifest: Dict[str, Any] = manifest

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        m = self.manifest
        return f"<flashpoint.Result {m['scenario']['name']!r}: {m['reps']} reps, seed {m['seed']}>"

    def _keys(self) -> Dict[str, Any]:
        return {"rep": np.arange(len(self._table), dtype=np.int64)}

    def _arrays(self) -> Dict[str, Any]:
        cols: Dict[str, Any] = self._keys()
        for name, labels, raw in self._table.columns():
            values = np.frombuffer(raw, dtype=np.float64)
            if labels is None:
                cols[name] = values
            else:
                codes = values.astype(np.int32 if len(labels) < 2**31 else np.int64)
                cols[name] = (codes, labels)
        return cols

    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per replication: ``rep``, then every column of the run in
        the CLI's order. Categorical columns are ``pandas.Categorical`` with
        the scenario's labels, in order, as categories."""
        data = {}
        for name, col in self._arrays().items():
            if isinstance(col, tuple):
                codes, labels = col
                data[name] = pd.Categorical.from_codes(codes, categories=labels)
            else:
                data[name] = col
        return pd.DataFrame(data, copy=False)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """The CLI's ``summary.csv``: per numeric column its n, mean, sd, se,
        95% interval and 5/50/95% quantiles; per label of a categorical
        column its share with a Wilson 95% interval (kind ``share``)."""
        return pd.DataFrame(
            [row[1:5] + tuple(row[5]) for row in self._table.summary(0)], columns=SUMMARY_COLUMNS
        )

    def write(self, directory: Union[str, "os.PathLike[str]"]) -> pathlib.Path:
        """Writes the CLI's files for this run into ``directory`` (which must
        not hold a result): ``runs.csv``, ``summary.csv`` and
        ``manifest.json``, byte for byte those of ``flashpoint run --out``
        with the same arguments (the manifest's ``created`` and ``command``
        aside). The replications are run again by the library's writer (the
        same numbers, as the tests check). Needs a scenario from
        :func:`load` whose file has not changed since."""
        m = self.manifest
        _native.write_run(
            self._source(), list(m["set"].items()), m["reps"], m["seed"], m["threads"],
            os.fspath(directory), self._command(directory),
        )
        return pathlib.Path(directory)

    def _source(self) -> str:
        return Result._source_of(self.scenario)

    @staticmethod
    def _source_of(s: "Scenario") -> str:
        """The file ``s`` was loaded from, checked unchanged since."""
        if s._file is None:
            raise ValueError("write needs a scenario loaded from a file (fp.load), not from_string")
        with open(s._file, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != s.sha256:
                raise RuntimeError(f"{s._file} has changed since it was loaded")
        return s._file

    def _command(self, directory) -> List[str]:
        m = self.manifest
        command = ["flashpoint (python)", m["kind"], self.scenario._file or "", "--reps", str(m["reps"])]
        command += ["--seed", str(m["seed"])]
        for name, value in m["set"].items():
            command += ["--set", f"{name}={value!r}"]
        for v in m.get("design", {}).get("vary", []):
            command += ["--vary", v]
        if "design" in m:
            command += ["--design", m["design"]["kind"]]
        return command + ["--out", os.fspath(directory)]

    def to_polars(self) -> Any:
        """The runs as a polars DataFrame (categorical columns as
        ``pl.Enum`` of the labels). Needs polars."""
        import polars as pl

        series = []
        for name, col in self._arrays().items():
            if isinstance(col, tuple):
                codes, labels = col
                series.append(
                    pl.Series(name, np.asarray(labels, dtype=object)[codes], dtype=pl.Enum(labels))
                )
            else:
                series.append(pl.Series(name, col))
        return pl.DataFrame(series)

    def to_arrow(self) -> Any:
        """The runs as a pyarrow Table (categorical columns dictionary
        encoded). Needs pyarrow."""
        import pyarrow as pa

        arrays, names = [], []
        for name, col in self._arrays().items():
            if isinstance(col, tuple):
                codes, labels = col
                arrays.append(pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(labels)))
            else:
                arrays.append(pa.array(col))
            names.append(name)
        return pa.Table.from_arrays(arrays, names=names)


class SweepResult(Result):
    """The replications of a sweep: ``reps`` of each design point, point
    after point. ``runs`` and ``summary`` are shaped as the CLI sweep's
    ``runs.csv`` and ``summary.csv`` (``point``, ``rep`` and the varied
    parameters first); ``points`` is the design, one row per point."""

    def __init__(self, scenario, table, manifest, names: List[str], points: List[List[float]]):
        super().__init__(scenario, table, manifest)
        #: The design: one row per point, a column per varied parameter.
        self.points = pd.DataFrame(points, columns=names, dtype=float).rename_axis("point")

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"<flashpoint.SweepResult {m['scenario']['name']!r}: {len(self.points)} points x "
            f"{m['reps']} reps, seed {m['seed']}>"
        )

    def _keys(self) -> Dict[str, Any]:
        reps = self.manifest["reps"]
        n = len(self._table)
        point = np.arange(n, dtype=np.int64) // max(reps, 1)
        keys: Dict[str, Any] = {"point": point, "rep": np.arange(n, dtype=np.int64) % max(reps, 1)}
        for name in self.points.columns:
            keys[name] = self.points[name].to_numpy()[point]
        return keys

    def write(self, directory: Union[str, "os.PathLike[str]"]) -> pathlib.Path:
        """Writes the CLI's files for this sweep into ``directory``, as
        ``flashpoint sweep --out`` (see :meth:`Result.write`)."""
        m = self.manifest
        _native.write_sweep(
            self._source(), list(m["set"].items()), m["design"]["vary"], m["design"]["kind"],
            m["reps"], m["seed"], m["threads"], m["independent_streams"],
            os.fspath(directory), self._command(directory),
        )
        return pathlib.Path(directory)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """The CLI sweep's ``summary.csv``: ``point``, the varied
        parameters, then the summary of that point's replications."""
        rows = self._table.summary(self.manifest["reps"]) if len(self._table) else []
        frame = pd.DataFrame([row[1:5] + tuple(row[5]) for row in rows], columns=SUMMARY_COLUMNS)
        point = np.asarray([row[0] for row in rows], dtype=np.int64)
        keys = {"point": point}
        for name in self.points.columns:
            keys[name] = self.points[name].to_numpy()[point]
        return pd.concat([pd.DataFrame(keys), frame], axis=1)


def sweep(
    scenario: Union[Scenario, str, "os.PathLike[str]"],
    vary: Union[Mapping[str, Optional[str]], List[str], None] = None,
    design: str = "grid",
    reps: int = 100,
    seed: Optional[int] = None,
    set: Optional[Mapping[str, float]] = None,
    threads: Optional[int] = None,
    independent_streams: bool = False,
    progress: Progress = None,
) -> SweepResult:
    """Runs ``reps`` replications at each point of a design, as
    ``flashpoint sweep`` does (the same numbers as its ``runs.csv``).

    Args:
        scenario: a :class:`Scenario`, or the path of a scenario file.
        vary: the varied parameters, as the CLI's ``--vary``: a mapping
            name → spec (``"0.1,0.5,0.9"``, ``"lo:hi:steps"``,
            ``"log:lo:hi:steps"``, ``"lo:hi"`` for lhs/random, or ``None`` for
            the declared bounds), or a list of ``"NAME=SPEC"`` strings;
            ``None`` (no ``vary``) with a ``file:`` design.
        design: ``"grid"`` (full factorial, the first varied parameter
            slowest), ``"lhs:N"``, ``"random:N"``, or ``"file:PATH"``: the
            points of a CSV file whose header names the varied parameters,
            one row per point (as ``flashpoint sweep --design file:PATH``;
            then ``vary`` must be empty).
        reps: replications per point.
        seed: master seed (the design's too); the scenario's when ``None``.
        set: overrides of parameters that are not varied.
        threads: worker threads; one per core when ``None``.
        independent_streams: mix the point into each replication's key (by
            default points share random numbers: common random numbers).
        progress: as for :meth:`Scenario.run`.

    Raises ``ValueError`` for a bad spec or design (a bad design file
    with its file, line and column), a parameter both in ``set`` and
    varied, :class:`ParameterError` for a bad override or a value outside
    a parameter's bounds.
    """
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    texts = (
        [name if spec is None else f"{name}={spec}" for name, spec in vary.items()]
        if isinstance(vary, Mapping)
        else list(vary or [])
    )
    reps = _count("reps", reps)
    seed, threads = _seed_and_threads(seed, scenario.seed, threads)
    overrides = _overrides(set)
    base = dict(scenario.point(dict(overrides)))
    names, values = scenario._native.design(texts, design, seed, overrides)
    full = []
    for row in values:
        point = dict(base)
        point.update(zip(names, row))
        full.append(scenario._native.point(list(point.items())))
    table = _run(scenario._native, full, reps, seed, threads, independent_streams, progress)
    manifest = {
        "flashpoint_version": __version__,
        "language_version": _native.language_version(),
        "kind": "sweep",
        "scenario": {"path": scenario.path, "name": scenario.name, "sha256": scenario.sha256},
        "seed": seed,
        "reps": reps,
        "independent_streams": bool(independent_streams),
        "set": dict(overrides),
        "params": base,
        "design": {"kind": design, "vary": texts, "params": names, "n_points": len(values), "points": values},
        "threads": threads,
    }
    return SweepResult(scenario, table, manifest, names, values)


COMPARE_COLUMNS = ["metric", "kind", "category", "n"] + list(_native.compare_stats())


class CompareResult:
    """A comparison of policy B against policy A, in memory.

    ``summary`` is the CLI's ``compare.csv`` as a pandas DataFrame (one row
    per metric and per label share); ``manifest`` says what was run;
    :meth:`write` gives the CLI's files.
    """

    def __init__(self, a: Scenario, b: Scenario, rows: List[tuple], manifest: Dict[str, Any]):
        self.a, self.b = a, b
        #: What was run: both policies (scenario and overrides), seed, reps, threads.
        self.manifest = manifest
        self._rows = rows

    def __repr__(self) -> str:
        m = self.manifest
        return (
            f"<flashpoint.CompareResult {m['a']['set']} vs {m['b']['set']}: "
            f"{m['reps']} paired reps, seed {m['seed']}>"
        )

    def __len__(self) -> int:
        return len(self._rows)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """The CLI's ``compare.csv``: per metric the means under A and B,
        the paired difference B − A with its standard error and 95%
        interval, the unpaired estimate beside it, and the variance
        reduction (how many times more replications an unpaired comparison
        would need for the same precision)."""
        return pd.DataFrame([row[:4] + tuple(row[4]) for row in self._rows], columns=COMPARE_COLUMNS)

    def to_polars(self) -> Any:
        """``summary`` as a polars DataFrame. Needs polars."""
        import polars as pl

        return pl.from_pandas(self.summary)

    def to_arrow(self) -> Any:
        """``summary`` as a pyarrow Table. Needs pyarrow."""
        import pyarrow as pa

        return pa.Table.from_pandas(self.summary, preserve_index=False)

    def write(self, directory: Union[str, "os.PathLike[str]"]) -> pathlib.Path:
        """Writes the CLI's files for this comparison into ``directory``
        (which must not hold a result): ``compare.csv`` and
        ``manifest.json``, as ``flashpoint compare --out`` with the same
        arguments (the manifest's ``created`` and ``command`` aside). The
        replications are run again by the library's writer. Needs scenarios
        from :func:`load` whose files have not changed since; like the CLI,
        refuses two identical policies."""
        m = self.manifest
        a = (Result._source_of(self.a), list(m["a"]["set"].items()))
        b = (Result._source_of(self.b), list(m["b"]["set"].items()))
        command = ["flashpoint (python)", "compare", a[0], "--reps", str(m["reps"]), "--seed", str(m["seed"])]
        if b[0] != a[0]:
            command += ["--b-file", b[0]]
        for arm, (_, overrides) in (("--a", a), ("--b", b)):
            for name, value in overrides:
                command += [arm, f"{name}={value!r}"]
        command += ["--out", os.fspath(directory)]
        _native.write_compare(a, b, m["reps"], m["seed"], m["threads"], os.fspath(directory), command)
        return pathlib.Path(directory)


def compare(
    a: Union[Scenario, str, "os.PathLike[str]"],
    b: Union[Scenario, str, "os.PathLike[str]", None] = None,
    set_a: Optional[Mapping[str, float]] = None,
    set_b: Optional[Mapping[str, float]] = None,
    reps: int = 1000,
    seed: Optional[int] = None,
    threads: Optional[int] = None,
    progress: Progress = None,
) -> CompareResult:
    """The effect of policy B against policy A, as ``flashpoint compare``:
    a :class:`CompareResult` whose ``summary`` has one row per metric (the
    CLI's ``compare.csv``), with the paired estimate of B − A under common
    random numbers and the unpaired one beside it.

    Args:
        a: policy A's scenario (or its file).
        b: policy B's scenario (or file); A's when ``None``.
        set_a, set_b: each policy's parameter overrides.
        reps: replications per policy (at least 2).
        seed: master seed; A's scenario seed when ``None``.
        threads: worker threads; one per core when ``None``. The numbers
            do not depend on it.
        progress: as for :meth:`Scenario.run` (counted in replications of
            each policy).

    The GIL is released while it runs; Ctrl-C stops it promptly with
    ``KeyboardInterrupt``.
    """
    a = a if isinstance(a, Scenario) else load(a)
    b = a if b is None else (b if isinstance(b, Scenario) else load(b))
    reps = _count("reps", reps)
    if reps < 2:
        raise ValueError("reps must be at least 2 (a standard error needs two replications)")
    seed, threads = _seed_and_threads(seed, a.seed, threads)
    oa, ob = _overrides(set_a), _overrides(set_b)
    pa, pb = a._native.point(oa), b._native.point(ob)
    callback, close = _progress(progress, reps)
    try:
        rows = _native.compare(a._native, pa, b._native, pb, reps, seed, threads, callback)
    finally:
        close()

    def arm(s: Scenario, overrides: List[tuple], point: List[float]) -> Dict[str, Any]:
        return {
            "scenario": {"path": s.path, "name": s.name, "sha256": s.sha256},
            "set": dict(overrides),
            "params": dict(zip(s.params, point)),
        }

    manifest = {
        "flashpoint_version": __version__,
        "language_version": _native.language_version(),
        "kind": "compare",
        "a": arm(a, oa, pa),
        "b": arm(b, ob, pb),
        "seed": seed,
        "reps": reps,
        "threads": threads,
    }
    return CompareResult(a, b, rows, manifest)


def _run(native, points, reps, seed, threads, independent_streams, progress):
    callback, close = _progress(progress, len(points) * reps)
    try:
        return native.run(points, reps, seed, threads, independent_streams, callback)
    finally:
        close()


def _count(what: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, not {type(n).__name__}")
    if n < 0:
        raise ValueError(f"{what} must not be negative")
    return int(n)


def _seed_and_threads(seed: Any, default_seed: int, threads: Any) -> Tuple[int, int]:
    """A call's master seed (``default_seed`` when ``None``; it must fit in
    64 bits) and thread count (one per core when ``None``; at least 1)."""
    seed = default_seed if seed is None else _count("seed", seed)
    if seed >= 2**64:
        raise ValueError(f"seed {seed} does not fit in 64 bits")
    threads = _native.default_threads() if threads is None else _count("threads", threads)
    if threads < 1:
        raise ValueError("threads must be at least 1")
    return seed, threads


def _overrides(set: Optional[Mapping[str, float]]) -> List[tuple]:
    if set is None:
        return []
    out = []
    for name, value in dict(set).items():
        if not isinstance(name, str):
            raise TypeError(f"parameter names are strings, not {type(name).__name__}")
        out.append((name, float(value)))
    return out


def _progress(progress: Progress, total: int):
    """The callback for a run, and what closes it afterwards."""
    if progress is False:
        return None, lambda: None
    if callable(progress) and progress is not True:
        return progress, lambda: None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress is True:
            raise
        return None, lambda: None
    bar = tqdm(total=total, unit="rep", unit_scale=True, leave=False)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close
