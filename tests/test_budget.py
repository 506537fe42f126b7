"""Budgets per message: a child process that cannot outlive its time or memory, and a parse that stops in time."""

from __future__ import annotations

import time

import pytest
from conftest import eml

from pipeline.mail import budget
from pipeline.mail.message import parse_bytes
from pipeline.mail.sources import RawMail
from pipeline.model.batch import classify_batch


def _sleep(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


def _allocate(n: int) -> int:
    return len(bytearray(n))


def _fail() -> None:
    raise ValueError("bad page")


def test_child_returns_its_result() -> None:
    assert budget.in_child(_sleep, 0.0) == "woke"


def test_child_out_of_time_is_killed() -> None:
    start = time.monotonic()
    with pytest.raises(budget.OverBudget, match="over 0.5 s"):
        budget.in_child(_sleep, 30.0, seconds=0.5)
    assert time.monotonic() - start < 5


def test_child_out_of_memory_is_stopped() -> None:
    with pytest.raises(budget.OverBudget):
        budget.in_child(_allocate, 2 * 1024**3, memory=64 * 1024**2)
    assert budget.in_child(_allocate, 1024, memory=64 * 1024**2) == 1024


def test_child_exception_reaches_the_caller() -> None:
    with pytest.raises(ValueError, match="bad page"):
        budget.in_child(_fail)


def test_time_limit_stops_python_code() -> None:
    with pytest.raises(budget.OverBudget), budget.time_limit(0.2):
        while True:
            pass


def _slow_first_parse(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first, whole parse runs out of time, as the alarm would make it; the parse of the start does not."""
    real_parse = __import__("pipeline.mail.message", fromlist=["_parse"])._parse
    calls: list[int] = []

    def slow_first(data: bytes, source: str):
        calls.append(len(data))
        if len(calls) == 1:
            raise budget.OverBudget("over 2 s")
        return real_parse(data, source)

    monkeypatch.setattr("pipeline.mail.message._parse", slow_first)
    return calls


def test_message_over_its_parse_budget_is_read_in_part(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = eml("Hi Karin,\nI am writing about the role.\n" + "More words here. " * 50_000, subject="About the role")
    calls = _slow_first_parse(monkeypatch)
    m = parse_bytes(raw, "slow.eml")
    assert m.subject == "About the role" and m.text.startswith("Hi Karin")
    assert "over 2 s" in m.partial
    assert calls[1] < 20_000 < calls[0]  # the second parse read only the header and the start of the body


def test_row_of_a_message_read_in_part_says_so(monkeypatch: pytest.MonkeyPatch, trained_model) -> None:
    from pipeline.model.classifier import Classifier

    _slow_first_parse(monkeypatch)
    rows = classify_batch([RawMail("slow.eml", eml("Hi Karin,\n" + "word " * 100_000))], Classifier.load(trained_model), 0.5)
    assert rows[0].reasons.startswith("read in part: parsing took over"), rows[0]
