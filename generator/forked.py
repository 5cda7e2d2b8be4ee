"""Work handed to a forked process while this one does something else: during a build's load
the second core has nothing to do (see :class:`generator.output.SpareCheck` and
``generator.load._FilesAside``)."""

from __future__ import annotations

import marshal
import multiprocessing
from collections.abc import Callable
from typing import Any


class Forked:
    """``function(*args)`` in a forked process, its answer (plain data: it is sent through a
    pipe with :mod:`marshal`) given by :meth:`result`. No answer (None) when the process could
    not be forked, the function failed or the answer did not arrive: the caller does the work
    itself then."""

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self._process: Any = None
        self._reader: Any = None
        self._answer: Any = None
        try:
            context = multiprocessing.get_context("fork")
            self._reader, writer = context.Pipe(duplex=False)
            self._process = context.Process(target=_send, args=(function, args, writer),
                                            daemon=True)
            self._process.start()
            writer.close()
        except (OSError, ValueError):  # no fork here
            self.close()

    def result(self) -> Any:
        """The answer (waiting for it if the process still works), or None; the same answer
        every time it is asked."""
        if self._reader is not None:
            try:
                self._answer = marshal.loads(self._reader.recv_bytes())
            except (OSError, EOFError, ValueError, TypeError):
                self._answer = None
            finally:
                self.close()
        return self._answer

    def close(self) -> None:
        """Stop the process (an answer not taken yet is not waited for: there is none)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._process = None


def _send(function: Callable[..., Any], args: tuple[Any, ...], writer: Any) -> None:
    """In the forked process: make the answer and send it."""
    writer.send_bytes(marshal.dumps(function(*args)))
    writer.close()
