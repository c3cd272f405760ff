"""Resolver look-ups kept compiled (gateway.data.loaders): on PostgreSQL a batch read is built once per
principal and policy and run on the driver. Whatever it depends on changes — area, role, policy — a
kept statement must answer exactly as the ORM's read built afresh for that principal."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from gateway.auth import Principal
from gateway.data import load_each
from gateway.data.loaders import KEY, _read
from gateway.data.reads import execute
from gateway.kernel import Kept
from gateway.policy import Policy, PolicyScope
from resolvers.dispute.tables import Dispute
from resolvers.population.tables import Resident
from tests.harness import Gateway

MODELS = (Resident, Dispute)


def _values(row: Any, names: list[str]) -> tuple[Any, ...]:
    return tuple(getattr(row, name, None) for name in names)


async def test_a_kept_look_up_answers_as_a_fresh_read_for_every_principal(gw: Gateway) -> None:
    runtime = gw.runtime
    everyone = [await runtime.authenticator.authenticate(f"Bearer {token}") for token in gw.tokens.values()]
    worker = next(p for p in everyone if p.record.role == "grid_worker")
    moved = replace(worker.record.area, grid_ids=frozenset({16, 17}), street_grid_ids=frozenset({16, 17}))
    elsewhere = replace(worker, record=replace(worker.record, area=moved))
    # The same role in another area straight after it: the one case a key without the area would share.
    principals = [worker, elsewhere, worker, replace(worker, record=replace(worker.record, role="city_analyst"))]
    principals += [p for p in everyone if p is not worker]
    analyst = runtime.policies.for_role("city_analyst")
    assert analyst is not None
    shared: Kept[Hashable, Any] = Kept(64)

    async def both(model: type[Any], principal: Principal, policy: Policy | None = None) -> tuple[Any, Any]:
        ids = list(range(1, 41))
        ctx = runtime.context_for(principal)
        ctx.plans = shared
        if policy is not None:
            ctx.policy, ctx.scope = policy, PolicyScope(policy, runtime.type_names)
        names = [c.key for c in model.__table__.columns] + [KEY]
        kept = [_values(row, names) for row in await load_each(ctx, model, ids)]
        stmt = select(model).where(model.id.in_(ids)).order_by(model.id)
        fresh = [_values(row, names) for row in await execute(ctx, model, _read(stmt, ctx, model, model.id))]
        return kept, fresh

    answers = []
    for model in MODELS:
        for principal in principals * 2:
            kept, fresh = await both(model, principal)
            assert kept == fresh, (model.__name__, principal.record.id, principal.record.area.name)
            answers.append(kept)
        # The same principal under another policy (policies reloaded) gets statements of its own.
        kept, fresh = await both(model, worker, analyst)
        assert kept == fresh
    # Not every principal reads the same rows and columns: the comparison could tell them apart.
    assert len({repr(answer) for answer in answers}) > 2
