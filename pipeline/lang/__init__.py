"""Language data, kept apart from logic as spaCy keeps its ``lang/`` folders.

Every language has a folder with the same three files:

- ``patterns.jsonl``: ``{"label", "pattern"}`` records for spaCy's
  PhraseMatcher (a string) or Matcher (a list of token dicts);
- ``mail.json``: how that language's mail clients write reply headers,
  subject prefixes and sign-offs;
- ``markers.txt``: frequent words that tell the language apart.

A native speaker extends these files without touching code. They are read
lazily, once per process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.exceptions import LanguageDataError

LANGUAGES: tuple[str, ...] = ("en", "sv", "nl", "nb", "da", "de")
RULE_LABELS: tuple[str, ...] = (
    "GREETING",
    "GENERIC_GREETING",
    "CV_HEADING",
    "JOB_SEEKING",
    "CANDIDATE_OFFER",
    "NUDGE",
    "UNSUBSCRIBE",
    "SERVICE_PITCH",
    "PREVIOUS_CONTACT",
    "DECLINE",
    "FIRST_PERSON",
    "SECOND_PERSON",
)
_HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Pattern:
    label: str
    pattern: str | list[dict[str, Any]]


@dataclass(frozen=True)
class MailConventions:
    on: tuple[str, ...]
    wrote: tuple[str, ...]
    header_fields: tuple[str, ...]
    reply_prefixes: tuple[str, ...]
    forward_prefixes: tuple[str, ...]
    sign_offs: tuple[str, ...]
    tlds: tuple[str, ...]
    original_message: tuple[str, ...]
    months: tuple[tuple[str, ...], ...]
    # "----- Forwarded by Name/ORG on 01/29/2001 03:37 PM -----" (Lotus Notes)
    forwarded_by: tuple[str, ...] = ()
    # "Begin forwarded message:" (Apple Mail)
    forward_intro: tuple[str, ...] = ()


@dataclass(frozen=True)
class LanguageData:
    code: str
    patterns: tuple[Pattern, ...]
    mail: MailConventions
    markers: frozenset[str]


@dataclass(frozen=True)
class CommonData:
    bulk_mailers: tuple[str, ...]
    cv_filename_words: tuple[str, ...]
    freemail_domains: frozenset[str]
    merge_field_names: tuple[str, ...]
    name_titles: frozenset[str]
    attachment_stub_extensions: tuple[str, ...] = ()
    # Languages pitchsort does not read, whose stop words compete in language identification so that their
    # mail is called `other` instead of the nearest of the six.
    other_languages: tuple[str, ...] = ()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LanguageDataError(f"cannot read language data {path}: {exc}") from exc


@cache
def load(code: str) -> LanguageData:
    """Load the data of one language, e.g. ``load("sv")``."""
    if code not in LANGUAGES:
        raise LanguageDataError(f"no language data for {code!r}; known: {', '.join(LANGUAGES)}")
    folder = _HERE / code
    patterns = []
    path = folder / "patterns.jsonl"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            pattern = Pattern(label=rec["label"], pattern=rec["pattern"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LanguageDataError(f"{path}:{n}: not a pattern record ({exc})") from exc
        if pattern.label not in RULE_LABELS:
            raise LanguageDataError(f"{path}:{n}: unknown label {pattern.label!r}")
        patterns.append(pattern)
    raw = _read_json(folder / "mail.json")
    try:
        raw["months"] = [tuple(names) for names in raw.get("months", [])]
        mail = MailConventions(**{k: tuple(v) for k, v in raw.items()})
    except TypeError as exc:
        raise LanguageDataError(f"{folder / 'mail.json'}: {exc}") from exc
    markers = frozenset((folder / "markers.txt").read_text(encoding="utf-8").split())
    return LanguageData(code=code, patterns=tuple(patterns), mail=mail, markers=markers)


@cache
def common() -> CommonData:
    """Language-independent data: bulk mailers, CV file-name words, freemail domains."""
    raw = _read_json(_HERE / "common.json")
    return CommonData(
        bulk_mailers=tuple(raw["bulk_mailers"]),
        cv_filename_words=tuple(raw["cv_filename_words"]),
        freemail_domains=frozenset(raw["freemail_domains"]),
        merge_field_names=tuple(raw["merge_field_names"]),
        name_titles=frozenset(raw["name_titles"]),
        attachment_stub_extensions=tuple(raw.get("attachment_stub_extensions", ())),
        other_languages=tuple(raw.get("other_languages", ())),
    )


def all_languages() -> list[LanguageData]:
    return [load(code) for code in LANGUAGES]
