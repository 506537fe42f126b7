"""RecentTable: bounded, and what is still in use survives a new generation."""

from __future__ import annotations

from pipeline.features.recent import RecentTable


def test_the_table_never_holds_more_than_two_generations() -> None:
    table: RecentTable[int, int] = RecentTable(10)
    for n in range(1000):
        table.put(n, n * n)
        assert len(table.current) <= 10 and len(table) <= 20
    assert table.current.get(999) == 999 * 999


def test_a_word_in_use_survives_the_start_of_a_generation() -> None:
    table: RecentTable[str, int] = RecentTable(3)
    table.put("the", 1)
    for n in range(30):
        if table.current.get("the") is None:
            assert table.recall("the") == 1  # brought over from the generation before
        table.put(f"name{n}", n)
    assert table.recall("name0") is None  # seen once, long ago: gone
    table.clear()
    assert len(table) == 0 and table.recall("the") is None


def test_fetch_makes_a_value_once_and_brings_old_ones_over() -> None:
    table: RecentTable[str, int] = RecentTable(2)
    made: list[str] = []

    def make(key: str) -> int:
        made.append(key)
        return len(key)

    assert table.fetch("abc", lambda: make("abc")) == 3
    table.put("x", 1)
    table.put("y", 2)  # a new generation: "abc" is in the one before
    assert "abc" not in table.current
    assert table.fetch("abc", lambda: make("abc")) == 3 and made == ["abc"]
    assert table.current["abc"] == 3
