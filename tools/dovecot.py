"""A private Dovecot on 127.0.0.1 for the tests and ``make demo``: never the system service.

The server runs from a config written into a fresh ``tempfile.mkdtemp()``
(chmod 0755: Dovecot's login and mail processes run as the ``dovecot`` user
when we are root, and cannot read pytest's 0700 ``tmp_path``; STACK-NOTES).
It listens on free ports, is ready when it sends its ``* OK`` greeting, and
stops with SIGTERM. Options:

- ``move=False``: the post-login CAPABILITY leaves out MOVE, so a client has
  to fall back to UID COPY + STORE + UID EXPUNGE. Dovecot 2.3 has no switch
  for MOVE alone; ``imap_capability`` replaces the whole list, so the helper
  asks a first instance for its list and writes it back without MOVE.
- ``tls=True``: a throw-away CA and a certificate for 127.0.0.1/localhost
  (openssl CLI), an ``imaps`` listener, and STARTTLS on the plain one.
- ``separator``: the hierarchy separator of the inbox namespace.

Example::

    with Dovecot() as server:
        server.add_user("hr", "secret")
        client = server.client("hr", "secret")
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from imapclient import IMAPClient
except ImportError:  # the helper itself only needs the stdlib; client() needs imapclient
    IMAPClient = None  # type: ignore[assignment,misc]

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
INSTALL_HINT = "dovecot is not installed: apt-get install -y dovecot-imapd (or run `make dovecot`)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as() -> tuple[str, str, int, int]:
    """The users Dovecot runs its processes as: never root (Dovecot refuses)."""
    if os.geteuid() == 0:
        internal, login = pwd.getpwnam("dovecot"), pwd.getpwnam("dovenull")
        return internal.pw_name, login.pw_name, internal.pw_uid, internal.pw_gid
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid


def _make_certs(folder: Path) -> None:
    """A CA and a server certificate it signed, for 127.0.0.1 and localhost."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3",
            "-subj", "/CN=pitchsort test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (folder / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
                                       "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem",
            "-days", "3", "-extfile", "server.ext")


class Dovecot:
    """One private Dovecot instance; use as a context manager."""

    def __init__(self, *, move: bool = True, tls: bool = False, separator: str = "/", verbose: bool = False,
                 oauth2_tokeninfo: str = ""):
        self.oauth2_tokeninfo = oauth2_tokeninfo
        self.move = move
        self.tls = tls
        self.separator = separator
        self.verbose = verbose
        self.root = Path(tempfile.mkdtemp(prefix="pitchsort-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.host = "127.0.0.1"
        self.ca_file = self.root / "ca.pem"
        self.capability = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self._users: dict[str, str] = {}
        self._log = self.root / "dovecot.log"

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self) -> None:
        if not Path(DOVECOT).exists():
            raise RuntimeError(INSTALL_HINT)
        if self.tls and not self.ca_file.exists():
            _make_certs(self.root)
        if not self.move and not self.capability:
            self._write_config()
            self._spawn()
            self.capability = " ".join(c for c in self._post_login_capabilities() if c != "MOVE")
            self.stop()
        self._write_config()
        self._spawn()

    def _spawn(self) -> None:
        log = self._log.open("ab")
        # A session of its own, so that kill() can take down every Dovecot process at once like a crash would.
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdout=log, stderr=log, start_new_session=True)
        log.close()
        self._wait_ready()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"dovecot did not greet within {timeout} s:\n{self.log_text()}")

    def stop(self) -> None:
        """SIGTERM, as an administrator would stop it; wait for every process to go."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._wait_gone()
        self.proc = None

    def kill(self) -> None:
        """SIGKILL every process of the server (master, login, imap): a crash, not a shutdown."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self._wait_gone()
        self.proc = None

    def _wait_gone(self) -> None:
        pid = self.proc.pid if self.proc else None
        deadline = time.monotonic() + 5
        while pid and time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)

    def restart(self) -> None:
        self.stop()
        self._spawn()

    # -- configuration ---------------------------------------------------------------------------------------------
    @property
    def conf(self) -> Path:
        return self.root / "dovecot.conf"

    def _write_config(self) -> None:
        internal, login, uid, gid = _run_as()
        group = pwd.getpwnam(internal).pw_name if os.geteuid() == 0 else internal
        for sub in ("mail", "run", "state"):
            (self.root / sub).mkdir(exist_ok=True)
        os.chown(self.root / "mail", uid, gid)
        (self.root / "users").mkdir(exist_ok=True)
        tls = "ssl = no"
        imaps = ""
        if self.tls:
            tls = (f"ssl = yes\nssl_cert = <{self.root / 'server.pem'}\nssl_key = <{self.root / 'server.key'}\n"
                   "ssl_min_protocol = TLSv1.2")
            imaps = f"  inet_listener imaps {{\n    address = {self.host}\n    port = {self.tls_port}\n    ssl = yes\n  }}\n"
        capability = f"imap_capability = {self.capability}\n" if self.capability else ""
        mechanisms = "plain login"
        oauth2 = ""
        if self.oauth2_tokeninfo:  # SASL XOAUTH2: Dovecot asks this URL (token appended) who the token belongs to
            mechanisms += " xoauth2 oauthbearer"
            (self.root / "oauth2.conf").write_text(f"tokeninfo_url = {self.oauth2_tokeninfo}\nusername_attribute = username\n"
                                                   "active_attribute = active\nactive_value = true\n")
            oauth2 = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {self.root / 'oauth2.conf'}\n}}\n"
        self.conf.write_text(f"""\
protocols = imap
listen = {self.host}
base_dir = {self.root / 'run'}
state_dir = {self.root / 'state'}
log_path = {self._log}
info_log_path = {self._log}
{'mail_debug = yes' if self.verbose else ''}
{tls}
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = {min(uid, 100) if uid else 0}
mail_location = maildir:{self.root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
auth_mechanisms = {mechanisms}
{capability}namespace inbox {{
  inbox = yes
  separator = {self.separator}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users/%u
}}
{oauth2}userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
{imaps}}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")

    def add_user(self, name: str, password: str) -> None:
        """Add a mail user: a passwd-file of its own, so Dovecot reads it fresh (it notices a changed
        shared file only by its modification second, which made users added within one second unknown)."""
        if "/" in name or name.startswith("."):
            raise ValueError(f"bad user name {name!r}")
        self._users[name] = password
        (self.root / "users" / name).write_text(f"{name}:{{PLAIN}}{password}::::::\n")

    def log_text(self) -> str:
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    # -- clients ---------------------------------------------------------------------------------------------------
    def client(self, user: str, password: str) -> IMAPClient:
        """A logged-in plaintext IMAPClient (loopback; Dovecot counts 127.0.0.1 as secure)."""
        client = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        client.login(user, password)
        return client

    def _post_login_capabilities(self) -> list[str]:
        self.add_user("capability-probe", "probe")
        with socket.create_connection((self.host, self.port), timeout=5) as s:
            f = s.makefile("rwb")
            f.readline()
            f.write(b"a LOGIN capability-probe probe\r\n")
            f.flush()
            while not (line := f.readline()).startswith(b"a "):
                pass
            # "a OK [CAPABILITY IMAP4rev1 ... MOVE ...] Logged in"
            text = line.decode()
            caps = text[text.index("[CAPABILITY ") + 12:text.index("]")].split()
            f.write(b"b LOGOUT\r\n")
            f.flush()
        del self._users["capability-probe"]
        (self.root / "users" / "capability-probe").unlink()
        return caps


if __name__ == "__main__":  # a quick manual check: python tools/dovecot.py [--no-move] [--tls]
    with Dovecot(move="--no-move" not in sys.argv, tls="--tls" in sys.argv) as server:
        server.add_user("demo", "demo")
        c = server.client("demo", "demo")
        print(server.host, server.port, server.tls_port, c.capabilities())
        c.logout()
