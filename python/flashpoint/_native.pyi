"""Type stubs of the Rust layer (see python/src/lib.rs); use the wrapper in
``flashpoint`` instead."""

from typing import Callable, List, Optional, Sequence, Tuple

class NativeScenario:
    @staticmethod
    def load(path: str) -> "NativeScenario": ...
    @staticmethod
    def parse(text: str, name: str) -> "NativeScenario": ...
    name: str
    description: str
    path: str
    sha256: str
    seed: int
    horizon: float
    def params(self) -> List[Tuple[str, float, float, float, str]]: ...
    def actors(self) -> List[Tuple[str, str]]: ...
    def events(self) -> List[Tuple[str, str, Optional[str], bool]]: ...
    def columns(self) -> List[Tuple[str, Optional[List[str]]]]: ...
    def outcome_names(self) -> List[str]: ...
    def point(self, overrides: Sequence[Tuple[str, float]]) -> List[float]: ...
    def design(
        self,
        vary: Sequence[str],
        design: str,
        seed: int,
        overrides: Sequence[Tuple[str, float]] = ...,
    ) -> Tuple[List[str], List[List[float]]]: ...
    def run(
        self,
        points: Sequence[Sequence[float]],
        reps: int,
        seed: int,
        threads: int,
        independent_streams: bool = False,
        progress: Optional[Callable[[int, int], object]] = None,
    ) -> "NativeTable": ...

class NativeTable:
    def __len__(self) -> int: ...
    def columns(self) -> List[Tuple[str, Optional[List[str]], bytes]]: ...
    def summary(self, per_point: int) -> List[Tuple[int, str, str, Optional[str], int, List[float]]]: ...

def compare(
    a: NativeScenario,
    pa: Sequence[float],
    b: NativeScenario,
    pb: Sequence[float],
    reps: int,
    seed: int,
    threads: int,
    progress: Optional[Callable[[int, int], object]] = None,
) -> List[Tuple[str, str, Optional[str], int, List[float]]]: ...
def compare_stats() -> List[str]: ...
def default_threads() -> int: ...
def write_run(
    path: str, overrides: Sequence[Tuple[str, float]], reps: int, seed: int, threads: int, out: str, command: List[str]
) -> None: ...
def write_compare(
    a: Tuple[str, Sequence[Tuple[str, float]]],
    b: Tuple[str, Sequence[Tuple[str, float]]],
    reps: int,
    seed: int,
    threads: int,
    out: str,
    command: List[str],
) -> None: ...
def write_sweep(
    path: str,
    overrides: Sequence[Tuple[str, float]],
    vary: List[str],
    design: str,
    reps: int,
    seed: int,
    threads: int,
    independent_streams: bool,
    out: str,
    command: List[str],
) -> None: ...
def version() -> str: ...
def language_version() -> int: ...
