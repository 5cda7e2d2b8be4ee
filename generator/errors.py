"""Problems in input: values that carry ``path:line``, collected, never printed deep inside."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file, at one line (1-based; 0 when no line applies)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


class InputError(Exception):
    """Raised at a pipeline boundary when input problems stop the work; carries every problem."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[InputError], tuple[list[Problem]]]:
        return type(self), (self.problems,)  # as raised in a worker process, re-raised here


class OutputError(Exception):
    """The operating system refused what a command must write: one line, the path and cause."""

    def __init__(self, path: str, cause: str) -> None:
        self.path, self.cause = path, cause
        super().__init__(f"{path}: {cause}")

    def __reduce__(self) -> tuple[type[OutputError], tuple[str, str]]:
        return type(self), (self.path, self.cause)

    @classmethod
    def of(cls, exc: OSError, what: str = "") -> OutputError:
        """An :class:`OSError` said as the path it concerns and why (``what`` tells the step)."""
        path = exc.filename if exc.filename is not None else "starmark"
        cause = exc.strerror or str(exc)
        if exc.filename2 is not None:  # a copy or a rename: the place it was going to
            path, cause = exc.filename2, f"{cause} (from {exc.filename})"
        return cls(str(path), f"{what}: {cause}" if what else cause)


# What one file reports at most: a file with 60,000 unknown keys needs the first few fixed, not
# 60,000 lines (the rest are usually the same mistake repeated).
MAX_PER_FILE = 50


def capped(problems: list[Problem], limit: int = MAX_PER_FILE) -> list[Problem]:
    """The first ``limit`` problems of one file (sorted), and a line saying how many more."""
    if len(problems) <= limit + 1:  # a line saying "one more" would hide nothing
        return problems
    hidden = problems[limit:]
    more = Problem(hidden[0].path, hidden[0].line,
                   f"… and {len(hidden)} more problems in this file, not listed: fix these first")
    return [*problems[:limit], more]
