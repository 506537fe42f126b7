"""Template fingerprints: which messages are one mail-merged template, across senders, recipients and months.

A message's new text (quotes and signature already removed by
:mod:`pipeline.mail.message`) is reduced to what a mail merge does *not* vary:
recipient and sender names, companies and domains, e-mail addresses, URLs,
numbers and dates are replaced by placeholders (:func:`masked_tokens`).
Word 3-shingles of what is left go into a MinHash (datasketch's "affine32"
scheme, computed here in numpy), as Rspamd's
fuzzy hashes do, so two siblings of one template agree however their merge
fields were filled, while a personal mail, or the same words rearranged,
does not.

:class:`TemplateIndex` keeps the signatures in an LSH index in one SQLite
file (datasketch's own storage is in memory or needs Redis/Cassandra): 32
bands of 4 rows, each band hashed to one integer bucket, with an index on
the bucket. A bucket keeps at most 8 members, so a template sent 10,000
times costs no more per look-up than one sent ten times; the members that
share the most bands with a new message are read back and compared, and it
joins the family of the most similar one when their estimated Jaccard
similarity reaches :data:`SIMILARITY`; the
family's id is derived from the key of its first member, so it is the same
after a restart. Families never merge: that would change ids already
written to CSVs.

Example::

    index = TemplateIndex.open(Path("templates.sqlite"))
    match = index.add("imap/INBOX/42", message)
    print(match.template_id, match.size, match.recipients, match.senders)
    index.close()
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from pipeline import lang
from pipeline.exceptions import TemplateIndexError
from pipeline.features.mailmerge import company_token, fold, people_names
from pipeline.mail.message import Message

NUM_PERM = 128
BANDS, ROWS = 32, 4  # an LSH threshold near (1/32)^(1/4) = 0.42, below SIMILARITY so true siblings are found
SIMILARITY = 0.5  # estimated Jaccard of masked 3-shingles: mail-merge siblings score 0.7-1.0, unrelated mail < 0.1
SHINGLE = 3
MIN_WORDS = 8  # shorter texts ("Thanks, see you Tuesday!") are alike by chance, not by template
SEED = 1
_PER_BUCKET = 8  # members kept per bucket: enough to find a family again, few enough that a huge family stays cheap
_COMPARED = 8  # candidates whose signatures are read back and compared, best-voted first
_COMMIT_EVERY = 1000
SCHEMA = 1

NAME, ORG, EMAIL, URL, NUM, DATE = "<name>", "<org>", "<email>", "<url>", "<num>", "<date>"
_TOKEN = re.compile(
    r"(?P<url>(?:https?://|www\.)\S+)"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<domain>\b[\w-]{2,}(?:\.[\w-]{2,})*\.(?:com|net|org|io|eu|se|nl|no|dk|de|at|ch|be|fi|uk|co)\b)"
    r"|(?P<num>\d[\d.,:/-]*)"
    r"|(?P<word>[^\W\d_]+(?:['’-][^\W\d_]+)*)",
    re.I,
)
_PLACEHOLDERS = frozenset({NAME, ORG, EMAIL, URL, NUM, DATE})
# Characters around a word that no token can contain: stripped, a purely alphabetic rest is one word token.
_EDGE_PUNCT = ",.;:!?()[]{}\"'«»“”„‘’…"


@cache
def _date_words() -> frozenset[str]:
    path = Path(lang.__file__).parent / "dates.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return frozenset(w for code in lang.LANGUAGES for w in data[code])


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The ``a * h + b`` (mod 2^32, ``a`` odd) permutations of datasketch's affine32 MinHash, drawn as it draws them.

    Computing the MinHash here rather than through datasketch saves a Python
    object and a list per message and the import of scipy that datasketch
    brings; the signatures are the same, so existing indexes stay valid.
    """
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    # MurmurHash3's finalizer: datasketch pre-mixes every input hash with it before the permutations.
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def minhash(shingles: np.ndarray) -> np.ndarray:
    """The ``NUM_PERM`` uint32 MinHash values of a set of 32-bit shingle hashes (all 2^32-1 when it is empty)."""
    if not len(shingles):
        return np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    a, b = _permutations()
    h = _fmix32(shingles.astype(np.uint32)).reshape(-1, 1)
    return (h * a + b).min(axis=0)


_fold = lru_cache(maxsize=1 << 14)(fold)  # the same few thousand words recur across a mailbox; the names do not


def _people(message: Message) -> tuple[set[str], tuple[str, ...]]:
    """Name words and folded company tokens of everyone on the message."""
    everyone = (message.sender, *message.recipients)
    names = {_fold(n) for n in people_names(everyone) if len(n) > 1}
    companies = tuple(sorted({_fold(t) for t in (company_token(a) for a in everyone) if t}))
    return names, companies


def masked_tokens(message: Message) -> list[str]:
    """The new text as lower-case words, with what a mail merge varies replaced by placeholders.

    The first line, when it is a short greeting, has its capitalised words masked as names too: a slip
    such as "Hej Johan" to Erik is still the same template. Runs of one placeholder collapse into one,
    so "Karin Berg" and "Erik" give the same tokens.

    >>> from pipeline.mail.message import parse_bytes
    >>> m = parse_bytes(b"From: a@kvarn.se\\nTo: Karin Berg <karin.berg@nordvik.se>\\n\\nHej Karin Berg, ring 070-123 45 67 om Nordvik!")
    >>> masked_tokens(m)
    ['hej', '<name>', 'ring', '<num>', 'om', '<org>']
    """
    names, companies = _people(message)
    # A company token of five letters or more also masks its inflections: "Nordviks", "Nordvik-teamet".
    prefixes = tuple(c for c in companies if len(c) >= 5)
    dates = _date_words()
    lines = message.text.split("\n", 1)
    first_is_greeting = len(lines[0].split()) <= 6
    out: list[str] = []
    last = ""
    for n, line in enumerate(lines):
        for chunk in line.split():
            # Most chunks are a plain word with punctuation around it; only the others need the full token regex.
            # No token spans white space, so reading chunk by chunk finds what reading the line finds.
            core = chunk.strip(_EDGE_PUNCT)
            for url, email, domain, _num, raw in ((("", "", "", "", core),) if core.isalpha() else _TOKEN.findall(chunk)):
                if not raw:
                    token = URL if url else EMAIL if email else ORG if domain else NUM
                else:
                    low = raw.lower()
                    folded = low if low.isascii() else _fold(raw)
                    if folded in names or (n == 0 and first_is_greeting and out and raw[:1].isupper()):
                        token = NAME
                    elif folded in companies or (prefixes and folded.startswith(prefixes)):
                        token = ORG
                    elif low in dates:
                        token = DATE
                    else:
                        token = low
                if token == last and token in _PLACEHOLDERS:
                    continue
                out.append(token)
                last = token
    return out


def _token_hashes(tokens: list[str]) -> np.ndarray:
    # crc32 is stable across processes (Python's hash() is salted per process) and fast enough in C.
    return np.fromiter(map(zlib.crc32, map(str.encode, tokens)), dtype=np.uint64, count=len(tokens))


def shingle_hashes(tokens: list[str]) -> np.ndarray:
    """Distinct 32-bit hashes of the word 3-shingles of ``tokens`` (one shingle for shorter texts)."""
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    h = _token_hashes(tokens)
    if len(h) < SHINGLE:
        h = np.concatenate([h, np.zeros(SHINGLE - len(h), dtype=np.uint64)])
    mixed = np.zeros(len(h) - SHINGLE + 1, dtype=np.uint64)
    for k in range(SHINGLE):
        # Order matters in a shingle: each position gets its own odd multiplier before the 32-bit fold.
        mixed = (mixed * np.uint64(0x9E3779B1) + h[k : len(h) - SHINGLE + 1 + k]) & np.uint64(0xFFFFFFFFFFFF)
    mixed ^= mixed >> np.uint64(17)
    mixed = (mixed * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    return np.unique(mixed)


@dataclass(frozen=True)
class Fingerprint:
    """A message's MinHash signature (``NUM_PERM`` uint32 values) and how many distinct shingles it rests on."""

    signature: np.ndarray
    shingles: int
    words: int

    @property
    def too_short(self) -> bool:
        return self.words < MIN_WORDS

    def similarity(self, other: Fingerprint) -> float:
        """Estimated Jaccard similarity of the two shingle sets."""
        return float(np.mean(self.signature == other.signature))

    def to_bytes(self) -> bytes:
        return self.signature.astype("<u4").tobytes()


def fingerprint(message: Message) -> Fingerprint:
    """The template fingerprint of ``message``'s new text (pure: no index, no I/O).

    >>> from pipeline.mail.message import parse_bytes
    >>> text = "Hej {}, vi har tre starka kandidater till {} inom logistik i Umea."
    >>> a = parse_bytes(f"From: s@brygga.se\\nTo: Karin <karin@nordvik.se>\\n\\n{text.format('Karin', 'Nordvik')}".encode())
    >>> b = parse_bytes(f"From: s@brygga.se\\nTo: Erik <erik@kvarnby.se>\\n\\n{text.format('Erik', 'Kvarnby')}".encode())
    >>> fingerprint(a).similarity(fingerprint(b))
    1.0
    """
    tokens = masked_tokens(message)
    shingles = shingle_hashes(tokens)
    words = sum(1 for t in tokens if t[0] != "<")
    return Fingerprint(signature=minhash(shingles), shingles=len(shingles), words=words)


def template_id_for(key: str) -> str:
    """A short, stable id for a family: ``t`` and 10 hex digits of its first member's key (no collision in millions)."""
    return "t" + hashlib.blake2b(key.encode("utf-8"), digest_size=5).hexdigest()


_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)


def _buckets(signatures: np.ndarray) -> list[list[int]]:
    """One signed 64-bit bucket per band for each row of ``signatures``, the band number mixed in so that one SQLite
    index serves all bands.

    It takes a batch because numpy's cost is mostly per call: 256 signatures cost little more than one.
    """
    rows = signatures.astype(np.uint64).reshape(len(signatures), BANDS, ROWS)
    h = np.broadcast_to(_BAND_SALT, (len(signatures), BANDS))
    with np.errstate(over="ignore"):  # FNV-style mixing wraps around on purpose
        for k in range(ROWS):
            h = (h ^ rows[:, :, k]) * np.uint64(0x100000001B3)
        h = h ^ (h >> np.uint64(29))
    return h.view(np.int64).tolist()


@dataclass(frozen=True)
class TemplateMatch:
    """The family a message joined: its id, its size including the message, distinct recipient and sender addresses."""

    template_id: str
    size: int
    recipients: int
    senders: int


@dataclass(frozen=True)
class Arrival:
    """A parsed message and the template family it joined when it arrived.

    The family is what the index knew at that moment, not a fact about the
    message, so it travels beside the parsed message instead of inside it.
    """

    message: Message
    template: TemplateMatch | None = None


def index_key(m: Message) -> str:
    """What a message is indexed under: its Message-ID, so that a message seen again is not counted twice."""
    return m.message_id or m.source


def _addresses(message: Message) -> tuple[set[str], set[str]]:
    recipients = {a.email.lower() for a in message.recipients if a.email}
    senders = {message.sender.email.lower()} if message.sender.email else set()
    return recipients, senders


_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    message_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    signature BLOB
);
CREATE INDEX IF NOT EXISTS members_message_id ON members (message_id);
CREATE TABLE IF NOT EXISTS buckets (bucket INTEGER NOT NULL, member INTEGER NOT NULL, PRIMARY KEY (bucket, member)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS families (
    template_id TEXT PRIMARY KEY,
    first_key TEXT NOT NULL,
    size INTEGER NOT NULL,
    recipients INTEGER NOT NULL,
    senders INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS family_addresses (
    template_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    PRIMARY KEY (template_id, kind, address)
) WITHOUT ROWID;
"""


# No bucket ever holds more than _PER_BUCKET members (see add), so a look-up reads at most BANDS * _PER_BUCKET rows.
# SQLite counts the votes and reads back the signatures of the best-voted members (ties: the older member) in the same
# statement, so each message costs one look-up; ORDER BY id costs no sorting, as `id IN (...)` walks the ids in order.
_BANDS_IN = ",".join("?" * BANDS)
_CANDIDATES_SQL = (f"SELECT id, template_id, signature FROM members WHERE id IN (SELECT member FROM buckets "
                   f"WHERE bucket IN ({_BANDS_IN}) GROUP BY member ORDER BY COUNT(*) DESC, member LIMIT {_COMPARED}) ORDER BY id")
# A message's buckets go in with one statement, ?1 being the member (OR IGNORE: a signature may, very rarely, give one
# bucket twice). A full bucket gives each of its _PER_BUCKET members a vote, so only after a look-up that returned
# _MAYBE_FULL candidates can one of the buckets be full; the second form then leaves the full ones out itself, counting
# members where the insert has to look anyway, which is cheaper than a look-up of the full buckets beforehand.
_MAYBE_FULL = min(_PER_BUCKET, _COMPARED)
_BANDS_VALUES = ",".join(f"(?{k})" for k in range(2, BANDS + 2))
_INSERT_BUCKETS_SQL = f"INSERT OR IGNORE INTO buckets SELECT column1, ?1 FROM (VALUES {_BANDS_VALUES})"
_INSERT_OPEN_BUCKETS_SQL = f"{_INSERT_BUCKETS_SQL} WHERE (SELECT COUNT(*) FROM buckets WHERE bucket = column1) < {_PER_BUCKET}"
_FAMILY_OF_KEY_SQL = ("SELECT f.template_id, f.size, f.recipients, f.senders FROM members m "
                      "JOIN families f ON f.template_id = m.template_id WHERE m.key = ?")


def _settings() -> dict[str, str]:
    """What must not change under an existing index: other settings give other signatures and buckets."""
    return {"schema": str(SCHEMA), "num_perm": str(NUM_PERM), "bands": str(BANDS), "rows": str(ROWS), "shingle": str(SHINGLE),
            "seed": str(SEED), "minhash": "datasketch-affine32-crc32"}


class TemplateIndex:
    """An LSH index of template fingerprints in one SQLite file (or in memory).

    Parameters
    ----------
    connection : sqlite3.Connection
        Use :meth:`open` rather than building one.

    Notes
    -----
    Writes are committed every 1,000 additions and by :meth:`close`; the index is
    derived data, so a crash loses at most the last uncommitted additions, which
    are simply added again on the next run.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path | None):
        self._db = connection
        self.path = path
        self._pending = 0

    # -- opening and closing ---------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | None = None, *, cache_mb: int = 64, mmap: bool = True, scratch: bool = False) -> TemplateIndex:
        """Open (creating if needed) the index at ``path``; ``None`` keeps it in memory.

        ``cache_mb`` and ``mmap`` bound what a file-backed index keeps in memory:
        a one-off run over a large mailbox wants a small cache and no mapping.
        ``scratch`` is for an index thrown away after the run: no journal and no
        syncing to disk, which a crash would cost nothing but the run itself.
        """
        where = str(path) if path is not None else ":memory:"
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(where)
            db.execute("PRAGMA journal_mode=WAL" if path is not None and not scratch else "PRAGMA journal_mode=MEMORY")
            db.execute("PRAGMA synchronous=OFF" if scratch else "PRAGMA synchronous=NORMAL")
            # Look-ups touch random pages of the bucket index: keep them in memory (64 MB cache, 1 GB mapped).
            db.execute(f"PRAGMA cache_size={-1024 * int(cache_mb)}")
            db.execute(f"PRAGMA mmap_size={1073741824 if mmap else 0}")
            db.executescript(_SCHEMA_SQL)
            saved = dict(db.execute("SELECT name, value FROM meta").fetchall())
            wanted = _settings()
            if not saved:
                db.executemany("INSERT INTO meta VALUES (?, ?)", wanted.items())
                db.commit()
            elif saved != wanted:
                changed = sorted(k for k in wanted if saved.get(k) != wanted[k])
                db.close()
                raise TemplateIndexError(f"{where} was built with other fingerprint settings ({', '.join(changed)}): "
                                         "delete it and it is rebuilt")
        except sqlite3.DatabaseError as exc:
            raise TemplateIndexError(f"cannot open the template index {where}: {exc}") from None
        except OSError as exc:
            raise TemplateIndexError(f"cannot open the template index {where}: {exc.strerror}") from None
        return cls(db, path)

    def flush(self) -> None:
        """Commit what was added so far."""
        self._db.commit()
        self._pending = 0

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()

    def __enter__(self) -> TemplateIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM members").fetchone()[0])

    # -- queries ---------------------------------------------------------------------------------------------------
    def _candidates(self, buckets: list[int]) -> list[tuple[int, str, bytes]]:
        """(id, family, signature) of the members sharing the most bands with the signature, in id order.

        Sharing more bands means a higher similarity, so only the best-voted few are read back and compared.
        """
        return self._db.execute(_CANDIDATES_SQL, buckets).fetchall() if buckets else []

    def _best(self, fp: Fingerprint, candidates: list[tuple[int, str, bytes]]) -> tuple[str, float] | None:
        """The family of the most similar candidate, if similar enough (ties: the older member)."""
        if fp.too_short or not candidates:
            return None
        sigs = np.frombuffer(b"".join([c[2] for c in candidates]), dtype="<u4").reshape(len(candidates), NUM_PERM)
        # The count of equal values, divided by NUM_PERM, is exactly their mean, at half the cost of np.mean.
        agree = (sigs == fp.signature).sum(axis=1)
        best = int(agree.argmax())  # candidates come in id order, so argmax picks the oldest of equals
        score = int(agree[best]) / NUM_PERM
        if score < SIMILARITY:
            return None
        return candidates[best][1], score

    def _family(self, template_id: str) -> TemplateMatch | None:
        row = self._db.execute("SELECT size, recipients, senders FROM families WHERE template_id = ?", (template_id,)).fetchone()
        return TemplateMatch(template_id, *row) if row else None

    def _new_addresses(self, template_id: str, kind: str, addresses: Iterable[str]) -> int:
        found = 0
        for address in addresses:
            hit = self._db.execute("SELECT 1 FROM family_addresses WHERE template_id = ? AND kind = ? AND address = ?",
                                   (template_id, kind, address)).fetchone()
            found += hit is None
        return found

    def match(self, message: Message) -> TemplateMatch:
        """The family ``message`` belongs to, or would join, without adding it.

        A message already indexed (same Message-ID) gets its family as it stands; any other message is
        counted in, as :meth:`add` would count it: size one more, its addresses added to the distinct counts.
        """
        if message.message_id:
            row = self._db.execute("SELECT template_id FROM members WHERE message_id = ? LIMIT 1", (message.message_id,)).fetchone()
            family = self._family(row[0]) if row else None
            if family is not None:
                return family
        recipients, senders = _addresses(message)
        fp = fingerprint(message)
        best = self._best(fp, [] if fp.too_short else self._candidates(_buckets(fp.signature[np.newaxis])[0]))
        family = self._family(best[0]) if best else None
        if family is None:
            key = message.message_id or message.source
            return TemplateMatch(template_id_for(key), 1, len(recipients), len(senders))
        return TemplateMatch(family.template_id, family.size + 1,
                             family.recipients + self._new_addresses(family.template_id, "to", recipients),
                             family.senders + self._new_addresses(family.template_id, "from", senders))

    def family_of(self, key: str) -> TemplateMatch | None:
        """The family of the message added under ``key`` as it stands now (its final size once all mail is added)."""
        row = self._db.execute(_FAMILY_OF_KEY_SQL, (key,)).fetchone()
        return TemplateMatch(*row) if row else None

    def families_of(self, keys: list[str]) -> dict[str, TemplateMatch]:
        """:meth:`family_of` for many keys in one look-up; keys not in the index are left out."""
        found: dict[str, TemplateMatch] = {}
        for start in range(0, len(keys), 500):  # well under SQLite's limit on bound parameters
            part = keys[start : start + 500]
            sql = _FAMILY_OF_KEY_SQL.replace("m.key = ?", f"m.key IN ({','.join('?' * len(part))})").replace(
                "SELECT ", "SELECT m.key, ", 1)
            found.update((row[0], TemplateMatch(*row[1:])) for row in self._db.execute(sql, part))
        return found

    def families(self) -> list[TemplateMatch]:
        """Every family with more than one member, largest first."""
        rows = self._db.execute("SELECT template_id, size, recipients, senders FROM families WHERE size > 1 "
                                "ORDER BY size DESC, template_id").fetchall()
        return [TemplateMatch(*r) for r in rows]

    # -- adding ----------------------------------------------------------------------------------------------------
    def add(self, key: str, message: Message, fp: Fingerprint | None = None) -> TemplateMatch:
        """Index ``message`` under ``key`` (a source path, an IMAP UID…) and return the family it joined.

        Adding a key again changes nothing and returns its family as it stands.
        ``fp`` is the message's :func:`fingerprint` when the caller computed it
        already (in a worker process, say), so that the index only does the look-up.
        """
        self.add_many([(key, message, fp)])
        family = self.family_of(key)
        assert family is not None, "a message just added has a family"
        return family

    def add_many(self, items: Sequence[tuple[str, Message, Fingerprint | None]]) -> None:
        """:meth:`add` for each of ``items`` in turn, with the keys already indexed looked up once for all."""
        known = set(self.families_of([key for key, _, _ in items]))
        new: list[tuple[str, Message, Fingerprint]] = []
        for key, message, fp in items:
            if key not in known:
                known.add(key)
                new.append((key, message, fp if fp is not None else fingerprint(message)))
        # The buckets of the whole batch at once (fingerprints are pure); too short texts have none.
        signatures = [fp.signature for _, _, fp in new if not fp.too_short]
        buckets = iter(_buckets(np.stack(signatures)) if signatures else [])
        for key, message, fp in new:
            self._add(key, message, fp, [] if fp.too_short else next(buckets))

    def _add(self, key: str, message: Message, fp: Fingerprint, buckets: list[int]) -> None:
        # One message's rows go in whole or not at all: a failure half-way must not leave a member without its family,
        # which would refuse the same message (members.key) on every later run.
        db = self._db
        if not db.in_transaction:
            db.execute("BEGIN")
        db.execute("SAVEPOINT message")
        try:
            self._add_rows(key, message, fp, buckets)
        except BaseException:
            db.execute("ROLLBACK TO message")
            db.execute("RELEASE message")
            raise
        db.execute("RELEASE message")
        self._pending += 1
        if self._pending >= _COMMIT_EVERY:
            self.flush()

    def _add_rows(self, key: str, message: Message, fp: Fingerprint, buckets: list[int]) -> None:
        candidates = self._candidates(buckets)
        best = self._best(fp, candidates)
        template_id = best[0] if best else template_id_for(key)
        db = self._db
        cur = db.execute("INSERT INTO members (key, message_id, template_id, signature) VALUES (?, ?, ?, ?)",
                         (key, message.message_id, template_id, None if fp.too_short else fp.to_bytes()))
        if buckets:
            # A full bucket already holds enough of this template to find it again; leaving it alone keeps a template
            # sent 10,000 times from slowing every look-up and insert down.
            sql = _INSERT_OPEN_BUCKETS_SQL if len(candidates) >= _MAYBE_FULL else _INSERT_BUCKETS_SQL
            db.execute(sql, [cur.lastrowid, *buckets])
        new_to, new_from = self._insert_addresses(template_id, *_addresses(message))
        if best:
            db.execute("UPDATE families SET size = size + 1, recipients = recipients + ?, senders = senders + ? WHERE template_id = ?",
                       (new_to, new_from, template_id))
        else:
            db.execute("INSERT INTO families VALUES (?, ?, 1, ?, ?)", (template_id, key, new_to, new_from))

    def _insert_addresses(self, template_id: str, recipients: set[str], senders: set[str]) -> tuple[int, int]:
        """Record the addresses in the family; return how many recipients and senders it had not seen."""
        rows = [(template_id, "to", a) for a in sorted(recipients)] + [(template_id, "from", a) for a in sorted(senders)]
        if not rows:
            return 0, 0
        # A statement per chunk: RETURNING names the rows that were new, ignored ones return nothing. Chunks stay under
        # the oldest SQLite's limit of 999 variables, whatever a hostile message's recipient list holds.
        added: list[tuple[str]] = []
        for start in range(0, len(rows), _ADDRESS_ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ADDRESS_ROWS_PER_STATEMENT]
            added += self._db.execute(
                f"INSERT OR IGNORE INTO family_addresses VALUES {','.join('(?, ?, ?)' for _ in chunk)} RETURNING kind",
                [v for row in chunk for v in row]).fetchall()
        return sum(1 for (kind,) in added if kind == "to"), sum(1 for (kind,) in added if kind == "from")


_ADDRESS_ROWS_PER_STATEMENT = 300  # three variables a row: 900 < 999

__all__ = ["Fingerprint", "TemplateIndex", "TemplateMatch", "fingerprint", "masked_tokens", "template_id_for"]
