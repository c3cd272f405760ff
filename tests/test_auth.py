"""Every request carries a valid, live bearer token, or nothing runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select, update

from gateway.data import statement_log
from tests.harness import SECRET, Gateway

ME = "{ me { id role name kind agency scopes tokenId area { kind name gridCount } } }"


async def _unauthenticated(gw: Gateway, headers: dict[str, str]) -> str:
    log: list[str] = []
    token = statement_log.set(log)
    try:
        response = await gw.client.post("/graphql", json={"query": "{ residents { totalCount } }"}, headers=headers)
    finally:
        statement_log.reset(token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert not any("resident" in s for s in log), "nothing may be executed"
    return str(body["errors"][0]["message"])


async def test_no_token(gw: Gateway) -> None:
    assert "Authorization" in await _unauthenticated(gw, {})


async def test_not_a_bearer_token(gw: Gateway) -> None:
    await _unauthenticated(gw, {"Authorization": "Basic dXNlcjpwYXNz"})


async def test_bad_signature(gw: Gateway) -> None:
    claims = jwt.decode(gw.tokens["city_analyst"], options={"verify_signature": False})
    forged = jwt.encode(claims, "another-key-entirely-0123456789abcdef", algorithm="HS256")
    assert "signature" in await _unauthenticated(gw, {"Authorization": f"Bearer {forged}"})


async def test_garbage_token(gw: Gateway) -> None:
    await _unauthenticated(gw, {"Authorization": "Bearer not.a.jwt"})


async def test_expired_token(gw: Gateway) -> None:
    claims = jwt.decode(gw.tokens["city_analyst"], options={"verify_signature": False})
    claims["exp"] = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    expired = jwt.encode(claims, SECRET, algorithm="HS256")
    assert "expired" in await _unauthenticated(gw, {"Authorization": f"Bearer {expired}"})


async def test_token_not_issued_here(gw: Gateway) -> None:
    claims = jwt.decode(gw.tokens["city_analyst"], options={"verify_signature": False})
    claims["jti"] = "0" * 32
    minted = jwt.encode(claims, SECRET, algorithm="HS256")
    await _unauthenticated(gw, {"Authorization": f"Bearer {minted}"})


async def test_revoked_token_is_refused_at_once(gw: Gateway) -> None:
    token = await gw.runtime.tokens.issue("analyst.city", timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    ok = await gw.client.post("/graphql", json={"query": "{ me { tokenId } }"}, headers=headers)
    jti = ok.json()["data"]["me"]["tokenId"]
    assert await gw.runtime.tokens.revoke(jti)
    assert "revoked" in await _unauthenticated(gw, headers)
    assert not await gw.runtime.tokens.revoke(jti), "a second revocation finds nothing live"


@pytest.mark.parametrize(
    "role",
    [
        "city_analyst",
        "community_police",
        "committee_staff",
        "grid_worker",
        "judicial_office",
        "traffic_camera",
        "auditor",
    ],
)
async def test_me_returns_the_caller(gw: Gateway, role: str) -> None:
    me = (await gw.query(ME, role=role))["me"]
    assert me["role"] == role
    claims = jwt.decode(gw.tokens[role], options={"verify_signature": False})
    assert me["id"] == claims["sub"] and me["tokenId"] == claims["jti"]
    city_wide = role in {"city_analyst", "auditor", "traffic_camera"}
    assert (me["area"]["kind"] == "city") == city_wide
    assert (me["area"]["gridCount"] is None) == city_wide


async def test_partner_token_carries_its_scopes(gw: Gateway) -> None:
    me = (await gw.query(ME, role="judicial_office"))["me"]
    assert me["kind"] == "partner"
    assert set(me["scopes"]) >= {"dispute:read", "dispute:mediate"}
    assert me["area"]["kind"] == "street"


async def test_rebinding_an_officer_takes_effect_without_a_new_token(gw: Gateway) -> None:
    from resolvers.grid.tables import GridBinding, PoliceGrid, Staff

    me = (await gw.query(ME, role="community_police"))["me"]
    async with gw.runtime.databases.session("grid") as session, session.begin():
        officer = (await session.scalars(select(Staff).where(Staff.principal_id == me["id"]))).one()
        original = officer.police_grid_id
        other = (
            await session.scalars(select(PoliceGrid.id).where(PoliceGrid.id != original).order_by(PoliceGrid.id))
        ).first()
        bound = len(list(await session.scalars(select(GridBinding.id).where(GridBinding.police_grid_id == other))))
        await session.execute(update(Staff).where(Staff.id == officer.id).values(police_grid_id=other))
    try:
        moved = (await gw.query(ME, role="community_police"))["me"]
        assert moved["area"]["gridCount"] == bound
        assert moved["area"]["name"] != me["area"]["name"]
    finally:
        async with gw.runtime.databases.session("grid") as session, session.begin():
            await session.execute(update(Staff).where(Staff.id == officer.id).values(police_grid_id=original))
