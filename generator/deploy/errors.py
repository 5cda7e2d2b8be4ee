"""A failed deploy: one line naming the file (or destination) and the cause."""

from __future__ import annotations


class DeployError(Exception):
    """A deploy stopped at ``where`` (a site-relative path or the destination) for ``cause``."""

    def __init__(self, where: str, cause: str) -> None:
        self.where = where
        self.cause = cause
        super().__init__(f"{where}: {cause}")


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(text.split())
