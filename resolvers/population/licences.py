"""Dog licences: application, the officer's pre-review, the decision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry
from sqlalchemy import func, select

from gateway.feed import emit
from gateway.kernel import Conflict, Context, Info
from gateway.schema import from_row
from gateway.write import inputs, row_to_change, transaction, written
from resolvers.population import tables as t
from resolvers.population.inputs import (
    DOMAIN,
    ApplyDogLicenceInput,
    DogLicenceReviewInput,
    reason_given,
)
from resolvers.population.types import DogLicence, DogLicenceDecision, DogLicencePayload
from resolvers.population.workflow import check_dog_licence_step


async def _licence_payload(ctx: Context, pk: int, client_mutation_id: str | None) -> DogLicencePayload:
    licence = await written(ctx, t.DogLicence, pk, lambda row: from_row(DogLicence, row))
    return DogLicencePayload(dog_licence=licence, client_mutation_id=client_mutation_id)


async def _review_licence(ctx: Context, step: str, given: DogLicenceReviewInput, passed: str) -> DogLicencePayload:
    target = passed if given.decision is DogLicenceDecision.APPROVE else "rejected"
    reason = reason_given(given.reason, required=target == "rejected")
    async with transaction(ctx, DOMAIN) as session:
        row = await row_to_change(
            ctx, session, step, t.DogLicence, "DogLicence", given.dog_licence_id, "input.dogLicenceId"
        )
        check_dog_licence_step(step, row.status, target)
        row.status = target
        row.reviewed_at = datetime.now(UTC)
        if target == "rejected":
            row.reason = reason
        await emit(session, t.PopulationOutbox, "dogLicence", "DogLicence", row.id, row.grid_id, target)
    return await _licence_payload(ctx, row.id, given.client_mutation_id)


@strawberry.type
class DogLicenceMutation:
    @strawberry.mutation(description="申请犬证 / apply for a dog licence (status applied)")
    async def apply_dog_licence(
        self, info: Info, input: Annotated[ApplyDogLicenceInput, strawberry.argument(description="申请 / application")]
    ) -> DogLicencePayload:
        ctx = info.context
        dog = inputs.required_text(input.dog_name, "input.dogName", 40)
        breed = inputs.required_text(input.breed, "input.breed", 40)
        async with transaction(ctx, DOMAIN) as session:
            owner = await row_to_change(
                ctx, session, "applyDogLicence", t.Resident, "Resident", input.resident_id, "input.residentId"
            )
            pending = select(func.count(t.DogLicence.id)).where(
                t.DogLicence.resident_id == owner.id,
                t.DogLicence.dog_name == dog,
                t.DogLicence.status.in_(("applied", "pre_reviewed")),
            )
            if await session.scalar(pending):
                raise Conflict(f"input.dogName: {dog} has an application under review", argument="input.dogName")
            licence = t.DogLicence(
                resident_id=owner.id,
                grid_id=owner.grid_id,
                dog_name=dog,
                breed=breed,
                status="applied",
                applied_at=datetime.now(UTC),
            )
            session.add(licence)
            await session.flush()
            await emit(session, t.PopulationOutbox, "dogLicence", "DogLicence", licence.id, owner.grid_id, "applied")
        return await _licence_payload(ctx, licence.id, input.client_mutation_id)

    @strawberry.mutation(description="犬证初审 / the officer's pre-review of a dog licence")
    async def pre_review_dog_licence(
        self, info: Info, input: Annotated[DogLicenceReviewInput, strawberry.argument(description="初审 / pre-review")]
    ) -> DogLicencePayload:
        return await _review_licence(info.context, "preReviewDogLicence", input, "pre_reviewed")

    @strawberry.mutation(description="犬证审批 / approve or reject a pre-reviewed dog licence")
    async def decide_dog_licence(
        self, info: Info, input: Annotated[DogLicenceReviewInput, strawberry.argument(description="审批 / decision")]
    ) -> DogLicencePayload:
        return await _review_licence(info.context, "decideDogLicence", input, "approved")
