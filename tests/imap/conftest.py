"""Fixtures for the IMAP tests: real Dovecot servers (one per kind, per session), one classifier, mail users.

Nothing here fakes IMAP: the tests talk to the private Dovecot that
tools/dovecot.py starts. Each test gets its own mail user, so the servers
can be shared by the whole session. Helpers live in imaptest.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.corpus.labelled import read_manifest
from pipeline.model.classifier import Classifier

from .imaptest import LABELED, MODELS, PASSWORD_ENV, Dovecot, Mailbox, new_mailbox


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_nomove() -> Iterator[Dovecot]:
    """No MOVE in CAPABILITY, and '.' as the hierarchy separator."""
    with Dovecot(move=False, separator=".") as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[Dovecot]:
    with Dovecot(tls=True) as server:
        yield server


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    clf = Classifier.load(MODELS)
    clf.predict([])  # nothing; loading is what costs
    return clf


@pytest.fixture(scope="session")
def corpus() -> list[bytes]:
    """Every written message, interleaved by label so that any prefix mixes the four outreach labels.

    Written mail keeps the tests' mailboxes the same size and order whatever real mail the corpus gains.
    """
    by_label: dict[str, list[Path]] = defaultdict(list)
    for entry in read_manifest(LABELED):
        if entry.made == "written":
            by_label[entry.label].append(LABELED / entry.file)
    columns = [sorted(paths) for _, paths in sorted(by_label.items())]
    out = []
    for i in range(max(map(len, columns))):
        out += [col[i].read_bytes() for col in columns if i < len(col)]
    return out


@pytest.fixture
def mailbox(dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    box = new_mailbox(dovecot)
    monkeypatch.setenv(PASSWORD_ENV, box.password)
    return box

