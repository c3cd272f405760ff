"""Dispute workflow mutations: report, accept, mediate, agree, escalate, follow up, close."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import uuid4

import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.feed import emit
from gateway.kernel import BadUserInput, Conflict, Context, Info, not_found
from gateway.kernel.times import local
from gateway.write import (
    authorize,
    client_mutation_id_field,
    echoed_client_mutation_id_field,
    expect_version,
    expected_version_field,
    inputs,
    preset,
    row_to_change,
    statements,
    transaction,
    written,
)
from resolvers.dispute import tables as t
from resolvers.dispute.codes import dispute_code
from resolvers.dispute.types import Dispute, DisputeCategory, MediationMode, PartyRole, dispute
from resolvers.dispute.workflow import DISPUTE
from resolvers.grid.lookups import street_of_grid

TOPIC = "dispute"


@strawberry.input(
    description="纠纷当事人:登记居民只填居民标识,其他人填姓名电话 / a party to a new dispute: a registered "
    "resident by ID alone (details come from the record), anyone else by name and phone"
)
class PartyInput:
    role: PartyRole = strawberry.field(description="角色 / role")
    name: str | None = strawberry.field(default=None, description="姓名(非登记居民) / full name, if not a resident")
    phone: str | None = strawberry.field(
        default=None, description="联系电话(非登记居民) / mobile number, if not a resident"
    )
    resident_id: strawberry.ID | None = strawberry.field(
        default=None, description="居民标识(登记居民) / resident ID, for a registered resident"
    )


@strawberry.input(description="上报纠纷 / report a dispute")
class ReportDisputeInput:
    title: str = strawberry.field(description="标题 / title")
    category: DisputeCategory = strawberry.field(description="类别 / category")
    description: str = strawberry.field(description="情况描述 / what happened")
    grid_id: strawberry.ID | None = strawberry.field(
        default=None, description="网格(网格员为本网格) / grid; a grid worker's own grid is preset"
    )
    parties: list[PartyInput] = strawberry.field(description="当事人 / parties")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="纠纷状态变更 / move a dispute on")
class DisputeStepInput:
    dispute_id: strawberry.ID = strawberry.field(description="纠纷标识 / dispute ID")
    expected_version: int | None = expected_version_field()
    note: str | None = strawberry.field(default=None, description="说明 / note or reason")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="调解记录 / a mediation session")
class MediationInput:
    dispute_id: strawberry.ID = strawberry.field(description="纠纷标识 / dispute ID")
    expected_version: int | None = expected_version_field()
    held_at: datetime = strawberry.field(description="时间 / held at")
    mode: MediationMode = strawberry.field(description="方式 / mode")
    location: str = strawberry.field(description="地点 / place")
    notes: str = strawberry.field(description="调解记录 / notes")
    mediator_ids: list[strawberry.ID] = strawberry.field(description="调解员 / mediators present")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.input(description="调解协议 / an agreement")
class AgreementInput:
    dispute_id: strawberry.ID = strawberry.field(description="纠纷标识 / dispute ID")
    expected_version: int | None = expected_version_field()
    terms: str = strawberry.field(description="协议内容 / terms")
    amount: Decimal | None = strawberry.field(default=None, description="金额(元) / amount in yuan")
    signed_on: date = strawberry.field(description="签订日期 / signed on")
    via_judicial_office: bool = strawberry.field(default=False, description="经司法所 / through the judicial office")
    client_mutation_id: str | None = client_mutation_id_field()


@strawberry.type(description="纠纷变更结果 / the dispute after the change")
class DisputePayload:
    dispute: Dispute | None = strawberry.field(description="纠纷 / the dispute, as you may see it")
    client_mutation_id: str | None = echoed_client_mutation_id_field()


async def _payload(ctx: Context, pk: int, client_mutation_id: str | None) -> DisputePayload:
    return DisputePayload(dispute=await written(ctx, t.Dispute, pk, dispute), client_mutation_id=client_mutation_id)


async def _step(
    ctx: Context,
    name: str,
    step: DisputeStepInput | MediationInput | AgreementInput,
    target: str,
    session: AsyncSession,
) -> Any:
    """Lock the dispute, check grant, area, version and transition; move it to ``target``."""
    row = await row_to_change(ctx, session, name, t.Dispute, "Dispute", step.dispute_id, "input.disputeId")
    DISPUTE.check(row.status, target)
    expect_version(row, step.expected_version, "Dispute")
    row.status = target
    return row


async def _record(session: AsyncSession, row: Any, kind: str) -> None:
    await emit(session, t.DisputeOutbox, TOPIC, "Dispute", row.id, row.grid_id, kind)


async def _move(ctx: Context, name: str, step: DisputeStepInput, target: str) -> DisputePayload:
    async with transaction(ctx, "dispute") as session:
        row = await _step(ctx, name, step, target, session)
        if target == "closed":
            row.closed_at = datetime.now(UTC)
        note = inputs.text(step.note, "input.note", 2000, required=False)
        if note:
            session.add(
                t.FollowUp(
                    dispute_id=row.id,
                    visited_at=datetime.now(UTC),
                    note=note,
                    by_staff_id=ctx.principal.record.staff_id,
                )
            )
        await _record(session, row, target)
    return await _payload(ctx, row.id, step.client_mutation_id)


async def _grid_of(ctx: Context, given: str | None) -> tuple[int, int]:
    """The dispute's grid (preset for a grid worker) and that grid's street."""
    sent = None if given is None else inputs.pk(str(given), "Grid", "input.gridId")
    grid_id = preset(ctx, "reportDispute", "gridId", sent)
    if grid_id is None:
        raise BadUserInput("input.gridId is required", argument="input.gridId")
    street_id = await street_of_grid(ctx, int(grid_id))
    if street_id is None:
        raise not_found("Grid", "input.gridId")
    return int(grid_id), street_id


def _parties(given: list[PartyInput]) -> list[dict[str, Any]]:
    if not given or len(given) > 20:
        raise BadUserInput("input.parties: give 1 to 20 parties", argument="input.parties")
    rows: list[dict[str, Any]] = []
    for n, party in enumerate(given):
        at = f"input.parties[{n}]"
        if party.resident_id is not None:
            # A link to the record, not a copy: its details show wherever the record changes.
            if party.name is not None or party.phone is not None:
                message = f"{at}: a resident's name and phone come from their record; send residentId alone"
                raise BadUserInput(message, argument=f"{at}.name")
            resident = inputs.pk(str(party.resident_id), "Resident", f"{at}.residentId")
            rows.append({"role": party.role.value, "name": None, "phone": None, "resident_id": resident})
            continue
        rows.append(
            {
                "role": party.role.value,
                "name": inputs.required_text(party.name, f"{at}.name", 40),
                "phone": inputs.phone(party.phone, f"{at}.phone"),
                "resident_id": None,
            }
        )
    return rows


@strawberry.type
class DisputeMutation:
    @strawberry.mutation(description="上报纠纷 / report a dispute (status reported)")
    async def report_dispute(
        self, info: Info, input: Annotated[ReportDisputeInput, strawberry.argument(description="纠纷 / the dispute")]
    ) -> DisputePayload:
        ctx = info.context
        title = inputs.required_text(input.title, "input.title", 120)
        description = inputs.required_text(input.description, "input.description", 4000)
        parties = _parties(input.parties)
        grid_id, street_id = await _grid_of(ctx, None if input.grid_id is None else str(input.grid_id))
        authorize(ctx, "reportDispute", grid_id)
        now = datetime.now(UTC)
        reporter = preset(ctx, "reportDispute", "reporterId", ctx.principal.record.staff_id)
        # Reported many times a minute across a city: kept statements, not the ORM (gateway.write.statements).
        async with statements(ctx, "dispute") as writes:
            pk = await writes.insert(
                t.Dispute,
                {
                    # Numbered by its ID, known once inserted: a placeholder unique until then.
                    "code": f"new-{uuid4().hex[:20]}",
                    "title": title,
                    "category": input.category.value,
                    "description": description,
                    "grid_id": grid_id,
                    "street_id": street_id,
                    "reporter_staff_id": reporter,
                    "status": "reported",
                    "reported_at": now,
                    "closed_at": None,
                    "version": 1,
                },
            )
            await writes.update(t.Dispute, pk, {"code": dispute_code(local(now, ctx.settings.zone).year, pk)})
            for party in parties:
                await writes.insert(t.DisputeParty, {"dispute_id": pk, "id_number": None, **party})
            await writes.emit(t.DisputeOutbox, TOPIC, "Dispute", pk, grid_id, "reported")
        return await _payload(ctx, pk, input.client_mutation_id)

    @strawberry.mutation(description="受理纠纷 / accept a reported dispute")
    async def accept_dispute(
        self, info: Info, input: Annotated[DisputeStepInput, strawberry.argument(description="纠纷 / the dispute")]
    ) -> DisputePayload:
        return await _move(info.context, "acceptDispute", input, "accepted")

    @strawberry.mutation(description="记录一次调解 / record a mediation session (status mediating)")
    async def record_mediation_session(
        self, info: Info, input: Annotated[MediationInput, strawberry.argument(description="调解 / the session")]
    ) -> DisputePayload:
        ctx = info.context
        location = inputs.required_text(input.location, "input.location", 120)
        notes = inputs.required_text(input.notes, "input.notes", 4000)
        held_at = inputs.moment(input.held_at, "input.heldAt")
        mediators = [inputs.pk(str(m), "Mediator", f"input.mediatorIds[{n}]") for n, m in enumerate(input.mediator_ids)]
        if not mediators:
            raise BadUserInput("input.mediatorIds: name at least one mediator", argument="input.mediatorIds")
        async with transaction(ctx, "dispute") as session:
            row = await _step(ctx, "recordMediationSession", input, "mediating", session)
            known = set((await session.scalars(select(t.Mediator.id).where(t.Mediator.id.in_(mediators)))).all())
            if known != set(mediators):
                raise not_found("Mediator", "input.mediatorIds")
            meeting = t.MediationSession(
                dispute_id=row.id, held_at=held_at, mode=input.mode.value, location=location, notes=notes
            )
            session.add(meeting)
            await session.flush()
            session.add_all(t.SessionMediator(session_id=meeting.id, mediator_id=m) for m in mediators)
            await _record(session, row, "mediating")
        return await _payload(ctx, row.id, input.client_mutation_id)

    @strawberry.mutation(description="达成调解协议 / record the agreement (status agreed)")
    async def reach_agreement(
        self, info: Info, input: Annotated[AgreementInput, strawberry.argument(description="协议 / the agreement")]
    ) -> DisputePayload:
        ctx = info.context
        terms = inputs.required_text(input.terms, "input.terms", 4000)
        money = inputs.amount(input.amount, "input.amount")
        async with transaction(ctx, "dispute") as session:
            row = await _step(ctx, "reachAgreement", input, "agreed", session)
            existing = await session.scalar(select(t.Agreement.id).where(t.Agreement.dispute_id == row.id))
            if existing is not None:
                raise Conflict("This dispute already has an agreement", argument="input.disputeId")
            session.add(
                t.Agreement(
                    dispute_id=row.id,
                    terms=terms,
                    amount=money,
                    signed_at=input.signed_on,
                    via_judicial_office=input.via_judicial_office,
                )
            )
            await _record(session, row, "agreed")
        return await _payload(ctx, row.id, input.client_mutation_id)

    @strawberry.mutation(description="移交司法所或诉讼 / escalate to the judicial office or to court")
    async def escalate_dispute(
        self, info: Info, input: Annotated[DisputeStepInput, strawberry.argument(description="纠纷 / the dispute")]
    ) -> DisputePayload:
        return await _move(info.context, "escalateDispute", input, "escalated")

    @strawberry.mutation(description="回访 / follow a dispute up (the note is the visit's record)")
    async def follow_up_dispute(
        self, info: Info, input: Annotated[DisputeStepInput, strawberry.argument(description="纠纷 / the dispute")]
    ) -> DisputePayload:
        if not (input.note or "").strip():
            raise BadUserInput("input.note: say what the follow-up found", argument="input.note")
        return await _move(info.context, "followUpDispute", input, "followed_up")

    @strawberry.mutation(description="结案 / close a followed-up dispute")
    async def close_dispute(
        self, info: Info, input: Annotated[DisputeStepInput, strawberry.argument(description="纠纷 / the dispute")]
    ) -> DisputePayload:
        return await _move(info.context, "closeDispute", input, "closed")
