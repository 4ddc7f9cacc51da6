"""The Python examples of README.md and python/README.md run as printed."""

from __future__ import annotations

import contextlib
import io
import os
import re

import pytest

from conftest import ROOT


def python_blocks(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("path", ["README.md", "python/README.md"])
def test_the_python_examples_run_as_printed(path, tmp_path):
    blocks = python_blocks(path)
    assert blocks, f"{path} has no python example"
    cwd = os.getcwd()
    # Run from a scratch directory that sees the repository's scenarios, so
    # that files the example writes (out/…) do not land in the checkout.
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    os.chdir(tmp_path)
    try:
        for block in blocks:
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(block, path, "exec"), {})
            if "print(r.summary" in block:
                out = printed.getvalue()
                assert "metric" in out and "ci95_lo" in out, out
    finally:
        os.chdir(cwd)
