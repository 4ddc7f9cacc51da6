"""Shared fixtures: the repository, the CLI binary, a small scenario."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
WEST = ROOT / "scenarios" / "west2025.toml"

TINY = """
[scenario]
name = "tiny"
horizon = 10
[params]
rate = { value = 2.0, min = 0.0, max = 10.0, doc = "pings per unit time" }
[[actor]]
id = "A"
name = "Alpha"
[[event]]
id = "ping"
label = "a ping"
[[hazard]]
name = "pings"
event = "ping"
rate = "rate"
[[outcome]]
name = "pings"
value = "count(ping)"
"""


@pytest.fixture(scope="session")
def cli() -> pathlib.Path:
    """The `flashpoint` binary: $FLASHPOINT, else target/release or
    target/debug of this repository, else a debug build made with cargo."""
    given = os.environ.get("FLASHPOINT")
    if given:
        return pathlib.Path(given)
    for profile in ("release", "debug"):
        exe = ROOT / "target" / profile / "flashpoint"
        if exe.exists():
            return exe
    if shutil.which("cargo") is None:
        pytest.skip("no flashpoint binary and no cargo to build one")
    subprocess.run(
        ["cargo", "build", "--locked", "--no-default-features", "--features", "cli"],
        cwd=ROOT,
        check=True,
    )
    return ROOT / "target" / "debug" / "flashpoint"
