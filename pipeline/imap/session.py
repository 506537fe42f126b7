"""A thin wrapper over imapclient: connect safely, fetch without marking read, file messages without losing any.

- :func:`_connect` is the only place a connection is made (imapclient's
  ``_create_IMAP4`` idea): TLS on 993 with certificate and host name checks
  (``ssl.create_default_context``, plus a company CA file), STARTTLS that
  never falls back to clear text, and clear text only when the config says
  ``insecure = true``.
- Every server call goes through :meth:`ImapSession._call`, which maps
  errors to one-line :class:`ImapError` / :class:`AuthError` /
  :class:`ImapConnectionLost` messages. None of them carries the password or
  token: the secret is only ever handed to ``login``/``oauth2_login``, and
  server replies are passed through :func:`redact` as well.
- Fetches use ``BODY.PEEK[]`` (never sets ``\\Seen``). A message larger than
  ``max_bytes`` is fetched as its header plus the first ``PARTIAL_BYTES`` of
  its body, which holds its first text part and the names of its
  attachments: enough to classify it, and it is filed whole on the server.
- :meth:`ImapSession.move` uses MOVE when the server has it; otherwise UID
  COPY, STORE ``\\Deleted`` and UID EXPUNGE of exactly those UIDs (UIDPLUS).
  A plain EXPUNGE, which would also remove whatever else the user had marked
  deleted, is never sent (imapclient's ``expunge()`` sends one when given no
  UIDs, so it is not used).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from pipeline.exceptions import AuthError, ConfigError, ImapConnectionLost, ImapError
from pipeline.imap.config import Account, resolve_secret

log = logging.getLogger(__name__)

PARTIAL_BYTES = 256 * 1024
_SECRETS: set[str] = set()
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def secret_forms(secret: str, user: str = "") -> set[str]:
    """Every form in which ``secret`` can reach a text: as it is, IMAP-quoted, escaped, and base64 (XOAUTH2).

    A server may echo a password back as an IMAP quoted string (``"`` and ``\\`` escaped), an exception may show it
    as a Python repr (``\\x`` or ``\\u`` escapes) or mis-decoded bytes, and SASL XOAUTH2 sends it inside base64.
    """
    utf8 = secret.encode("utf-8")
    forms = {
        secret,
        secret.replace("\\", "\\\\").replace('"', '\\"'),
        repr(secret)[1:-1],
        repr(utf8)[2:-1],
        utf8.decode("latin-1"),
        json.dumps(secret)[1:-1],
        base64.b64encode(utf8).decode(),
        base64.b64encode(f"user={user}\x01auth=Bearer {secret}\x01\x01".encode()).decode(),
    }
    return {f for f in forms if len(f) >= 3}


def remember_secret(secret: str, user: str = "") -> None:
    """From now on, :func:`redact` removes ``secret`` in every form."""
    _SECRETS.update(secret_forms(secret, user))


def redact(text: str) -> str:
    """Remove every secret this process has handled from ``text`` (defence in depth for logs and errors)."""
    for secret in sorted(_SECRETS, key=len, reverse=True):  # a longer form may hold a shorter one
        text = text.replace(secret, "***")
    return text


class RedactingFilter(logging.Filter):
    """A log filter that runs :func:`redact` over every record: a secret cannot reach the log file."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            record.msg = redact(record.getMessage())
            record.args = ()
        return True


def header_digest(header: bytes) -> str:
    """What identifies a message across UIDs and folders: a hash of its header block (COPY keeps it byte for byte)."""
    return hashlib.sha256(header).hexdigest()


def message_id_of(header: bytes) -> str:
    match = _MESSAGE_ID.search(header)
    return re.sub(rb"\s+", b"", match.group(1)).decode("ascii", errors="replace") if match else ""


@dataclass(frozen=True)
class Selected:
    """The folder now selected, as the server described it."""

    name: str
    uidvalidity: int
    uidnext: int
    exists: int
    permanent_flags: tuple[bytes, ...]
    readonly: bool

    def allows_keyword(self, keyword: str) -> bool:
        """PERMANENTFLAGS lists ``\\*`` when new keywords may be created, or the keyword itself when it exists."""
        return b"\\*" in self.permanent_flags or keyword.encode() in self.permanent_flags


@dataclass(frozen=True)
class Fetched:
    uid: int
    data: bytes  # the whole message, or its header and the start of its body when ``partial``
    header: bytes
    size: int
    partial: bool

    @property
    def digest(self) -> str:
        return header_digest(self.header)

    @property
    def message_id(self) -> str:
        return message_id_of(self.header)


def _text(exc: BaseException) -> str:
    """A server reply or socket error as one short line."""
    text = str(exc).strip().replace("\r", " ").replace("\n", " ")
    text = re.sub(r"^(b'|b\")|('|\")$", "", text)
    return redact(text)[:300] or type(exc).__name__


def _tls_context(account: Account) -> ssl.SSLContext:
    """Certificate and host name checks always on; a company CA file when configured."""
    try:
        return ssl.create_default_context(cafile=str(account.ca_file) if account.ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"account '{account.name}': cannot use ca_file {account.ca_file}: {_text(exc)}") from None


def _connect(account: Account) -> IMAPClient:
    """Open the connection (TLS as configured), not yet logged in. The one seam to swap in tests."""
    where = f"{account.host}:{account.port}"
    context = _tls_context(account) if account.tls != "insecure" else None
    try:
        client = IMAPClient(account.host, account.port, ssl=account.tls == "ssl", ssl_context=context, timeout=account.timeout)
        if account.tls == "starttls":
            if b"STARTTLS" not in client.capabilities():
                client.shutdown()
                raise ImapError(f"{where} does not offer STARTTLS; pitchsort will not send the password in clear text")
            client.starttls(context)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_AGAIN:
            raise ImapConnectionLost(f"{account.host}: name lookup failed for now ({exc.strerror})") from None
        raise ImapError(f"{account.host}: unknown host ({exc.strerror})") from None
    except ssl.SSLCertVerificationError as exc:
        hint = "set ca_file to the CA that signed it" if not account.ca_file else f"it is not signed by {account.ca_file}"
        raise ImapError(f"{where}: the server's TLS certificate is not trusted ({exc.verify_message}); {hint}") from None
    except ssl.SSLError as exc:
        raise ImapError(f"{where}: TLS handshake failed ({exc.reason or _text(exc)}); is tls = \"{account.tls}\" right for "
                        f"port {account.port}?") from None
    except (TimeoutError, ConnectionError) as exc:
        raise ImapConnectionLost(f"{where}: cannot connect ({_text(exc)})") from None
    except IMAPClientAbortError as exc:
        raise ImapConnectionLost(f"{where}: connection dropped while opening ({_text(exc)})") from None
    except IMAPClientError as exc:
        raise ImapError(f"{where}: {_text(exc)}") from None
    except OSError as exc:
        raise ImapConnectionLost(f"{where}: cannot connect ({exc.strerror or _text(exc)})") from None
    return client


class ImapSession:
    """One logged-in connection; every call maps errors to pipeline exceptions.

    Use :func:`open_session`; close with :meth:`close` or a ``with`` block.
    """

    def __init__(self, account: Account, client: IMAPClient):
        self.account = account
        self.client = client
        self.selected: Selected | None = None
        self._folders: dict[str, bytes] | None = None
        self._delimiter: str | None = None
        self._prefix = ""

    def __enter__(self) -> ImapSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Log out; on a dead connection just drop the socket, and only log that."""
        try:
            self.client.logout()
        except Exception as exc:  # noqa: BLE001 - closing a dead connection can raise anything; nothing to do about it
            log.debug("logout failed (%s); closing the socket", type(exc).__name__)
            try:
                self.client.shutdown()
            except Exception:  # noqa: BLE001 - the socket is already gone
                pass

    @property
    def where(self) -> str:
        return f"{self.account.user}@{self.account.host}"

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one imapclient call; the single place where its errors become ours."""
        try:
            return fn(*args, **kwargs)
        except IMAPClientAbortError as exc:
            raise ImapConnectionLost(f"{self.where}: connection lost during {what} ({_text(exc)})") from None
        except (TimeoutError, OSError, EOFError) as exc:
            raise ImapConnectionLost(f"{self.where}: connection lost during {what} ({_text(exc)})") from None
        except IMAPClientError as exc:
            raise ImapError(f"{self.where}: {what} failed: {_text(exc)}") from None

    # -- capabilities ----------------------------------------------------------------------------------------------
    def has(self, capability: str) -> bool:
        return bool(self._call("CAPABILITY", self.client.has_capability, capability))

    # -- folders ---------------------------------------------------------------------------------------------------
    def _load_folders(self) -> dict[str, bytes]:
        if self._folders is None:
            listing = self._call("LIST", self.client.list_folders)
            self._folders = {name: delim for _flags, delim, name in listing}
            personal = None
            if self.has("NAMESPACE"):
                ns = self._call("NAMESPACE", self.client.namespace)
                personal = ns.personal[0] if ns.personal else None
            if personal:
                self._prefix, self._delimiter = personal[0], personal[1] or "/"
            else:
                delims = [d for d in self._folders.values() if d]
                self._delimiter = delims[0].decode() if delims else "/"
            if isinstance(self._delimiter, bytes):
                self._delimiter = self._delimiter.decode()
        return self._folders

    def server_name(self, folder: str) -> str:
        """A config folder name (``/`` between levels) in the server's hierarchy separator and personal namespace."""
        self._load_folders()
        if folder.upper() == "INBOX" or folder in self._folders:  # type: ignore[operator]
            return folder
        name = folder.replace("/", self._delimiter or "/")
        if self._prefix and not name.startswith(self._prefix):
            name = self._prefix + name
        return name

    def folder_exists(self, folder: str) -> bool:
        return self.server_name(folder) in self._load_folders() or folder.upper() == "INBOX"

    def ensure_folder(self, folder: str) -> str:
        """Create (and subscribe) the folder if it is missing; return its name on the server."""
        name = self.server_name(folder)
        if name in self._load_folders():
            return name
        if not self._call(f"CREATE {name}", self.client.folder_exists, name):
            try:
                self._call(f"CREATE {name}", self.client.create_folder, name)
            except ImapError:
                if not self._call(f"LIST {name}", self.client.folder_exists, name):  # created meanwhile by another client
                    raise
            log.info("created folder %s", name)
            try:
                self._call(f"SUBSCRIBE {name}", self.client.subscribe_folder, name)
            except ImapError as exc:
                log.warning("could not subscribe to %s: %s", name, exc)
        self._folders[name] = (self._delimiter or "/").encode()  # type: ignore[index]
        return name

    def select(self, folder: str, *, readonly: bool = False) -> Selected:
        name = self.server_name(folder)
        try:
            info = self._call(f"SELECT {name}", self.client.select_folder, name, readonly=readonly)
        except ImapError as exc:
            if not self.folder_exists(folder):
                raise ConfigError(f"account '{self.account.name}': folder '{folder}' does not exist on the server") from None
            raise exc
        self.selected = Selected(
            name=name,
            uidvalidity=int(info[b"UIDVALIDITY"]),
            uidnext=int(info.get(b"UIDNEXT", 0)),
            exists=int(info.get(b"EXISTS", 0)),
            permanent_flags=tuple(info.get(b"PERMANENTFLAGS", ())),
            readonly=readonly or b"READ-ONLY" in info,
        )
        return self.selected

    def status(self, name: str) -> tuple[int, int]:
        """UIDVALIDITY and UIDNEXT of a folder that is not selected (``name`` as on the server)."""
        info = self._call(f"STATUS {name}", self.client.folder_status, name, [b"UIDVALIDITY", b"UIDNEXT"])
        return int(info[b"UIDVALIDITY"]), int(info[b"UIDNEXT"])

    # -- searching and fetching ------------------------------------------------------------------------------------
    def search_all(self) -> list[int]:
        return list(self._call("SEARCH", self.client.search, ["ALL"]))

    def search_since(self, day: date) -> list[int]:
        return list(self._call("SEARCH", self.client.search, ["SINCE", day]))

    def search_from_uid(self, uid: int) -> list[int]:
        # "UID n:*" also matches the highest UID when it is below n (RFC 3501), hence the filter.
        return [u for u in self._call("SEARCH", self.client.search, ["UID", f"{uid}:*"]) if u >= uid]

    def search_keyword(self, keyword: str) -> list[int]:
        return list(self._call("SEARCH", self.client.search, ["KEYWORD", keyword]))

    def search_message_id(self, message_id: str) -> list[int]:
        return list(self._call("SEARCH", self.client.search, ["HEADER", "Message-ID", message_id]))

    def existing(self, uids: Iterable[int]) -> set[int]:
        """Which of these UIDs are still in the selected folder."""
        wanted = sorted(set(uids))
        found: set[int] = set()
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            found |= set(self._call("SEARCH", self.client.search, ["UID", ",".join(map(str, chunk))]))
        return found & set(wanted)

    def fetch(self, uids: list[int], max_bytes: int) -> dict[int, Fetched]:
        """Fetch with BODY.PEEK (nothing is marked read); large messages as header plus the start of the body."""
        if not uids:
            return {}
        sizes = self._call("FETCH", self.client.fetch, uids, ["RFC822.SIZE"])
        small = [u for u in uids if u in sizes and sizes[u].get(b"RFC822.SIZE", 0) <= max_bytes]
        large = [u for u in uids if u in sizes and u not in small]
        out: dict[int, Fetched] = {}
        if small:
            for uid, item in self._call("FETCH", self.client.fetch, small, ["BODY.PEEK[HEADER]", "BODY.PEEK[]"]).items():
                if uid in sizes and b"BODY[]" in item:
                    out[uid] = Fetched(uid, item[b"BODY[]"] or b"", item.get(b"BODY[HEADER]") or b"",
                                       sizes[uid][b"RFC822.SIZE"], False)
        if large:
            parts = ["BODY.PEEK[HEADER]", f"BODY.PEEK[TEXT]<0.{PARTIAL_BYTES}>"]
            for uid, item in self._call("FETCH", self.client.fetch, large, parts).items():
                if uid in sizes and b"BODY[HEADER]" in item:
                    header = item[b"BODY[HEADER]"] or b""
                    out[uid] = Fetched(uid, header + (item.get(b"BODY[TEXT]<0>") or b""), header, sizes[uid][b"RFC822.SIZE"], True)
        return out

    def header_digests(self, uids: list[int]) -> dict[int, str]:
        """Header digests of messages in the selected folder."""
        out = {}
        for i in range(0, len(uids), 200):
            fetched = self._call("FETCH", self.client.fetch, uids[i:i + 200], ["BODY.PEEK[HEADER]"])
            out.update({uid: header_digest(item.get(b"BODY[HEADER]") or b"") for uid, item in fetched.items()})
        return out

    # -- changing the mailbox --------------------------------------------------------------------------------------
    def add_keyword(self, uids: list[int], keyword: str) -> None:
        self._call("STORE", self.client.add_flags, uids, [keyword], silent=True)

    def copy(self, uids: list[int], target: str) -> None:
        self._call(f"COPY to {target}", self.client.copy, uids, target)

    def move(self, uids: list[int], target: str) -> None:
        """MOVE, or UID COPY + STORE \\Deleted + UID EXPUNGE of exactly these UIDs; never a plain EXPUNGE."""
        if self.has("MOVE"):
            self._call(f"MOVE to {target}", self.client.move, uids, target)
            return
        self._require_uidplus()
        self.copy(uids, target)
        self.expunge_uids(uids)

    def expunge_uids(self, uids: list[int]) -> None:
        """Remove exactly these UIDs (they must already be safe elsewhere)."""
        if not uids:  # an empty set would turn into a plain EXPUNGE of everything marked deleted
            return
        self._require_uidplus()
        self._call("STORE", self.client.add_flags, uids, [b"\\Deleted"], silent=True)
        self._call("UID EXPUNGE", self.client.uid_expunge, uids)

    def _require_uidplus(self) -> None:
        if not self.has("UIDPLUS"):
            raise ImapError(f"{self.where}: the server has neither MOVE nor UIDPLUS, so moving would need a plain EXPUNGE, "
                            "which could remove other deleted mail: use action = \"copy\" for this server")

    # -- test and demo helpers -------------------------------------------------------------------------------------
    def iter_folder_names(self) -> Iterator[str]:
        yield from self._load_folders()


def open_session(account: Account, *, connect: Callable[[Account], IMAPClient] | None = None) -> ImapSession:
    """Connect, secure, and log in (LOGIN, or SASL XOAUTH2 with a token from ``oauth2_token_command``)."""
    secret = resolve_secret(account)
    remember_secret(secret, account.user)
    client = (connect or _connect)(account)
    session = ImapSession(account, client)
    where = f"account '{account.name}'"
    try:
        if account.auth.oauth2:
            if not session.has("AUTH=XOAUTH2"):
                raise AuthError(f"{where}: {account.host} does not offer SASL XOAUTH2")
            client.oauth2_login(account.user, secret)
        else:
            if session.has("LOGINDISABLED"):
                raise AuthError(f"{where}: {account.host} does not allow a password login on this connection")
            client.login(account.user, secret)
    except LoginError as exc:
        session.close()
        raise AuthError(f"{where}: {account.host} refused the login for {account.user} ({_text(exc)})") from None
    except AuthError:
        session.close()
        raise
    except IMAPClientAbortError as exc:
        raise ImapConnectionLost(f"{where}: connection lost while logging in ({_text(exc)})") from None
    except (TimeoutError, OSError) as exc:
        raise ImapConnectionLost(f"{where}: connection lost while logging in ({_text(exc)})") from None
    except IMAPClientError as exc:
        session.close()
        raise AuthError(f"{where}: login failed ({_text(exc)})") from None
    return session
