"""Partner agencies hold scoped, area-bound tokens: they see what the scopes grant, inside the area."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import Gateway

PARTNER = "judicial.demo"


async def _as(gw: Gateway, token: str, query: str) -> dict:  # type: ignore[type-arg]
    response = await gw.client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def _community_of_some_dispute(gw: Gateway) -> tuple[str, int]:
    data = await gw.query(
        "{ disputes(first: 100) { nodes { grid { community { id name } } } } }", role="judicial_office"
    )
    community = data["disputes"]["nodes"][0]["grid"]["community"]
    from gateway.data import decode_pk

    return community["id"], decode_pk(community["id"], "Community")


async def test_a_token_narrowed_to_one_community_sees_only_its_disputes(gw: Gateway) -> None:
    community_id, pk = await _community_of_some_dispute(gw)
    token = await gw.runtime.tokens.issue(PARTNER, timedelta(hours=1), ("dispute:read",), f"community:{pk}")
    body = await _as(
        gw,
        token,
        "{ me { area { kind name } } disputes(first: 100) { totalCount nodes { grid { community { id } } } } }",
    )
    assert body["data"]["me"]["area"]["kind"] == "community"
    nodes = body["data"]["disputes"]["nodes"]
    assert nodes and {n["grid"]["community"]["id"] for n in nodes} == {community_id}
    street_wide = await gw.query("{ disputes(first: 100) { totalCount } }", role="judicial_office")
    assert body["data"]["disputes"]["totalCount"] <= street_wide["disputes"]["totalCount"]


async def test_scopes_decide_the_schema(gw: Gateway) -> None:
    mediate_only = await gw.runtime.tokens.issue(PARTNER, timedelta(hours=1), ("dispute:mediate",))
    body = await _as(gw, mediate_only, "{ disputes { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    me = await _as(gw, mediate_only, "{ me { scopes } }")
    assert me["data"]["me"]["scopes"] == ["dispute:mediate"]


async def test_a_scope_the_agency_is_not_registered_for_grants_nothing(gw: Gateway) -> None:
    token = await gw.runtime.tokens.issue(PARTNER, timedelta(hours=1), ("dispute:read", "traffic:ingest"))
    me = await _as(gw, token, "{ me { scopes } }")
    assert me["data"]["me"]["scopes"] == ["dispute:read"]


async def test_an_expired_partner_token_is_refused(gw: Gateway) -> None:
    import jwt

    from tests.harness import SECRET

    token = await gw.runtime.tokens.issue(PARTNER, timedelta(seconds=1), ("dispute:read",))
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["exp"] = claims["iat"] - 1
    stale = jwt.encode(claims, SECRET, algorithm="HS256")
    response = await gw.client.post(
        "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {stale}"}
    )
    assert response.status_code == 401


async def test_a_purpose_can_be_made_mandatory_for_partners(gw: Gateway) -> None:
    gw.runtime.settings.require_purpose_for_partners = True
    try:
        refused = await gw.post("{ disputes { totalCount } }", role="judicial_office")
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "X-Purpose"}
        declared = await gw.post("{ disputes { totalCount } }", role="judicial_office", headers={"X-Purpose": "case 7"})
        assert declared.status_code == 200 and "errors" not in declared.json()
        staff = await gw.post("{ residents { totalCount } }", role="committee_staff")
        assert staff.status_code == 200, "staff are not asked for a purpose"
    finally:
        gw.runtime.settings.require_purpose_for_partners = False


async def test_a_staff_token_cannot_carry_partner_scopes(gw: Gateway) -> None:
    # A grid worker's token minted with the judicial office's scopes, as a stolen signing key would allow.
    worker = await gw.runtime.tokens.issue("gridworker.demo", timedelta(hours=1), ("dispute:read", "dispute:mediate"))
    response = await gw.client.post(
        "/graphql", json={"query": "{ me { role scopes } }"}, headers={"Authorization": f"Bearer {worker}"}
    )
    assert response.status_code == 401, response.text
    assert "partner scopes" in response.json()["errors"][0]["message"]
    plain = await gw.query("{ me { role scopes } }", role="grid_worker")
    assert plain["me"]["role"] == "grid_worker" and plain["me"]["scopes"] == []


async def test_a_partner_names_the_staff_its_records_link_to_but_lists_no_staff(gw: Gateway) -> None:
    """Staff became a root list: an outside agency may read the reporter or mediator of its
    disputes, not enumerate the city's officers, analysts and auditors."""
    errors = await gw.errors("{ staff(first: 100) { nodes { id role } } }", role="judicial_office")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    linked = await gw.query("{ disputes(first: 5) { nodes { reporter { name } } } }", role="judicial_office")
    assert any(node["reporter"] for node in linked["disputes"]["nodes"])
    assert (await gw.query("{ staff(first: 1) { nodes { id } } }", role="grid_worker"))["staff"]["nodes"]
