"""Budgets of time and memory for one message, that hold inside C code too.

Structural caps (header sizes, HTML size, pages, inflated bytes) bound what
the parsers are given; these bound what they do with it. Python code is
stopped by a wall-clock alarm. C and C++ code (pdfium reading a PDF) checks
no alarm, so it runs in a forked child with an address-space limit and is
killed when its time is up: a hostile attachment costs its budget, never the
night.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

# Parsing one message (headers, MIME tree, HTML, quotes) in Python.
PARSE_SECONDS = 2.0
# Reading one attachment in a child process: its time, and the memory it may add to this process's size.
CHILD_SECONDS = 2.0
CHILD_MEMORY = 384 * 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")


class OverBudget(Exception):
    """The work did not finish within its time or memory."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`OverBudget` in this block once ``seconds`` of wall time have passed.

    Only the main thread receives signals; elsewhere the block runs unbounded (the child-process budget
    still holds for attachments).
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _expired(signum: int, frame: Any) -> None:
        raise OverBudget(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _address_space() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[0]) * _PAGE


def in_child(fn: Callable[..., T], *args: Any, seconds: float = CHILD_SECONDS, memory: int = CHILD_MEMORY) -> T:
    """``fn(*args)`` in a forked child limited to ``seconds`` and to ``memory`` bytes more than this process.

    Raises :class:`OverBudget` when the child runs out of time or memory or dies; an exception ``fn``
    raises is raised here. ``fn``'s result must pickle.
    """
    limit = _address_space() + memory
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        code = 0
        try:
            os.close(read)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            try:
                payload = pickle.dumps((True, fn(*args)))
            except MemoryError:
                code = 3
                payload = b""
            except Exception as exc:  # noqa: BLE001 - handed to the parent as it is
                payload = pickle.dumps((False, exc))
            view = memoryview(payload)
            while view:
                view = view[os.write(write, view):]
        except BaseException:  # noqa: BLE001 - a child must reach os._exit whatever happens
            code = 4
        finally:
            os._exit(code)
    os.close(write)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    finished = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read], [], [], left)[0]:
                raise OverBudget(f"over {seconds:g} s")
            chunk = os.read(read, 65536)
            if not chunk:
                finished = True
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        if not finished:  # out of time, or interrupted from outside: the child must not outlive its budget
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not chunks:
        raise OverBudget(f"over {memory // (1024 * 1024)} MB" if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3
                         else "the reader died")
    ok, value = pickle.loads(b"".join(chunks))
    if not ok:
        raise value
    return value
