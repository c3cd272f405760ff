"""/policies: the matrix the page shows is what ``gateway policy explain`` says, cell for cell."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from gateway.kernel import load_registry
from gateway.policy import (
    VERDICTS,
    Attributes,
    PolicyError,
    explanation,
    load_and_check,
    load_policies,
    matrix_diff,
    policy_matrix,
)
from gateway.policy.model import read_policy
from gateway.schema import build_schema, visible_fields
from tests.harness import Gateway

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def setting() -> tuple[Any, dict[str, set[str]], Attributes]:
    registry = load_registry()
    fields = visible_fields(build_schema(registry.domains))
    policies, problems = load_and_check(ROOT / "policies", registry.domains, registry.demo_principals.keys(), fields)
    assert policies is not None and not problems, problems
    return policies, fields, Attributes.of(registry.domains)


def test_every_cell_is_what_policy_explain_says(setting: tuple[Any, dict[str, set[str]], Attributes]) -> None:
    policies, fields, attributes = setting
    matrix = policy_matrix(policies, fields, attributes)
    checked = 0
    for entry in matrix["policies"]:
        role = entry["name"] if entry["kind"] == "role" else None
        scopes = [] if role else [entry["name"]]
        granted = {rule["name"]: rule for rule in entry["types"]}
        for type_name, names in matrix["types"].items():
            for field_name in names:
                text = explanation(policies, role, scopes, f"{type_name}.{field_name}", fields, None, attributes)
                lines = text.splitlines()
                rule = granted.get(type_name)
                cell = rule["fields"][field_name] if rule else {"access": "denied", "why": [], "example": None}
                assert lines[1] == VERDICTS[cell["access"]], (entry["name"], type_name, field_name, text)
                if rule:
                    assert lines[2 : 2 + len(cell["why"])] == [f"  {why}" for why in cell["why"]], text
                    if cell["example"]:
                        assert f"  {cell['example']}" in lines
                checked += 1
    assert checked > 1000


def test_committee_staff_reads_id_numbers_masked(setting: tuple[Any, dict[str, set[str]], Attributes]) -> None:
    policies, fields, attributes = setting
    matrix = policy_matrix(policies, fields, attributes)
    committee = next(p for p in matrix["policies"] if p["name"] == "committee_staff")
    resident = next(r for r in committee["types"] if r["name"] == "Resident")
    cell = resident["fields"]["idNumber"]
    assert cell["access"] == "masked" and cell["mask"] == "id_number"
    assert "120101********1234" in cell["example"]
    assert "birthDate" in resident["fields"] and resident["fields"]["birthDate"]["access"] == "denied"
    assert committee["lookups"] == {"residentByIdNumber": {"budgetPerHour": 20}}
    assert committee["mutations"]["reportDispute"] == {"check": "area", "presets": {"reporterId": "own_staff"}}
    assert resident["rows"] == "area" and resident["limit"] == 100


def test_pages_must_be_known(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("role: x\npages: [policies, everything]\ntypes: {}\n")
    with pytest.raises(PolicyError, match="pages must list"):
        read_policy(path)
    path.write_text("role: x\npages: [audit]\ntypes: {}\n")
    assert read_policy(path)[2].pages == {"audit"}


def test_the_diff_names_what_changed(tmp_path: Path, setting: tuple[Any, dict[str, set[str]], Attributes]) -> None:
    policies, fields, attributes = setting
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder)
    role = folder / "roles" / "committee_staff.yaml"
    role.write_text(role.read_text().replace("idNumber: id_number", "idNumber: id_number\n      phone: phone"))
    changed = load_policies(folder)
    changes = matrix_diff(policy_matrix(policies, fields, attributes), policy_matrix(changed, fields, attributes))
    assert {
        "policy": "role committee_staff",
        "what": "Resident.phone",
        "before": "allowed",
        "after": "masked (phone)",
    } in changes
    assert all(c["policy"] == "role committee_staff" for c in changes), changes


async def test_the_page_data_needs_the_grant(gw: Gateway) -> None:
    assert (await gw.client.get("/policies/data")).status_code == 401
    refused = await gw.client.get("/policies/data", headers={"Authorization": f"Bearer {gw.tokens['city_analyst']}"})
    assert refused.status_code == 403 and refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    response = await gw.client.get("/policies/data", headers={"Authorization": f"Bearer {gw.tokens['auditor']}"})
    assert response.status_code == 200
    body = response.json()
    assert body["matrix"]["version"] == gw.runtime.policies.version
    committee = next(p for p in body["matrix"]["policies"] if p["name"] == "committee_staff")
    roots = {r["name"]: r for r in committee["rootFields"]}
    assert "residentByIdNumber" in roots and "auditLog" not in roots
    residents = {a["name"]: a for a in roots["residents"]["arguments"]}
    assert "idNumber" not in (residents["filter"]["fields"] or []), "no filter on a value read masked"


async def test_the_page_shows_the_diff_after_a_reload(gw: Gateway, tmp_path: Path) -> None:
    in_force = gw.runtime.policies
    folder = tmp_path / "policies"
    shutil.copytree(ROOT / "policies", folder)
    role = folder / "roles" / "grid_worker.yaml"
    role.write_text(role.read_text() + "\n# a comment changes the version only\n")
    gw.runtime.install(load_policies(folder))
    try:
        response = await gw.client.get("/policies/data", headers={"Authorization": f"Bearer {gw.tokens['auditor']}"})
        diff = response.json()["diff"]
        assert diff["from"] == in_force.version and diff["to"] == gw.runtime.policies.version
        assert diff["changes"] == []
    finally:
        gw.runtime.install(in_force)
    assert gw.runtime.previous_policies is not None


async def test_pages_carry_a_csp_to_self(gw: Gateway) -> None:
    for path in ("/policies", "/audit"):
        response = await gw.client.get(path)
        assert response.status_code == 200
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
        assert "://" not in response.text and "<script>" not in response.text
    for asset in ("common.js", "audit.js", "policies.js", "pages.css"):
        assert (await gw.client.get(f"/pages/assets/{asset}")).status_code == 200
