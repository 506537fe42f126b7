"""The TOML configuration of the nightly IMAP run: read, validate, and say exactly what is wrong and where.

One file (``--config``, default ``$XDG_CONFIG_HOME/pitchsort/config.toml``)
holds the accounts, the per-label actions and the run's paths. Validation is
written as data where it can be (``_ACCOUNT_KEYS``, ``ACTIONS``) and collects
*every* problem, each prefixed with the file and the place
(``config.toml: account 'hr': port must be a number``), so that
``pitchsort config check`` can list them all at once.

Secrets are never stored on the dataclasses: :class:`Auth` holds only *how*
to get one (an environment variable's name, a command), and
:func:`resolve_secret` fetches it at connect time. A password written in the
file itself works, but :func:`load` warns when the file is readable by
others.

Example::

    config = load(Path("config.toml"))
    for account in config.accounts:
        print(account.name, account.host, account.folders)
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import LABELS, NEVER_MOVED, UNCERTAIN
from pipeline.exceptions import AuthError, ConfigError, ConfigProblems

ACTIONS = ("keyword", "copy", "move", "none")
TLS_MODES = ("ssl", "starttls", "insecure")
AUTH_KEYS = ("password_env", "password_command", "oauth2_token_command", "password")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "insecure": 143}
# An IMAP keyword is an atom: no spaces, parentheses, braces, quotes, % * ] or backslash (RFC 3501 atom-specials).
_KEYWORD = re.compile(r"^[^\s(){}\"%*\]\\]+$")
_ACCOUNT_KEYS = {
    "name": str, "host": str, "port": int, "tls": str, "insecure": bool, "ca_file": str, "user": str,
    "password_env": str, "password_command": str, "oauth2_token_command": str, "password": str,
    "folders": list, "timeout": (int, float),
}
_TOP_KEYS = {"account", "actions", "learn", "threshold", "csv", "state", "log", "model", "batch_size",
             "max_message_bytes", "reconnect_tries", "reconnect_delay", "since_days",
             "owner_domains"}
_TYPE_NAMES = {str: "a string", int: "a number", bool: "true or false", list: "a list", (int, float): "a number"}


def xdg_dir(kind: str) -> Path:
    """``$XDG_CONFIG_HOME`` / ``$XDG_STATE_HOME`` with their spec defaults, plus ``pitchsort``."""
    env, default = {"config": ("XDG_CONFIG_HOME", ".config"), "state": ("XDG_STATE_HOME", ".local/state")}[kind]
    base = os.environ.get(env) or str(Path.home() / default)
    return Path(base) / "pitchsort"


def default_config_path() -> Path:
    return xdg_dir("config") / "config.toml"


@dataclass(frozen=True)
class Auth:
    """How to obtain the secret, never the secret itself (except ``kind == "password"``, read from the file)."""

    kind: str
    value: str = field(repr=False)

    @property
    def oauth2(self) -> bool:
        return self.kind == "oauth2_token_command"


@dataclass(frozen=True)
class Account:
    name: str
    host: str
    port: int
    tls: str
    user: str
    auth: Auth
    folders: tuple[str, ...] = ("INBOX",)
    ca_file: Path | None = None
    timeout: float = 60.0


@dataclass(frozen=True)
class Action:
    """What to do with a message of one label: ``keyword`` (with ``keyword``), ``copy``/``move`` (to ``folder``), ``none``."""

    action: str
    folder: str = ""
    keyword: str = ""


@dataclass(frozen=True)
class Config:
    path: Path
    accounts: tuple[Account, ...]
    actions: dict[str, Action]
    learn_folders: dict[str, str]
    threshold: float = 0.6
    csv: Path | None = None
    state: Path = field(default_factory=lambda: xdg_dir("state") / "state.sqlite")
    log: Path = field(default_factory=lambda: xdg_dir("state") / "pitchsort.log")
    model: Path | None = None
    batch_size: int = 50
    max_message_bytes: int = 2_000_000
    reconnect_tries: int = 5
    reconnect_delay: float = 2.0
    since_days: int = 30
    # The mailbox owner's organisation: mail from these domains that is not a reply is `other`.
    owner_domains: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def default_keyword(label: str) -> str:
    return f"$pitchsort_{label}"


def default_actions() -> dict[str, Action]:
    """The default is ``keyword`` only, for every label but ``other`` (``none``): nothing moves unless the user asks."""
    actions = {label: Action("keyword", keyword=default_keyword(label)) for label in (*LABELS, UNCERTAIN)}
    actions["other"] = Action("none")
    return actions


class _Problems:
    """Collects problems as ``file: place: what`` lines."""

    def __init__(self, path: Path):
        self.name = path.name
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{self.name}: {where}: {what}" if where else f"{self.name}: {what}")


def _typed(raw: dict[str, Any], key: str, kind: Any, where: str, problems: _Problems) -> Any:
    value = raw.get(key)
    if value is None:
        return None
    ok = isinstance(value, kind) and not (kind in (int, (int, float)) and isinstance(value, bool))
    if not ok:
        problems.add(where, f"{key} must be {_TYPE_NAMES[kind]}")
        return None
    return value


def _path(value: str | None, base: Path) -> Path | None:
    if value is None:
        return None
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def _account(raw: Any, index: int, base: Path, problems: _Problems) -> Account | None:
    if not isinstance(raw, dict):
        problems.add(f"account #{index + 1}", "must be a table ([[account]])")
        return None
    label = f"account '{raw['name']}'" if isinstance(raw.get("name"), str) else f"account #{index + 1}"
    for key in sorted(set(raw) - set(_ACCOUNT_KEYS)):
        problems.add(label, f"unknown key '{key}'")
    v = {key: _typed(raw, key, kind, label, problems) for key, kind in _ACCOUNT_KEYS.items()}
    before = len(problems.items)
    for key in ("host", "user"):
        if key not in raw:
            problems.add(label, f"{key} is missing")
        elif isinstance(raw[key], str) and not raw[key].strip():
            problems.add(label, f"{key} is empty")
    tls = v["tls"] or "ssl"
    if v["tls"] is not None and tls not in TLS_MODES:
        problems.add(label, f"tls must be one of {', '.join(TLS_MODES)}, not '{tls}'")
    if tls == "insecure" and v["insecure"] is not True:
        problems.add(label, "tls = \"insecure\" sends the password in clear text: add insecure = true to mean it")
    if v["insecure"] is True and tls != "insecure":
        problems.add(label, "insecure = true only goes with tls = \"insecure\"")
    port = v["port"] if v["port"] is not None else DEFAULT_PORTS.get(tls, 993)
    if v["port"] is not None and not 0 < port < 65536:
        problems.add(label, f"port must be between 1 and 65535, not {port}")
    ca_file = _path(v["ca_file"], base)
    if ca_file is not None and not ca_file.is_file():
        problems.add(label, f"ca_file {ca_file} does not exist")
    given = [k for k in AUTH_KEYS if k in raw]
    if not given:
        problems.add(label, f"no credentials: set one of {', '.join(AUTH_KEYS)}")
    elif len(given) > 1:
        problems.add(label, f"set only one of {', '.join(given)}")
    elif v[given[0]] is not None and not v[given[0]].strip():
        problems.add(label, f"{given[0]} is empty")
    folders = v["folders"] if v["folders"] is not None else ["INBOX"]
    if not folders or not all(isinstance(f, str) and f.strip() for f in folders):
        problems.add(label, "folders must be a non-empty list of folder names")
    if len(set(folders)) != len(folders):
        problems.add(label, "folders lists a folder twice")
    timeout = v["timeout"] if v["timeout"] is not None else 60.0
    if timeout <= 0:
        problems.add(label, "timeout must be above 0 seconds")
    if len(problems.items) > before or not given or v[given[0]] is None:
        return None
    return Account(
        name=v["name"] or f"{v['user']}@{v['host']}", host=v["host"].strip(), port=port, tls=tls, user=v["user"],
        auth=Auth(given[0], v[given[0]]), folders=tuple(folders), ca_file=ca_file, timeout=float(timeout),
    )


def _actions(raw: Any, problems: _Problems) -> dict[str, Action]:
    actions = default_actions()
    if raw is None:
        return actions
    if not isinstance(raw, dict):
        problems.add("actions", "must be a table of label = { action = ... }")
        return actions
    for label, spec in raw.items():
        where = f"actions.{label}"
        if label not in actions:
            problems.add(where, f"unknown label (labels: {', '.join((*LABELS, UNCERTAIN))})")
            continue
        if isinstance(spec, str):
            spec = {"action": spec}
        if not isinstance(spec, dict):
            problems.add(where, "must be { action = \"keyword|copy|move|none\", folder = \"...\" }")
            continue
        for key in sorted(set(spec) - {"action", "folder", "keyword"}):
            problems.add(where, f"unknown key '{key}'")
        kind = spec.get("action", "keyword")
        folder, keyword = spec.get("folder", ""), spec.get("keyword", default_keyword(label))
        if kind not in ACTIONS:
            problems.add(where, f"action must be one of {', '.join(ACTIONS)}, not '{kind}'")
            continue
        if not isinstance(folder, str) or not isinstance(keyword, str):
            problems.add(where, "folder and keyword must be strings")
            continue
        if kind in ("copy", "move") and not folder.strip():
            problems.add(where, f"action '{kind}' needs a folder")
        if kind in ("keyword", "none") and folder:
            problems.add(where, f"folder is only used by copy and move, not '{kind}' (for learning, use [learn])")
        if kind in ("copy", "move") and label in NEVER_MOVED:
            problems.add(where, f"{label} mail is never moved or copied: use keyword or none")
        if kind == "keyword" and not _KEYWORD.match(keyword):
            problems.add(where, f"'{keyword}' is not a valid IMAP keyword (no spaces, brackets or quotes)")
        if kind == "keyword" and keyword.startswith("\\"):
            problems.add(where, "a keyword cannot be a system flag")
        actions[label] = Action(kind, folder.strip(), keyword if kind == "keyword" else "")
    return actions


def _learn(raw: Any, actions: dict[str, Action], problems: _Problems) -> dict[str, str]:
    """Label folders to learn from: every copy/move folder, plus what ``[learn]`` adds for other labels."""
    folders = {label: a.folder for label, a in actions.items() if a.folder and label in LABELS}
    if raw is None:
        return folders
    if not isinstance(raw, dict):
        problems.add("learn", "must be a table of label = \"folder\"")
        return folders
    for label, folder in raw.items():
        if label not in LABELS:
            problems.add(f"learn.{label}", f"unknown label (labels: {', '.join(LABELS)})")
        elif not isinstance(folder, str) or not folder.strip():
            problems.add(f"learn.{label}", "must be a folder name")
        else:
            folders[label] = folder.strip()
    return folders


def parse(text: str, path: Path) -> Config:
    """Validate TOML text; raise :class:`ConfigError` listing every problem."""
    problems = _Problems(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigProblems(f"{path.name}: not valid TOML: {exc}", [f"{path.name}: not valid TOML: {exc}"]) from None
    base = path.parent
    for key in sorted(set(raw) - _TOP_KEYS):
        problems.add("", f"unknown key '{key}'")
    accounts_raw = raw.get("account")
    accounts: list[Account] = []
    if accounts_raw is None:
        problems.add("", "no [[account]] section")
    elif not isinstance(accounts_raw, list):
        problems.add("account", "write accounts as [[account]] tables")
    else:
        for i, item in enumerate(accounts_raw):
            account = _account(item, i, base, problems)
            if account:
                accounts.append(account)
        names = [a.name for a in accounts]
        for name in sorted({n for n in names if names.count(n) > 1}):
            problems.add(f"account '{name}'", "two accounts have this name")
    actions = _actions(raw.get("actions"), problems)
    learn = _learn(raw.get("learn"), actions, problems)
    for account in accounts:
        for label, action in actions.items():
            if action.folder and action.folder in account.folders:
                problems.add(f"actions.{label}", f"folder '{action.folder}' is also scanned by account '{account.name}'")
    top: dict[str, Any] = {}
    for key, kind, low, high in (("threshold", (int, float), 0, 1), ("batch_size", int, 1, 1000),
                                 ("max_message_bytes", int, 10_000, None), ("reconnect_tries", int, 0, 100),
                                 ("reconnect_delay", (int, float), 0, 3600), ("since_days", int, 1, None)):
        value = _typed(raw, key, kind, "", problems)
        if value is None:
            continue
        if value < low or (high is not None and value > high):
            problems.add("", f"{key} must be between {low} and {high}" if high is not None else f"{key} must be at least {low}")
        else:
            top[key] = value
    domains = raw.get("owner_domains")
    if domains is not None:
        if not isinstance(domains, list) or not all(isinstance(d, str) and "." in d and " " not in d for d in domains):
            problems.add("owner_domains", "must be a list of domains, e.g. [\"nordvik.se\", \"nordvik.com\"]")
        else:
            top["owner_domains"] = tuple(d.strip().lower() for d in domains)
    for key in ("csv", "state", "log", "model"):
        value = _typed(raw, key, str, "", problems)
        if value is not None:
            top[key] = _path(value, base)
    if problems.items:
        raise ConfigProblems(problems.items[0] + (f" (and {len(problems.items) - 1} more)" if len(problems.items) > 1 else ""),
                          problems.items)
    return Config(path=path, accounts=tuple(accounts), actions=actions, learn_folders=learn,
                  warnings=tuple(_warnings(path, accounts)), **top)


def _warnings(path: Path, accounts: list[Account]) -> list[str]:
    out = []
    for account in accounts:
        if account.auth.kind == "password":
            try:
                mode = path.stat().st_mode
            except OSError:
                continue
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                out.append(f"{path.name}: account '{account.name}': the password is in a file others can read; "
                           f"chmod 600 {path} or use password_env / password_command")
        if account.auth.kind == "password_env" and account.auth.value not in os.environ:
            out.append(f"{path.name}: account '{account.name}': environment variable {account.auth.value} is not set here")
    return out


def load(path: Path | None) -> Config:
    """Read and validate the config file (default: the XDG config dir)."""
    path = path or default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no config file at {path} (see docs/IMAP.md)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return parse(text, path)


def resolve_secret(account: Account) -> str:
    """The password or OAuth2 token, fetched now; errors never carry it (nor a command's output)."""
    auth = account.auth
    where = f"account '{account.name}'"
    if auth.kind == "password":
        return auth.value
    if auth.kind == "password_env":
        secret = os.environ.get(auth.value)
        if not secret:
            raise ConfigError(f"{where}: environment variable {auth.value} is not set")
        return secret
    try:
        argv = shlex.split(auth.value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {auth.kind} cannot be split into words ({exc})") from None
    try:
        done = subprocess.run(argv, capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ConfigError(f"{where}: {auth.kind}: command not found: {argv[0]}") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AuthError(f"{where}: {auth.kind} could not run ({type(exc).__name__})") from None
    if done.returncode != 0:
        raise AuthError(f"{where}: {auth.kind} failed with exit code {done.returncode}")
    lines = done.stdout.decode("utf-8", errors="replace").splitlines()
    secret = lines[0].strip() if lines else ""  # `pass show` prints the password on its first line
    if not secret:
        raise AuthError(f"{where}: {auth.kind} printed nothing")
    return secret
