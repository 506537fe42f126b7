"""A TCP relay between pitchsort and Dovecot that can drop every connection at a chosen command.

Used to cut the connection in the middle of a run: when a client command
matches, the relay stops passing the server's replies back (the client never
learns whether the command succeeded), passes the command on, lets the
server work, and then drops both sides, as a flaky network or a NAT timeout
would. ``on_command`` may also kill the server instead.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable

COMMAND = re.compile(rb"^\S+ (?:UID )?([A-Z]+)", re.I)


class _Pair:
    def __init__(self, client: socket.socket, server: socket.socket):
        self.client, self.server = client, server
        self.mute = False  # when set, the server's replies are dropped

    def close(self) -> None:
        for s in (self.client, self.server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


class Proxy:
    def __init__(self, upstream_port: int, on_command: Callable[[Proxy, _Pair, bytes], None] | None = None):
        self.upstream = ("127.0.0.1", upstream_port)
        self.on_command = on_command
        self.commands: list[bytes] = []
        self.connections = 0
        self._pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, server)
            with self._lock:
                self._pairs.append(pair)
                self.connections += 1
            threading.Thread(target=self._up, args=(pair,), daemon=True).start()
            threading.Thread(target=self._down, args=(pair,), daemon=True).start()

    def _up(self, pair: _Pair) -> None:
        """Client to server, line-aware so that a command can be caught as it passes."""
        buf = b""
        try:
            while data := pair.client.recv(65536):
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if self.on_command and COMMAND.match(line):
                        with self._lock:
                            self.commands.append(line)
                        self.on_command(self, pair, line + b"\n")
                        continue
                    pair.server.sendall(line + b"\n")
        except OSError:
            pass
        pair.close()

    def _down(self, pair: _Pair) -> None:
        try:
            while data := pair.server.recv(65536):
                if not pair.mute:
                    pair.client.sendall(data)
        except OSError:
            pass
        pair.close()

    def cut_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            pair.close()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.cut_all()


def command_name(line: bytes) -> str:
    match = COMMAND.match(line)
    return match.group(1).decode().upper() if match else ""
