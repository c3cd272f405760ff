"""Per-role SDL snapshots: a policy change shows up as a reviewed diff of what each role can ask.

Regenerate after an intended change with ``UPDATE_SNAPSHOTS=1 pytest tests/test_role_snapshots.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.kernel import load_registry
from gateway.policy import Policy, load_policies
from gateway.schema import build_schema, export_sdl

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
POLICIES = load_policies(ROOT / "policies")
SUBJECTS: dict[str, Policy] = {
    **{f"role-{name}": policy for name, policy in POLICIES.roles.items()},
    "scopes-judicial-office": POLICIES.for_scopes(["dispute:read", "dispute:mediate"]),
    "scopes-traffic-camera": POLICIES.for_scopes(["traffic:ingest"]),
    "scopes-rental-platform": POLICIES.for_scopes(["rental:checkin"]),
}


@pytest.mark.parametrize("name", sorted(SUBJECTS))
def test_role_schema_matches_its_snapshot(name: str) -> None:
    sdl = export_sdl(build_schema(load_registry().domains, SUBJECTS[name]))
    path = SNAPSHOTS / f"{name}.graphql"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(sdl)
    assert path.exists(), f"no snapshot for {name}: run with UPDATE_SNAPSHOTS=1 and review it"
    assert sdl == path.read_text(), f"{name}'s schema changed: review, then UPDATE_SNAPSHOTS=1"


def test_the_city_analyst_has_every_domain_field_and_no_audit_log() -> None:
    full = build_schema(load_registry().domains)._schema
    analyst = build_schema(load_registry().domains, SUBJECTS["role-city_analyst"])._schema
    assert analyst.query_type is not None and full.query_type is not None
    assert set(full.query_type.fields) - set(analyst.query_type.fields) == {"accessLog", "auditLog", "myTasks"}
    for name, policy in SUBJECTS.items():
        if name != "role-city_analyst":
            narrower = build_schema(load_registry().domains, policy)._schema
            assert narrower.query_type is not None
            own = set(narrower.query_type.fields) - {"accessLog", "auditLog", "myTasks"}
            assert own <= set(analyst.query_type.fields), name
