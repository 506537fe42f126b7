"""A run of several hundred messages interrupted half-way, then run again: every message exactly once, in place.

The connection is cut by a relay (imapproxy.py) at the moment a MOVE, COPY
or EXPUNGE has reached the server but its answer has not reached pitchsort:
the case where the client cannot know whether the command happened. The
server is also killed outright (SIGKILL to every Dovecot process) right after
such a command, and started again a moment later.
"""

from __future__ import annotations

import threading
import time

import pytest

from .imapproxy import Proxy, command_name
from .imaptest import PASSWORD_ENV, Dovecot, assert_exactly_once, decided_labels, imap_run, make_config, new_mailbox

N = 300
MUTATING = {"MOVE", "COPY", "EXPUNGE", "STORE"}


def _cut_at(targets: set[int], kill: Dovecot | None = None):
    """A relay hook: at the n-th mutating command (n in targets), pass it on unanswered, then drop or kill."""
    seen = {"n": 0, "fired": 0}

    def hook(proxy: Proxy, pair, line: bytes) -> None:
        # The handled-marker STORE is passed over, so that the n-th command is the copy, move or label keyword it was
        # before the marker existed; a cut there is covered by the lost-state test of test_imap_run.
        if command_name(line) not in MUTATING or b"$pitchsort_handled" in line:
            pair.server.sendall(line)
            return
        seen["n"] += 1
        if seen["n"] not in targets:
            pair.server.sendall(line)
            return
        seen["fired"] += 1
        pair.mute = True  # pitchsort never hears whether this command succeeded
        pair.server.sendall(line)
        if kill is None:
            time.sleep(0.15)  # the server carries the command out
            proxy.cut_all()
        else:
            # The first kill lands after the command took effect (its answer never arrives), the others mid-command.
            time.sleep((0.15, 0.0, 0.01)[(seen["fired"] - 1) % 3])
            kill.kill()
            proxy.cut_all()
            threading.Timer(0.4, kill.start).start()

    return hook, seen


@pytest.mark.parametrize("server_kind", ["move", "no_move"])
def test_connection_cut_mid_run_loses_and_duplicates_nothing(server_kind, dovecot, dovecot_nomove, classifier, corpus, tmp_path,
                                                             monkeypatch):
    server = dovecot if server_kind == "move" else dovecot_nomove
    box = new_mailbox(server)
    monkeypatch.setenv(PASSWORD_ENV, box.password)
    messages = corpus[:N]
    box.append(messages)
    hook, seen = _cut_at({2, 5, 9, 14})
    proxy = Proxy(server.port, hook)
    try:
        config = make_config(box, tmp_path, port=proxy.port, extra="batch_size = 25")
        first = imap_run(config, classifier)
    finally:
        proxy.close()
    assert seen["fired"] == 4 and proxy.connections >= 5, "the relay must really have cut the run four times"
    assert first.recovered >= 1, first.line()
    second = imap_run(make_config(box, tmp_path), classifier)  # straight to the server
    assert second.exit_code == 0, second.line()
    labels = decided_labels(config)
    assert len(labels) == N
    assert_exactly_once(box, labels, separator="/" if server_kind == "move" else ".")
    assert imap_run(make_config(box, tmp_path), classifier).new == 0


def test_server_killed_mid_run_loses_and_duplicates_nothing(classifier, corpus, tmp_path, monkeypatch):
    with Dovecot() as server:
        box = new_mailbox(server)
        monkeypatch.setenv(PASSWORD_ENV, box.password)
        messages = corpus[N:2 * N]
        box.append(messages)
        hook, seen = _cut_at({2, 6, 9}, kill=server)
        proxy = Proxy(server.port, hook)
        try:
            config = make_config(box, tmp_path, port=proxy.port, extra="batch_size = 25")
            imap_run(config, classifier)  # reconnects once the server is back, or leaves the rest for the next run
        finally:
            proxy.close()
        assert seen["fired"] == 3
        time.sleep(0.5)
        if server.proc is None:
            server.start()
        second = imap_run(make_config(box, tmp_path), classifier)
        assert second.exit_code == 0, second.line()
        labels = decided_labels(config)
        assert len(labels) == N
        assert_exactly_once(box, labels)
        assert imap_run(make_config(box, tmp_path), classifier).new == 0
