"""The exceptions of the flashpoint package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class Diagnostic:
    """One problem in a scenario file, located (1-based line and column)."""

    line: int
    column: int
    message: str
    help: Optional[str] = None


class FlashpointError(Exception):
    """Base class of the package's own exceptions."""


class ScenarioError(FlashpointError):
    """A scenario has problems.

    ``str(e)`` is the located diagnostic the command line prints (every
    problem, each with its source line and a caret marker). ``e.line`` and
    ``e.column`` locate the first problem; ``e.diagnostics`` lists them all;
    ``e.path`` is the file (or the name given to ``Scenario.from_string``).
    """

    def __init__(
        self,
        message: str,
        path: str = "",
        diagnostics: Optional[List[Diagnostic]] = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.diagnostics: List[Diagnostic] = list(diagnostics or [])
        first = self.diagnostics[0] if self.diagnostics else None
        self.line: Optional[int] = first.line if first else None
        self.column: Optional[int] = first.column if first else None


class ParameterError(FlashpointError, ValueError):
    """A parameter value the scenario does not accept (an unknown name, or a
    value outside its declared bounds); the message is the library's."""


class SimulationError(FlashpointError, RuntimeError):
    """A replication failed (its message names the replication)."""


def _scenario_error(
    args: Tuple[str, str, List[Tuple[int, int, str, Optional[str]]]],
) -> ScenarioError:
    message, path, located = args
    return ScenarioError(message, path, [Diagnostic(*d) for d in located])
