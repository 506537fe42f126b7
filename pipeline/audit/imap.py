"""Read one IMAP folder for the audit, through the nightly run's own config and IMAP wrapper (read-only).

The folder is selected read-only and fetched with BODY.PEEK (see
:mod:`pipeline.imap.session`), so auditing a Sent folder changes nothing on the
server, not even a ``\\Seen`` flag.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.exceptions import ConfigError
from pipeline.imap.config import Account, Config, load
from pipeline.imap.session import open_session
from pipeline.mail.sources import RawMail


def pick_account(config: Config, name: str | None) -> Account:
    """The account called ``name``, or the config's first account."""
    if name is None:
        return config.accounts[0]
    for account in config.accounts:
        if account.name == name:
            return account
    raise ConfigError(f"{config.path.name}: no account '{name}' (accounts: {', '.join(a.name for a in config.accounts)})")


def fetch_folder(config_path: Path | None, folder: str, *, account: str | None = None) -> list[RawMail]:
    """Every message of ``folder`` as :class:`RawMail` with sources like ``imap://hr/Sent/42``.

    Raises :class:`~pipeline.exceptions.ConfigError` or :class:`~pipeline.exceptions.ImapError` with a one-line message.
    """
    config = load(config_path)
    chosen = pick_account(config, account)
    out: list[RawMail] = []
    with open_session(chosen) as session:
        session.select(folder, readonly=True)
        uids = sorted(session.search_all())
        for i in range(0, len(uids), config.batch_size):
            chunk = uids[i:i + config.batch_size]
            fetched = session.fetch(chunk, config.max_message_bytes)
            out += [RawMail(f"imap://{chosen.name}/{folder}/{uid}", fetched[uid].data) for uid in chunk if uid in fetched]
    return out
