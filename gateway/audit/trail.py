"""The audit trail: one record per operation that touches personal data, append-only and hash-chained.

A record's ``hash`` is the SHA-256 of the previous record's hash followed by the record's
canonical JSON, so changing, removing or reordering any record breaks the chain there;
:meth:`AuditTrail.verify` walks it and names the first record that does not fit.

A record holds names and primary keys only, never a value::

    seq = await trail.append(AuditEntry(principal_id="police.demo", role="community_police", ...,
                                        fields=("Resident.idNumber",), row_ids={"Resident": (17,)}))
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from sqlalchemy import BigInteger, Integer, Select, String, bindparam, event, func, inspect, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.audit.index import keys_of
from gateway.audit.keys import audit_key
from gateway.audit.probes import Probe
from gateway.audit.tables import GENESIS_HASH, HEAD_ID, AuditHead, AuditRecord
from gateway.audit.touched import current
from gateway.auth import TOKEN_DOMAIN
from gateway.data import (
    COMMIT_ORDER_KEY,
    Databases,
    PageArgs,
    commit_order_ride,
)
from gateway.kernel import Kept, Settings
from gateway.ops import AUDIT_APPEND_SECONDS

AUDIT_DOMAIN = TOKEN_DOMAIN
BATCH = 500
# The most records one group commit writes; the rest wait for the next.
GROUP_MOST = 200
_HELD = "gateway_audit_held"
_WROTE = "gateway_audit_wrote"
FREE_TEXT_LIMIT = 200
# Phone and ID numbers a caller may have typed into a purpose or an operation name.
_LONG_NUMBER = re.compile(r"\d{11,}[Xx]?")

OperationType = Literal["query", "mutation", "subscription"]
# "written": a mutation's write transaction, recorded in that transaction; "limited": refused over a rate limit.
Outcome = Literal["ok", "error", "denied", "written", "limited"]
Problem = Literal["tampered", "missing", "broken"]


@dataclass(frozen=True)
class AuditEntry:
    """What one operation touched: who asked and why, which sensitive fields and which rows.

    ``fields`` are ``Type.field`` names, ``row_ids`` maps a GraphQL type name to primary keys,
    ``redacted`` and ``denied`` are response paths or field names. ``token_id`` is the token's
    ``jti``, ``access`` says for each field in ``fields`` whether it was read "masked" or in
    "clear", and ``probes`` hold the look-ups and filters made, with keyed hashes of their values.
    """

    principal_id: str
    role: str
    agency: str
    purpose: str | None
    operation_name: str | None
    operation_hash: str
    operation_type: OperationType
    policy_version: str
    fields: tuple[str, ...] = ()
    row_ids: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    redacted: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    outcome: Outcome = "ok"
    token_id: str | None = None
    access: Mapping[str, str] = field(default_factory=dict)
    probes: tuple[Probe, ...] = ()
    # The document run by hash: its SHA-256 and the client it was listed for ("apq" for an automatic one).
    document_hash: str | None = None
    document_client: str | None = None


@dataclass(frozen=True)
class VerifyReport:
    """The verdict on the chain: intact with ``count`` records, or the first record that does not fit."""

    count: int
    problem: Problem | None = None
    seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None

    def describe(self) -> str:
        if self.ok:
            return f"audit trail intact: {self.count} records"
        return f"audit trail broken at record {self.seq}: {self.reason}"


# Values written inline in a document: strings (block strings first) and numbers.
_LITERALS = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|(?<![\w$])-?\d[\d.eE+-]*')


# The hashes of recent documents: a request names its document's hash in its audit record, its
# access-log line and its trace span, and a busy page sends the same text again and again.
_HASHED: Kept[str, str] = Kept(512)
# Longer documents are hashed each time rather than kept (they would pin their size).
_HASHED_LONGEST = 8192


def operation_hash(query: str) -> str:
    """The document's shape: inline values are blanked before hashing, so that a log or audit reader
    cannot confirm a guessed ID number against the hash of a document that wrote it inline (the
    values themselves are recorded, keyed, as probes)."""
    if len(query) > _HASHED_LONGEST:
        return _shape_hash(query)
    return _HASHED.made(query, lambda: _shape_hash(query))


def _shape_hash(query: str) -> str:
    return hashlib.sha256(_LITERALS.sub("?", query).encode()).hexdigest()


def canonical(value: Any) -> str:
    """Key-sorted, compact JSON, non-ASCII as is: the text a record's hash is taken over, so it must
    never change. orjson writes exactly what ``json.dumps`` writes for strings, integers of 64 bits,
    booleans, null, lists and string-keyed objects, several times faster; anything else (a float,
    which orjson writes in another form, a larger integer, a lone surrogate) goes to ``json.dumps``."""
    return _canonical_plain(value) if _plain(value) else _canonical_json(value)


def _canonical_plain(value: Any) -> str:
    """``canonical`` of a value known to be plain (no float: what :func:`_content` makes), unchecked."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:
        return _canonical_json(value)


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _plain(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return bool(-(2**63) <= value < 2**64)
    if kind is list or kind is tuple:
        return all(_plain(item) for item in value)
    if kind is dict:
        return all(type(key) is str and _plain(item) for key, item in value.items())
    return False


def utc(moment: datetime) -> datetime:
    # SQLite hands back the naive UTC wall time it stored; PostgreSQL an aware time in the session's zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _free_text(value: str | None) -> str | None:
    if value is None:
        return None
    return _LONG_NUMBER.sub("***", value)[:FREE_TEXT_LIMIT]


def content(record: AuditRecord) -> dict[str, Any]:
    """What a record's hash covers: every column but the two hashes, collections decoded."""
    return {
        "seq": record.seq,
        "recorded_at": utc(record.recorded_at).isoformat(timespec="microseconds"),
        "principal_id": record.principal_id,
        "role": record.role,
        "agency": record.agency,
        "purpose": record.purpose,
        "operation_name": record.operation_name,
        "operation_hash": record.operation_hash,
        "operation_type": record.operation_type,
        "policy_version": record.policy_version,
        "fields": json.loads(record.fields),
        "row_ids": json.loads(record.row_ids),
        "redacted": json.loads(record.redacted),
        "denied": json.loads(record.denied),
        "outcome": record.outcome,
        # Records from before these columns existed are hashed without them, as they were.
        **{name: value for name, value in _later_columns(record).items() if value is not None},
    }


def _later_columns(record: AuditRecord) -> dict[str, Any]:
    return {
        "token_id": record.token_id,
        "access": None if record.access is None else json.loads(record.access),
        "probes": None if record.probes is None else json.loads(record.probes),
        "document_hash": record.document_hash,
        "document_client": record.document_client,
    }


def chain_hash(record: AuditRecord) -> str:
    return hashlib.sha256((record.prev_hash + canonical(content(record))).encode()).hexdigest()


def _content(entry: AuditEntry) -> dict[str, Any]:
    """What the hash of ``entry``'s record covers but its place in the chain (seq, recorded_at): what
    :func:`content` reads back from the stored record, made without the round trip through JSON."""
    made: dict[str, Any] = {
        "principal_id": entry.principal_id,
        "role": entry.role,
        "agency": entry.agency,
        "purpose": _free_text(entry.purpose),
        "operation_name": _free_text(entry.operation_name),
        "operation_hash": entry.operation_hash,
        "operation_type": entry.operation_type,
        "policy_version": entry.policy_version,
        "fields": sorted(set(entry.fields)),
        "row_ids": {kind: sorted({int(i) for i in ids}) for kind, ids in entry.row_ids.items() if ids},
        "redacted": sorted(set(entry.redacted)),
        "denied": sorted(set(entry.denied)),
        "outcome": entry.outcome,
        "access": dict(sorted(entry.access.items())),
        "probes": [probe.as_json() for probe in sorted(entry.probes, key=lambda p: (p.path, p.field))],
    }
    # As content() leaves out the later columns a record holds no value in.
    for name in ("token_id", "document_hash", "document_client"):
        if getattr(entry, name) is not None:
            made[name] = getattr(entry, name)
    return made


_COLLECTIONS = ("fields", "row_ids", "redacted", "denied", "access", "probes")


def _columns(made: dict[str, Any]) -> dict[str, Any]:
    """The column values of a record whose content is ``made`` (see :func:`_content`) but those of its
    place in the chain (seq, recorded_at, prev_hash, hash)."""
    values = {"token_id": None, "document_hash": None, "document_client": None, **made}
    for name in _COLLECTIONS:
        values[name] = _canonical_plain(made[name])
    values["touch_keys"] = _canonical_plain(list(keys_of(made["row_ids"], made["probes"])))
    return values


def _values(entry: AuditEntry, seq: int, prev_hash: str) -> dict[str, Any]:
    """The column values of ``entry``'s record at ``seq``, after ``prev_hash``: its hash included."""
    made = _content(entry)
    recorded_at = datetime.now(UTC)
    values = {**_columns(made), "seq": seq, "recorded_at": recorded_at, "prev_hash": prev_hash}
    hashed = {**made, "seq": seq, "recorded_at": recorded_at.isoformat(timespec="microseconds")}
    values["hash"] = hashlib.sha256((prev_hash + _canonical_plain(hashed)).encode()).hexdigest()
    return values


def cut(record: dict[str, Any]) -> list[str]:
    """The canonical JSON of ``record`` (a record's content) cut in three where the database writes its
    time (inside the quotes) and its seq, under the commit-order lock (PostgreSQL, revision 0016): the
    key-sorted members joined as ``canonical`` joins them, so that filling the cuts gives ``canonical(record)``."""
    pieces, text = [], "{"
    for i, (key, value) in enumerate(sorted(record.items())):
        text += ("," if i else "") + canonical(key) + ":"
        if key == "recorded_at":
            pieces.append(text + '"')
            text = '"'
        elif key == "seq":
            pieces.append(text)
            text = ""
        else:
            text += canonical(value)
    return [*pieces, text + "}"]


# Stand-ins written where the seq and the time go, to cut one canonical text instead of making it
# member by member; a record that holds either text itself is cut the long way.
_AT, _SEQ = '"\ue000at\ue000"', '"\ue000seq\ue000"'


def _cut_made(made: dict[str, Any]) -> list[str]:
    text = _canonical_plain({**made, "recorded_at": _AT[1:-1], "seq": _SEQ[1:-1]})
    at, seq = text.find(_AT), text.find(_SEQ)
    if text.count(_AT[1:-1]) != 1 or text.count(_SEQ[1:-1]) != 1 or not 0 < at < seq:
        return cut({**made, "recorded_at": "", "seq": 0})
    return [text[: at + 1], text[at + len(_AT) - 1 : seq], text[seq + len(_SEQ) :]]


def _for_database(entries: list[AuditEntry]) -> tuple[str, list[str]]:
    """The arguments of ``gateway_audit_append`` for ``entries``: their columns (a JSON array) and
    their content's canonical JSON, cut (three pieces each)."""
    columns, pieces = [], []
    for entry in entries:
        made = _content(entry)
        columns.append(_columns(made))
        pieces.extend(_cut_made(made))
    try:
        return orjson.dumps(columns).decode(), pieces
    except orjson.JSONEncodeError:
        return json.dumps(columns, ensure_ascii=False), pieces


# The append as a statement of named parameters (its values given when it runs: ``append_values``),
# to ride on another (gateway.data.order) or to be kept compiled (Databases.kept).
APPEND_RIDER = (
    text("SELECT seq, hash FROM gateway_audit_append(:gw_key, :gw_records, :gw_pieces)")
    .bindparams(
        bindparam("gw_key", None, BigInteger),
        bindparam("gw_records", None, String),
        bindparam("gw_pieces", None, ARRAY(String)),
    )
    .columns(seq=Integer, hash=String)
)


def append_values(entries: list[AuditEntry]) -> dict[str, Any]:
    """The parameters of :data:`APPEND_RIDER` for ``entries``."""
    records, pieces = _for_database(entries)
    return {"gw_key": COMMIT_ORDER_KEY, "gw_records": records, "gw_pieces": pieces}


def _append_statement(entries: list[AuditEntry]) -> Any:
    """One statement that takes the commit-order lock, reads the head and appends ``entries`` chained
    after it, returning their ``seq`` and ``hash`` (PostgreSQL)."""
    return APPEND_RIDER.params(append_values(entries))


def _chained(entries: list[AuditEntry], seq: int, prev_hash: str) -> list[dict[str, Any]]:
    """The records of ``entries``, chained one after another from the head (``seq``, ``prev_hash``)."""
    records = []
    for entry in entries:
        values = _values(entry, seq + 1, prev_hash)
        seq, prev_hash = values["seq"], values["hash"]
        records.append(values)
    return records


# A group's records in one statement whatever its size, so it is prepared once (revision 0016).
_APPEND = "SELECT seq, hash FROM gateway_audit_append($1, $2, $3)"


def _misfit(record: AuditRecord, seq: int, prev_hash: str, count: int) -> VerifyReport | None:
    """Why ``record``, found where record ``seq`` should follow ``prev_hash``, does not fit; None when it does."""
    if record.seq != seq:
        return VerifyReport(count, "missing", seq, f"record {seq} is missing (the next record is {record.seq})")
    if record.prev_hash != prev_hash:
        before = "the genesis hash" if seq == 1 else f"the hash of record {seq - 1}"
        return VerifyReport(count, "broken", seq, f"its prev_hash is not {before}")
    try:
        recomputed = chain_hash(record)
    except (ValueError, TypeError):
        return VerifyReport(count, "tampered", seq, "its content is not readable JSON")
    if recomputed != record.hash:
        return VerifyReport(count, "tampered", seq, "its content does not match its hash")
    return None


def _head_misfit(
    before: tuple[int, str] | None, after: tuple[int, str] | None, count: int, last_hash: str
) -> VerifyReport:
    """Compare the walked chain with its head, read before and after the walk (appends may run meanwhile)."""
    if after is None:
        return VerifyReport(count, "broken", count, "the chain head is missing") if count else VerifyReport(0)
    if before is not None and count < before[0]:
        reason = f"record {count + 1} is missing (the chain head is at record {before[0]})"
        return VerifyReport(count, "missing", count + 1, reason)
    if after[0] < count:
        reason = f"it lies beyond the chain head (record {after[0]})"
        return VerifyReport(after[0], "broken", after[0] + 1, reason)
    if after[0] == count and after[1] != last_hash:
        return VerifyReport(count, "broken", count, "its hash is not the chain head's")
    return VerifyReport(count)


class GroupCommit:
    """Appends made while a transaction of the trail is under way wait for the next one, and go
    in together: one lock, one head update and one commit for all of them. Each caller still
    waits until its own record is durable (or learns that it could not be written)."""

    def __init__(self, write: Callable[[list[AuditEntry]], Awaitable[list[int]]], most: int = GROUP_MOST) -> None:
        self._write = write
        self._most = most
        self._waiting: list[tuple[AuditEntry, asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, entry: AuditEntry) -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((entry, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        # Shielded: a caller that goes away (a client disconnecting) leaves its record to be written.
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
            try:
                seqs = await self._write([entry for entry, _ in group])
            except BaseException as error:
                for _, done in group:
                    if not done.done():
                        done.set_exception(error)
                if not isinstance(error, Exception):
                    raise  # cancelled: the waiting callers are told in turn by the next submit's writer
                continue
            for (_, done), seq in zip(group, seqs, strict=True):
                if not done.done():
                    done.set_result(seq)


class AuditTrail:
    """Appends records to the gateway database's trail, checks the chain, and reads records back.

    Appends are grouped within a process (``GroupCommit``) and take turns across processes
    (PostgreSQL: the commit-order lock of ``gateway.data.order``; SQLite: the write lock, taken by touching
    the head first).
    """

    def __init__(self, databases: Databases) -> None:
        self._databases = databases
        self._group = GroupCommit(self._append_group)
        self._key: bytes | None = None

    def key(self, settings: Settings) -> bytes:
        """The key of the records' keyed hashes (see ``gateway.audit.keys``), derived once."""
        if self._key is None:
            self._key = audit_key(settings)
        return self._key

    async def append(self, entry: AuditEntry) -> int:
        """Record ``entry`` at the end of the chain once it is durable; return its ``seq``."""
        # Timed for /metrics: from waiting for the chain to the commit.
        with AUDIT_APPEND_SECONDS.time():
            return await self._group.submit(entry)

    async def _append_group(self, entries: list[AuditEntry]) -> list[int]:
        driver = self._databases.driver(AUDIT_DOMAIN)
        if driver is None:
            async with self._databases.session(AUDIT_DOMAIN) as session, session.begin():
                return await self._append_in(session, entries)
        records, pieces = _for_database(entries)
        # One statement in a transaction of its own (no BEGIN, no COMMIT: one round trip): the lock, the
        # head, the chain and the insert commit together or not at all. A connection found dead is
        # replaced and the group sent again (the driver's retry); were one to die between the server's
        # commit and its answer, the group would be written twice — its records twice, the chain
        # intact — never not at all.
        rows = await driver.rows(_APPEND, (COMMIT_ORDER_KEY, records, pieces))
        return [int(row["seq"]) for row in rows]

    async def _append_in(self, session: AsyncSession, entries: list[AuditEntry]) -> list[int]:
        """Append within ``session``'s open transaction: the records commit or roll back with it.

        PostgreSQL: one statement whatever the group's size (revision 0016). SQLite: two, the head
        locked and read, then the records' insert. Either way the insert trigger (revision 0013)
        indexes each record (gateway.audit.index) and moves the head."""
        if _postgres(session):
            rows = (await session.execute(_append_statement(entries))).all()
            return [int(row.seq) for row in rows]
        seq, prev_hash = await self._take_head(session)
        records = [AuditRecord(**values) for values in _chained(entries, seq, prev_hash)]
        session.add_all(records)
        await session.flush()
        return [record.seq for record in records]

    async def record_write(self, session: AsyncSession, domain: str) -> None:
        """Record the running mutation's write before ``session`` (of ``domain``) commits.

        Where the domain lives in the trail's database, the record is part of the write's own
        transaction. Where it lives apart, the record is appended and committed first: if that
        fails, the write is rolled back; if the write then fails to commit, the trail holds a
        record of a write attempted but not made, never a write without a record.
        Outside a mutation (seeding, reactions to events) there is nothing to record.
        """
        touched = current.get()
        if touched is None or touched.write is None:
            return
        await session.flush()
        # The rows the transaction holds: those it inserted, and those it read to change them; and those
        # its statements wrote outside the session's objects (noted by ``wrote``).
        held: list[tuple[type[Any], int]] = list(session.info.get(_WROTE, ()))
        for obj in [*session.info.get(_HELD, ()), *session.identity_map.values()]:
            key = inspect(obj).identity
            if key is not None and len(key) == 1 and isinstance(key[0], int):
                held.append((type(obj), key[0]))
        entry = self.write_entry(held)
        if entry is None:
            return
        if self.kept_apart(domain):
            await self.append(entry)
        elif _postgres(session):
            # Made as the write commits, in the statement that takes the commit-order lock (the outbox's
            # insert, or the append alone): the lock is held for that statement and the commit only.
            commit_order_ride(session, _append_statement([entry]))
        else:
            await self._append_in(session, [entry])

    # What rides on the commit-order lock to append a write's record: see gateway.write.statements.
    rider = APPEND_RIDER

    @staticmethod
    def rider_values(entry: AuditEntry) -> dict[str, Any]:
        return append_values([entry])

    @staticmethod
    def write_entry(rows: Iterable[tuple[type[Any], int]]) -> AuditEntry | None:
        """The running mutation's record of a write transaction that holds ``rows`` (each a table's model
        and a primary key); None outside a mutation (seeding, reactions to events: nothing to record)."""
        touched = current.get()
        pending = touched.write if touched is not None else None
        if pending is None:
            return None
        named: dict[str, set[int]] = {}
        for model, pk in rows:
            name = pending.type_names.get(model)
            if name is not None:
                named.setdefault(name, set()).add(pk)
        row_ids = {name: tuple(sorted(ids)) for name, ids in sorted(named.items())}
        return replace(pending.entry, row_ids=row_ids, outcome="written")

    def kept_apart(self, domain: str) -> bool:
        """Whether ``domain`` lives in another database than the trail: its writes' records are then
        appended and committed before the write commits, not in its transaction."""
        return self._databases.engine(domain) is not self._databases.engine(AUDIT_DOMAIN)

    @staticmethod
    def wrote(session: AsyncSession, model: type[Any], pk: int) -> None:
        """Note a row ``session``'s transaction wrote by a statement of its own (not as an ORM object):
        named in the write's record with those the session holds."""
        session.info.setdefault(_WROTE, []).append((model, pk))

    @staticmethod
    def hold(session: AsyncSession) -> None:
        """Keep every row ``session`` loads or adds until it ends: the identity map holds rows
        weakly, and a row changed, flushed and no longer referenced would vanish from it before
        :meth:`record_write` names it."""
        held: list[object] = session.info.setdefault(_HELD, [])
        sync = session.sync_session
        event.listen(sync, "loaded_as_persistent", lambda _session, instance: held.append(instance))
        event.listen(sync, "transient_to_pending", lambda _session, instance: held.append(instance))

    async def head(self) -> tuple[int, str]:
        """The chain's last ``seq`` and ``hash`` (0 and the genesis hash when it is empty)."""
        async with self._databases.session(AUDIT_DOMAIN) as session:
            return await _head(session) or await _last(session)

    async def hash_at(self, seq: int) -> str | None:
        """The hash of record ``seq``, or None when the trail holds no such record."""
        async with self._databases.session(AUDIT_DOMAIN) as session:
            return (await session.scalars(select(AuditRecord.hash).where(AuditRecord.seq == seq))).first()

    async def _take_head(self, session: AsyncSession) -> tuple[int, str]:
        """Hold the chain for the rest of this transaction and read its head, in one statement (SQLite:
        a transaction whose first statement writes takes the write lock at once, as BEGIN IMMEDIATE would)."""
        stmt = (
            update(AuditHead)
            .where(AuditHead.id == HEAD_ID)
            .values(seq=AuditHead.seq)
            .returning(AuditHead.seq, AuditHead.hash)
            .execution_options(synchronize_session=False)
        )
        row = (await session.execute(stmt)).first()
        if row is None:
            raise RuntimeError("the audit chain's head is missing: run `gateway db upgrade`")
        return int(row.seq), str(row.hash)

    async def verify(self) -> VerifyReport:
        """Walk the chain in ``seq`` order, recomputing every hash; stop at the first record that does not fit."""
        async with self._databases.session(AUDIT_DOMAIN) as session:
            before = await _head(session)
            count, last_hash = 0, GENESIS_HASH
            while True:
                stmt = select(AuditRecord).where(AuditRecord.seq > count).order_by(AuditRecord.seq).limit(BATCH)
                batch = (await session.scalars(stmt)).all()
                for record in batch:
                    misfit = _misfit(record, count + 1, last_hash, count)
                    if misfit is not None:
                        return misfit
                    count, last_hash = record.seq, record.hash
                session.expunge_all()
                if len(batch) < BATCH:
                    break
            after = await _head(session)
        return _head_misfit(before, after, count, last_hash)

    def select(self) -> Select[tuple[AuditRecord]]:
        """Every record; narrow it with ``where`` and pass it to :meth:`page` and :meth:`count`."""
        return select(AuditRecord)

    async def page(self, stmt: Select[Any], page: PageArgs) -> Sequence[AuditRecord]:
        """Up to ``first + 1`` records of ``stmt`` between the page's cursors, in ``seq`` order (or its
        reverse), read from the end for a backward page."""
        descending = page.ordering.descending

        def beyond(seq: int, later: bool) -> Any:
            return AuditRecord.seq > seq if later != descending else AuditRecord.seq < seq

        if page.after is not None:
            stmt = stmt.where(beyond(page.after, later=True))
        if page.before is not None:
            stmt = stmt.where(beyond(page.before, later=False))
        order = AuditRecord.seq.desc() if descending != page.backward else AuditRecord.seq.asc()
        async with self._databases.session(AUDIT_DOMAIN) as session:
            return (await session.scalars(stmt.order_by(order).limit(page.first + 1))).all()

    async def count(self, stmt: Select[Any]) -> int:
        counted = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
        async with self._databases.session(AUDIT_DOMAIN) as session:
            return int((await session.execute(counted)).scalar_one())

    async def tail(self, n: int) -> list[AuditRecord]:
        """The last ``n`` records, oldest first."""
        stmt = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(n)
        async with self._databases.session(AUDIT_DOMAIN) as session:
            return list(reversed((await session.scalars(stmt)).all()))


def _postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def _head(session: AsyncSession) -> tuple[int, str] | None:
    row = (await session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID))).first()
    return None if row is None else (row.seq, row.hash)


async def _last(session: AsyncSession) -> tuple[int, str]:
    """The last record's ``seq`` and ``hash``, for a trail whose head row is absent."""
    stmt = select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
    row = (await session.execute(stmt)).first()
    return (0, GENESIS_HASH) if row is None else (row.seq, row.hash)
