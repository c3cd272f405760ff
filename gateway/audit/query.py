"""The ``auditLog`` root field, through which the auditor reads the trail.

The trail holds principals, field names and primary keys, never a citizen's data, so
reading it reveals who looked at what, not what they saw.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, tzinfo
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

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
    within,
)
from gateway.kernel import GatewayError, Info
from gateway.policy.ordering import newest_key


@strawberry.enum(description="操作结果 / outcome of an audited operation")
class AuditOutcome(Enum):
    OK = strawberry.enum_value("ok", description="成功 / succeeded")
    ERROR = strawberry.enum_value("error", description="出错 / failed with an error")
    DENIED = strawberry.enum_value("denied", description="被拒绝 / refused by policy")
    WRITTEN = strawberry.enum_value(
        "written", description="写入已提交(与写入同一事务记录) / a write committed, recorded with it"
    )
    LIMITED = strawberry.enum_value("limited", description="超出频率限制被拒绝 / refused over a rate limit")


@strawberry.enum(description="敏感字段的读取方式 / how a sensitive field was read")
class FieldRead(Enum):
    MASKED = strawberry.enum_value("masked", description="脱敏 / masked")
    CLEAR = strawberry.enum_value("clear", description="明文 / in clear")


@strawberry.type(description="一个敏感字段及其读取方式 / one sensitive field and how it was read")
class AuditFieldRead:
    field: str = strawberry.field(description="字段(类型.字段) / Type.field")
    read: FieldRead = strawberry.field(description="读取方式 / masked or in clear")


@strawberry.type(description="一个参数值的带密钥哈希 / the keyed hash of one argument value")
class AuditArgument:
    name: str = strawberry.field(description="参数路径(如 filter.phone) / argument path")
    hash: str = strawberry.field(description="HMAC-SHA256(截断),不含原值 / keyed hash, never the value")


@strawberry.type(description="一次查找或筛选(按别名) / one look-up or filter, per alias")
class AuditProbe:
    path: str = strawberry.field(description="响应中的路径(别名) / response path (alias)")
    field: str = strawberry.field(description="字段(类型.字段) / Type.field")
    arguments: list[AuditArgument] = strawberry.field(description="参数 / arguments")


@strawberry.type(description="一类对象中被触及的记录 / the rows of one type an operation touched")
class AuditRowIds:
    type: str = strawberry.field(description="GraphQL 类型名 / GraphQL type name")
    ids: list[int] = strawberry.field(description="主键 / primary keys")


@strawberry.type(name="AuditRecord", description="审计记录 / one audited operation")
class AuditRecordType:
    seq: int = strawberry.field(description="序号(自 1 起连续) / position in the trail, contiguous from 1")
    recorded_at: datetime = strawberry.field(description="记录时间 / recorded at")
    principal_id: str = strawberry.field(description="调用者标识 / principal ID")
    token_id: str | None = strawberry.field(description="令牌标识(jti) / the token's ID (jti)")
    role: str = strawberry.field(description="角色 / role")
    agency: str = strawberry.field(description="所属单位 / agency")
    purpose: str | None = strawberry.field(description="声明的用途(X-Purpose 请求头) / declared purpose (X-Purpose)")
    operation_name: str | None = strawberry.field(description="操作名 / operation name")
    operation_hash: str = strawberry.field(description="操作文本的 SHA-256 / SHA-256 of the operation text")
    operation_type: str = strawberry.field(description="操作类型(query/mutation/subscription) / operation type")
    policy_version: str = strawberry.field(description="生效的策略版本 / policy version in force")
    fields: list[str] = strawberry.field(description="触及的敏感字段 / sensitive fields touched, as Type.field")
    field_reads: list[AuditFieldRead] = strawberry.field(
        description="各敏感字段是脱敏还是明文读取 / whether each sensitive field was read masked or in clear"
    )
    probes: list[AuditProbe] = strawberry.field(
        description="查找与筛选参数的带密钥哈希(按别名) / look-up and filter arguments, keyed hashes, per alias"
    )
    row_ids: list[AuditRowIds] = strawberry.field(description="触及的记录 / rows touched, by type")
    redacted: list[str] = strawberry.field(description="按行隐去的响应路径 / response paths nulled by a row rule")
    denied: list[str] = strawberry.field(description="被拒绝的字段或路径 / fields or paths denied")
    outcome: AuditOutcome = strawberry.field(description="结果 / outcome")
    document_hash: str | None = strawberry.field(
        description="按哈希执行的可信文档(SHA-256) / the trusted or persisted document run by hash"
    )
    document_client: str | None = strawberry.field(
        description="该文档登记的客户端(自动持久化为 apq) / the client it was listed for (apq: automatic)"
    )
    hash: str = strawberry.field(description="本条哈希 / hash of this record")
    prev_hash: str = strawberry.field(description="上一条的哈希 / hash of the record before")


def audit_record(row: AuditRecord) -> AuditRecordType:
    return AuditRecordType(
        seq=row.seq,
        recorded_at=utc(row.recorded_at),
        principal_id=row.principal_id,
        token_id=row.token_id,
        role=row.role,
        agency=row.agency,
        purpose=row.purpose,
        operation_name=row.operation_name,
        operation_hash=row.operation_hash,
        operation_type=row.operation_type,
        policy_version=row.policy_version,
        fields=json.loads(row.fields),
        field_reads=[
            AuditFieldRead(field=name, read=FieldRead(read))
            for name, read in sorted(json.loads(row.access or "{}").items())
        ],
        probes=[
            AuditProbe(
                path=probe["path"],
                field=probe["field"],
                arguments=[AuditArgument(name=n, hash=h) for n, h in sorted(probe["arguments"].items())],
            )
            for probe in json.loads(row.probes or "[]")
        ],
        row_ids=[AuditRowIds(type=kind, ids=ids) for kind, ids in sorted(json.loads(row.row_ids).items())],
        redacted=json.loads(row.redacted),
        denied=json.loads(row.denied),
        outcome=AuditOutcome(row.outcome),
        document_hash=row.document_hash,
        document_client=row.document_client,
        hash=row.hash,
        prev_hash=row.prev_hash,
    )


@strawberry.input(description="审计日志筛选 / audit log filter")
class AuditFilter:
    principal_id: str | None = strawberry.field(default=None, description="调用者标识 / principal ID")
    token_id: str | None = strawberry.field(default=None, description="令牌标识(jti) / token ID (jti)")
    role: str | None = strawberry.field(default=None, description="角色 / role")
    operation_name: str | None = strawberry.field(default=None, description="操作名(精确) / exact operation name")
    recorded: DateRange | None = strawberry.field(default=None, description="记录日期 / recording date range")
    outcome: AuditOutcome | None = strawberry.field(default=None, description="结果 / outcome")


def filtered_records(
    stmt: Select[Any], equal: Iterable[tuple[Any, Any]], recorded: DateRange | None, zone: tzinfo
) -> Select[Any]:
    """Records of ``stmt`` whose columns equal the values given (None: not filtered on), within
    ``recorded``; what the trail's filters (``auditLog``, ``accessLog``) have in common."""
    for column, value in equal:
        if value is not None:
            stmt = stmt.where(column == value)
    return within(stmt, AuditRecord.recorded_at, recorded, "filter.recorded", zone)


def _filtered(stmt: Select[Any], filter: AuditFilter | None, zone: tzinfo) -> Select[Any]:
    if filter is None:
        return stmt
    return filtered_records(
        stmt,
        (
            (AuditRecord.principal_id, filter.principal_id),
            (AuditRecord.token_id, filter.token_id),
            (AuditRecord.role, filter.role),
            (AuditRecord.operation_name, filter.operation_name),
            (AuditRecord.outcome, filter.outcome.value if filter.outcome is not None else None),
        ),
        filter.recorded,
        zone,
    )


@strawberry.input(description="审计记录排序 / order of the records: by the order recorded")
class AuditOrder:
    id: SortDirection | None = newest_key()


@strawberry.type
class AuditQuery:
    @strawberry.field(description="审计日志(按记录先后) / the audit trail, in the order recorded")
    async def audit_log(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[AuditOrder | None, OrderArg] = None,
        filter: Annotated[AuditFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[AuditRecordType]:
        trail = info.context.audit
        if trail is None:
            raise GatewayError("The audit trail is not enabled on this gateway")
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        stmt = _filtered(trail.select(), filter, info.context.settings.zone)
        rows = await trail.page(stmt, page) if page.first else []

        async def total() -> int:
            return await trail.count(stmt)

        return build_connection(rows, page, audit_record, total)
