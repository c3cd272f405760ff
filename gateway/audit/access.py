"""``accessLog``: who returned, wrote, asked for or was refused one record — the question a complaint brings.

The auditor names a record by its global ID (``recordId``, any kind, or ``residentId``); the
answer lists the audit records that touched it, found through the side table of
``gateway.audit.index``, never by scanning the trail. It holds who, when, why and how (masked
or in clear) — the ID asked for, and no value of that record or of any other.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select

from gateway.audit.index import AuditTouch, asked_by_id_key, row_key
from gateway.audit.query import AuditFieldRead, AuditOutcome, FieldRead, filtered_records
from gateway.audit.tables import AuditRecord
from gateway.audit.trail import utc
from gateway.data import (
    After,
    Before,
    Connection,
    DateRange,
    First,
    Last,
    OrderArg,
    PageArgs,
    SortDirection,
    build_connection,
    decode_id,
)
from gateway.kernel import BadUserInput, GatewayError, Info
from gateway.policy import TESTS, Policy
from gateway.policy.ordering import newest_key


def _opens_the_audit_page(policy: Policy) -> bool:
    return "audit" in policy.pages


# The field exists only for a policy that grants the audit trail and opens the /audit page
# (``pages: [audit]``): gateway.schema.per_policy's REQUIRES and SHOWN_WHEN, which this layer cannot import.
REQUIRES_TRAIL: dict[str, object] = {"requires": ["AuditRecord"], "shown_when": _opens_the_audit_page}
# What naming a record tests: the rows each audit record names, and the IDs it asked for.
TESTS_TRAIL = {TESTS: ["AuditRecord.rowIds", "AuditRecord.probes"]}
RECORD_ID = "任意记录的全局标识 / any record's global ID"
RESIDENT_ID = "居民的全局标识 / a resident's global ID"


@strawberry.enum(description="对该记录做了什么 / what the operation did with the record")
class AccessKind(Enum):
    READ = strawberry.enum_value("read", description="返回了该记录 / returned it")
    WRITTEN = strawberry.enum_value("written", description="写入或变更了该记录 / wrote or changed it")
    ASKED = strawberry.enum_value(
        "asked", description="按标识查找但未返回(不可见或不存在) / asked for it by ID, not returned (hidden or missing)"
    )
    DENIED = strawberry.enum_value("denied", description="被策略拒绝 / refused by policy")


@strawberry.type(description="一次对某记录的访问 / one audited access to a record")
class AccessEntry:
    seq: int = strawberry.field(description="审计记录序号 / the audit record's position in the trail")
    recorded_at: datetime = strawberry.field(description="时间 / when")
    principal_id: str = strawberry.field(description="调用者标识 / principal ID")
    token_id: str | None = strawberry.field(description="令牌标识(jti) / the token's ID (jti)")
    role: str = strawberry.field(description="角色 / role")
    agency: str = strawberry.field(description="所属单位 / agency")
    purpose: str | None = strawberry.field(description="声明的用途 / declared purpose (X-Purpose)")
    operation_name: str | None = strawberry.field(description="操作名 / operation name")
    operation_type: str = strawberry.field(description="操作类型 / query, mutation or subscription")
    operation_hash: str = strawberry.field(description="操作文本的 SHA-256 / SHA-256 of the operation text")
    outcome: AuditOutcome = strawberry.field(description="结果 / outcome of the operation")
    kind: AccessKind = strawberry.field(description="对该记录做了什么 / what it did with the record")
    field_reads: list[AuditFieldRead] = strawberry.field(
        description="该类记录的敏感字段:脱敏或明文 / the record type's sensitive fields read, masked or in clear"
    )


@strawberry.input(description="访问记录筛选 / access log filter")
class AccessFilter:
    principal_id: str | None = strawberry.field(default=None, description="调用者标识 / principal ID")
    role: str | None = strawberry.field(default=None, description="角色 / role")
    agency: str | None = strawberry.field(default=None, description="所属单位(精确) / exact agency")
    purpose: str | None = strawberry.field(default=None, description="声明的用途(精确) / exact declared purpose")
    recorded: DateRange | None = strawberry.field(default=None, description="日期 / date range")
    outcome: AuditOutcome | None = strawberry.field(default=None, description="结果 / outcome")


def _filtered(stmt: Select[Any], filter: AccessFilter | None, zone: tzinfo) -> Select[Any]:
    if filter is None:
        return stmt
    return filtered_records(
        stmt,
        (
            (AuditRecord.principal_id, filter.principal_id),
            (AuditRecord.role, filter.role),
            (AuditRecord.agency, filter.agency),
            (AuditRecord.purpose, filter.purpose),
            (AuditRecord.outcome, filter.outcome.value if filter.outcome is not None else None),
        ),
        filter.recorded,
        zone,
    )


def access_entry(row: AuditRecord, type_name: str, pk: int) -> AccessEntry:
    returned = pk in json.loads(row.row_ids).get(type_name, ())
    if row.outcome == "denied":
        kind = AccessKind.DENIED
    elif returned:
        kind = AccessKind.WRITTEN if row.outcome == "written" else AccessKind.READ
    else:
        kind = AccessKind.ASKED
    prefix = f"{type_name}."
    reads = sorted((name, read) for name, read in json.loads(row.access or "{}").items() if name.startswith(prefix))
    return AccessEntry(
        seq=row.seq,
        recorded_at=utc(row.recorded_at),
        principal_id=row.principal_id,
        token_id=row.token_id,
        role=row.role,
        agency=row.agency,
        purpose=row.purpose,
        operation_name=row.operation_name,
        operation_type=row.operation_type,
        operation_hash=row.operation_hash,
        outcome=AuditOutcome(row.outcome),
        kind=kind,
        field_reads=[AuditFieldRead(field=name, read=FieldRead(read)) for name, read in reads if returned],
    )


def _target(info: Info, record_id: strawberry.ID | None, resident_id: strawberry.ID | None) -> tuple[str, int]:
    if (record_id is None) == (resident_id is None):
        raise BadUserInput("Name exactly one of recordId or residentId", argument="recordId")
    if resident_id is not None:
        try:
            return decode_id(str(resident_id), "Resident")
        except BadUserInput as error:
            raise BadUserInput(str(error), argument="residentId") from None
    type_name, pk = decode_id(str(record_id))
    if type_name not in info.context.nodes:
        raise BadUserInput("The ID names no kind of record", argument="recordId")
    return type_name, pk


@strawberry.input(description="访问记录排序 / order of the records: by the order recorded")
class AccessOrder:
    id: SortDirection | None = newest_key()


@strawberry.type
class AccessQuery:
    @strawberry.field(
        description="谁访问过这条记录:返回、写入、查找或被拒绝,按时间先后 / every audited access to one record, "
        "in the order recorded: who, when, why, masked or in clear",
        metadata=REQUIRES_TRAIL,
    )
    async def access_log(
        self,
        info: Info,
        record_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=RECORD_ID, metadata=TESTS_TRAIL)
        ] = None,
        resident_id: Annotated[
            strawberry.ID | None, strawberry.argument(description=RESIDENT_ID, metadata=TESTS_TRAIL)
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[AccessOrder | None, OrderArg] = None,
        filter: Annotated[AccessFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[AccessEntry]:
        trail = info.context.audit
        if trail is None:
            raise GatewayError("The audit trail is not enabled on this gateway")
        type_name, pk = _target(info, record_id, resident_id)
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        asked = asked_by_id_key(trail.key(info.context.settings), type_name, pk)
        touched = select(AuditTouch.seq).where(AuditTouch.key.in_([row_key(type_name, pk), asked]))
        stmt = _filtered(trail.select().where(AuditRecord.seq.in_(touched)), filter, info.context.settings.zone)
        rows = await trail.page(stmt, page) if page.first else []

        async def total() -> int:
            return await trail.count(stmt)

        return build_connection(rows, page, lambda row: access_entry(row, type_name, pk), total)
