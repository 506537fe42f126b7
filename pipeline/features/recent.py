"""A bounded table of what a run keeps seeing: the words of mail, looked up millions of times.

Mail repeats a few thousand words; the names, numbers and reference codes
that make a mailbox's vocabulary grow are rarely seen twice. A table that is
simply emptied when full forgets the frequent words with the rare ones and
must learn them again; this one keeps two generations, so a word still in
use survives the start of a new one, and memory stays bounded at twice
``size`` entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class RecentTable(Generic[K, V]):
    """Up to ``2 * size`` entries: the current generation and the one before it.

    Hot loops read ``table.current.get`` directly (``map`` over it runs in C)
    and call :meth:`fetch` only for what it lacks; re-read ``current`` after
    it, since it may have started a new generation.

    >>> t = RecentTable(2)
    >>> t.put("a", 1); t.put("b", 2); t.put("c", 3)  # "c" starts a new generation
    >>> t.current, t.recall("a"), t.current
    ({'c': 3}, 1, {'c': 3, 'a': 1})
    """

    def __init__(self, size: int):
        self.size = size
        self.current: dict[K, V] = {}
        self._previous: dict[K, V] = {}

    def recall(self, key: K) -> V | None:
        """The value of a ``key`` missing from ``current``, brought over from the generation before; ``None`` if unknown."""
        value = self._previous.get(key)
        if value is not None:
            self.put(key, value)
        return value

    def fetch(self, key: K, make: Callable[[], V]) -> V:
        """The value of a ``key`` missing from ``current``: from the generation before, else ``make()``, kept either way."""
        value = self.recall(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def put(self, key: K, value: V) -> None:
        if len(self.current) >= self.size:
            self._previous, self.current = self.current, {}
        self.current[key] = value

    def __len__(self) -> int:
        return len(self.current) + len(self._previous)

    def clear(self) -> None:
        self.current, self._previous = {}, {}
