"""Every request carries a valid, live bearer token, or nothing runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select, update

from gateway.auth import TOKEN_DOMAIN, TokenService
from gateway.auth.liveness import LiveTokens
from gateway.data import Databases, statement_log
from tests.harness import SECRET, Gateway, redis_url

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


async def _held_live(gw: Gateway, headers: dict[str, str]) -> str:
    """Use a token until this worker holds it live (reads no token row for it); return its ID."""
    ok = await gw.client.post("/graphql", json={"query": "{ me { tokenId } }"}, headers=headers)
    jti = str(ok.json()["data"]["me"]["tokenId"])
    log: list[str] = []
    token = statement_log.set(log)
    try:
        await gw.client.post("/graphql", json={"query": "{ me { tokenId } }"}, headers=headers)
    finally:
        statement_log.reset(token)
    assert not any("gateway_token" in s for s in log), "a live token is held in memory, not read again"
    return jti


@pytest.mark.parametrize("redis", [False, True], ids=["beat", "redis"])
async def test_a_token_revoked_by_another_process_is_refused_once_its_count_is_seen(gw: Gateway, redis: bool) -> None:
    """Another process (``gateway token revoke``, another worker) revokes with its own token service:
    this worker learns it from the revocation count on its beat, or at once through Redis."""
    url = await redis_url() if redis else None
    settings = gw.runtime.settings.model_copy(update={"redis_url": url})
    elsewhere = TokenService(settings, Databases(settings, (TOKEN_DOMAIN,)))
    headers = {"Authorization": f"Bearer {await gw.runtime.tokens.issue('analyst.city', timedelta(hours=1))}"}
    jti = await _held_live(gw, headers)
    saved = gw.runtime.tokens.live
    try:
        if redis:
            # Listening on Redis, with a beat too long to matter: the wake-up is what refuses.
            gw.runtime.tokens.live = LiveTokens(gw.runtime.databases, TOKEN_DOMAIN, 30.0, url)
            await gw.runtime.tokens.live.start()
            await _until(lambda: gw.runtime.tokens.live.watching)
            await _held_live(gw, headers)
        assert await elsewhere.revoke(jti)
        await _until(lambda: not gw.runtime.tokens.live.holds(jti), seconds=2.0 if redis else 5.0)
        assert "revoked" in await _unauthenticated(gw, headers)
    finally:
        if redis:
            await gw.runtime.tokens.live.stop()
            gw.runtime.tokens.live = saved
        await elsewhere._databases.dispose()


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.01)


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
