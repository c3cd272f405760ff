"""Tooling for policy authors: ``gateway policy check``, ``gateway policy explain`` and live reload."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from graphql import GraphQLObjectType

from gateway.auth import Area, Principal, PrincipalRecord
from gateway.cli.policy import add_policy_commands
from gateway.kernel import load_registry
from gateway.pipeline import PolicyWatcher, Runtime
from gateway.policy import PolicySet, explain, load_and_check, load_policies
from gateway.schema import build_schema, visible_fields
from tests.harness import test_settings as settings_for

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = load_registry()
FIELDS = visible_fields(build_schema(REGISTRY.domains))
ROLES = REGISTRY.demo_principals.keys()


def line_of(relative: str, needle: str) -> int:
    """The line of the shipped policy file holding ``needle``: tests follow the files as they are edited."""
    lines = (ROOT / "policies" / relative).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped policies, free to spoil."""
    return Path(shutil.copytree(ROOT / "policies", tmp_path / "policies"))


def check(folder: Path) -> list[str]:
    _, problems = load_and_check(folder, REGISTRY.domains, ROLES, FIELDS)
    return problems


def edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` (once) in a policy file; the line it was on."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def only(problems: list[str], fragment: str) -> str:
    found = [p for p in problems if fragment in p]
    assert len(found) == 1, problems
    return found[0]


# --- check -----------------------------------------------------------------------------------


def test_the_shipped_policies_pass(folder: Path) -> None:
    assert check(folder) == []


def test_a_misspelt_field_is_reported_at_its_line_with_the_right_name(folder: Path) -> None:
    path = folder / "roles" / "committee_staff.yaml"
    line = edit(path, "idNumber: id_number", "idNumbr: id_number")
    problem = only(check(folder), "idNumbr")
    assert problem.startswith(f"{path}:{line}: ")
    assert "Resident.idNumbr under masked" in problem and "did you mean idNumber" in problem


def test_unknown_type_mask_and_role_are_reported(folder: Path) -> None:
    grid_worker = folder / "roles" / "grid_worker.yaml"
    type_line = edit(grid_worker, "  Household:", "  Housework:")
    mask_line = edit(grid_worker, "phone: phone\n    aggregate", "phone: fone\n    aggregate")
    (folder / "roles" / "ghost.yaml").write_text("# nobody holds this role\nrole: ghost\ntypes: {}\n")
    problems = check(folder)
    assert only(problems, "unknown type Housework").startswith(f"{grid_worker}:{type_line}: ")
    assert "did you mean Household" in only(problems, "Housework")
    mask = only(problems, "unknown mask 'fone'")
    assert mask.startswith(f"{grid_worker}:{mask_line}: ")
    assert "Resident.phone" in mask and "id_number, phone, name, building" in mask
    assert only(problems, "ghost").startswith(f"{folder / 'roles' / 'ghost.yaml'}:2: role 'ghost' is not a known role")


def test_rows_by_area_on_a_type_without_one_is_reported(folder: Path) -> None:
    path = folder / "roles" / "community_police.yaml"
    line = edit(path, 'Mediator:         {rows: city, fields: "*"}', 'Mediator:         {rows: area, fields: "*"}')
    problem = only(check(folder), "Mediator")
    assert problem.startswith(f"{path}:{line}: rows: area")
    assert "write rows: city" in problem


def test_conflicts_and_impossible_grants_are_reported(folder: Path) -> None:
    path = folder / "roles" / "committee_staff.yaml"
    edit(path, "own_area_only: [phone]", "own_area_only: [phone]\n    deny: [name]")
    edit(path, '{rows: street, fields: "*", aggregate: true}', '{rows: street, fields: "*", own_area_only: [parties]}')
    edit(
        path,
        'PoliceGrid:     {rows: city, fields: "*"}',
        'PoliceGrid:     {rows: city, fields: "*", own_area_only: [code]}',
    )
    edit(path, 'Household:      {rows: area, fields: "*", aggregate: true}', "Household:      {masked: {head: name}}")
    problems = check(folder)
    assert "not a column, so it cannot be masked" in only(problems, "Household.head")
    assert "DisputeParty.name is under both deny and fields" in only(problems, "DisputeParty.name")
    assert "not a column, so it cannot be own_area_only" in only(problems, "Dispute.parties")
    assert "lie in no area" in only(problems, "PoliceGrid.code")


def test_load_errors_come_back_as_problems(folder: Path) -> None:
    (folder / "roles" / "grid_worker.yaml").write_text("role: grid_worker\ntypes: [oops\n")
    policies, problems = load_and_check(folder, REGISTRY.domains, ROLES, FIELDS)
    assert policies is None and problems and "grid_worker.yaml" in problems[0]


# --- explain ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> PolicySet:
    return load_policies(ROOT / "policies")


def test_explain_a_denied_field(shipped: PolicySet) -> None:
    text = explain(shipped, "grid_worker", [], "Resident.idNumber", FIELDS)
    assert "denied" in text
    assert (
        "not in fields (fields at " in text
        and f"grid_worker.yaml:{line_of('roles/grid_worker.yaml', 'fields: [name')})" in text
    )
    assert "rows: area" in text and "limit: 50" in text
    assert "not named in" in explain(shipped, "grid_worker", [], "Vehicle.plate", FIELDS)


def test_explain_a_masked_field(shipped: PolicySet) -> None:
    text = explain(shipped, "committee_staff", [], "Resident.idNumber", FIELDS)
    assert (
        "masked with id_number at " in text
        and f"committee_staff.yaml:{line_of('roles/committee_staff.yaml', 'idNumber: id_number')}" in text
    )
    assert "120101199001011234 → 120101********1234" in text


def test_explain_a_field_shown_only_in_the_own_area(shipped: PolicySet) -> None:
    text = explain(shipped, "committee_staff", [], "DisputeParty.phone", FIELDS)
    assert "only on rows inside the principal's own area" in text
    assert (
        "own_area_only at " in text
        and f"committee_staff.yaml:{line_of('roles/committee_staff.yaml', 'own_area_only: [phone]')}" in text
    )
    assert "rows: street" in text


@pytest.mark.parametrize("target", ["Resident.watchFlag", "Vehicle.plate", "Dispute.description"])
def test_explain_the_city_analyst_gets_everything(shipped: PolicySet, target: str) -> None:
    text = explain(shipped, "city_analyst", [], target, FIELDS)
    assert text.splitlines()[1] == "allowed"
    assert "fields: '*' at " in text and "rows: city" in text


def test_explain_partner_scopes_and_whole_types(shipped: PolicySet) -> None:
    text = explain(shipped, None, ["dispute:read", "dispute:mediate"], "DisputeParty.idNumber", FIELDS)
    assert "masked" in text and "scope:dispute:read: masked with id_number" in text
    summary = explain(shipped, "grid_worker", [], "Resident", FIELDS)
    assert "masked: phone (phone)" in summary and "idNumber" in summary.split("denied:")[1]


def test_explain_says_what_it_does_not_know(shipped: PolicySet) -> None:
    assert "no policy for role 'janitor'" in explain(shipped, "janitor", [], "Resident.name", FIELDS)
    assert "unknown scope(s) dispute:write" in explain(shipped, None, ["dispute:write"], "Dispute", FIELDS)
    assert "did you mean Resident" in explain(shipped, "grid_worker", [], "Residnt.name", FIELDS)
    assert "did you mean idNumber" in explain(shipped, "grid_worker", [], "Resident.idNumbr", FIELDS)


def test_explain_a_log_only_policy(folder: Path) -> None:
    edit(folder / "roles" / "grid_worker.yaml", "role: grid_worker\n", "role: grid_worker\nenforce: false\n")
    text = explain(load_policies(folder), "grid_worker", [], "Resident.idNumber", FIELDS)
    assert "denied" in text and "log-only (enforce: false)" in text


# --- the command -------------------------------------------------------------------------------


def gateway(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GATEWAY_DB_URL="sqlite+aiosqlite:///:memory:")
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_check(folder: Path) -> None:
    done = gateway("policy", "check", "--dir", str(folder))
    assert done.returncode == 0, done.stderr
    assert f"{len(list(folder.rglob('*.yaml')))} policy files OK (version " in done.stdout
    edit(folder / "roles" / "committee_staff.yaml", "idNumber: id_number", "idNumbr: id_number")
    done = gateway("policy", "check", "--dir", str(folder))
    assert done.returncode == 1
    assert (
        f"committee_staff.yaml:{line_of('roles/committee_staff.yaml', 'idNumber: id_number')}: " in done.stderr
        and "did you mean idNumber" in done.stderr
    )


def test_cli_explain(folder: Path) -> None:
    done = gateway("policy", "explain", "--dir", str(folder), "--role", "committee_staff", "Resident.idNumber")
    assert done.returncode == 0, done.stderr
    assert "120101********1234" in done.stdout


def run_policy_command(*args: str) -> int:
    """The command in this process, for the cases not worth a process each."""
    parser = argparse.ArgumentParser(prog="gateway")
    add_policy_commands(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["policy", *args])
    return int(parsed.func(parsed))


def test_policy_commands(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_policy_command("explain", "--dir", str(folder), "--scopes", "dispute:read", "DisputeParty.phone") == 0
    assert "listed in fields at " in capsys.readouterr().out
    assert run_policy_command("explain", "--dir", str(folder), "--role", "nobody", "Resident") == 2
    assert "no policy for role 'nobody'" in capsys.readouterr().err
    edit(folder / "roles" / "grid_worker.yaml", "phone: phone\n    aggregate", "phone: fone\n    aggregate")
    assert run_policy_command("check", "--dir", str(folder)) == 1
    assert "unknown mask 'fone'" in capsys.readouterr().err
    assert run_policy_command("explain", "--dir", str(folder), "--role", "grid_worker", "Resident.name") == 0
    assert "run `gateway policy check`" in capsys.readouterr().err


# --- live reload -------------------------------------------------------------------------------


@pytest.fixture
async def runtime(folder: Path, tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}", policy_dir=folder)
    runtime = Runtime(settings, REGISTRY)
    try:
        yield runtime
    finally:
        await runtime.close()


def grid_worker_fields(runtime: Runtime) -> set[str]:
    record = PrincipalRecord("gridworker.test", "staff", "grid_worker", "测试", "网格", Area(kind="grid", id=1))
    resident = runtime.executor_for(Principal(record, token_id="t")).schema.type_map["Resident"]
    assert isinstance(resident, GraphQLObjectType)
    return set(resident.fields)


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_a_changed_policy_is_in_force_without_a_restart(
    runtime: Runtime, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.policy")
    watcher = PolicyWatcher(runtime, folder, interval=0.02)
    watcher.start()
    try:
        before = runtime.policies.version
        assert "phone" in grid_worker_fields(runtime)
        grid_worker = folder / "roles" / "grid_worker.yaml"
        edit(grid_worker, "    masked:\n      phone: phone\n", "")
        await until(lambda: runtime.policies.version != before)
        assert "phone" not in grid_worker_fields(runtime) and "name" in grid_worker_fields(runtime)

        changed = runtime.policies.version
        edit(grid_worker, "fields: [name, gender", "fields: [nmae, gender")
        await until(lambda: "stays in force" in caplog.text)
        assert runtime.policies.version == changed
        assert "did you mean name" in caplog.text
        assert "name" in grid_worker_fields(runtime)

        grid_worker.write_text("role: grid_worker\ntypes: [unclosed\n")
        caplog.clear()
        await until(lambda: "stays in force" in caplog.text)
        assert runtime.policies.version == changed
    finally:
        await watcher.stop()


async def test_sighup_reloads(runtime: Runtime, folder: Path) -> None:
    watcher = PolicyWatcher(runtime, folder, interval=3600)
    watcher.start()
    try:
        if watcher._signal is None:
            pytest.skip("no SIGHUP handler here")
        before = runtime.policies.version
        edit(folder / "roles" / "grid_worker.yaml", "limit: 50\n  Household", "limit: 40\n  Household")
        os.kill(os.getpid(), signal.SIGHUP)
        await until(lambda: runtime.policies.version != before)
        rule = runtime.policies.roles["grid_worker"].rule("Resident")
        assert rule is not None and rule.limit == 40
    finally:
        await watcher.stop()


async def test_reload_keeps_the_policy_when_loading_fails(runtime: Runtime, folder: Path) -> None:
    before = runtime.policies.version

    def broken(policies: PolicySet) -> PolicySet:
        raise RuntimeError("schema build failed")

    runtime.install = broken  # type: ignore[method-assign]
    edit(folder / "roles" / "grid_worker.yaml", "limit: 50\n  Household", "limit: 40\n  Household")
    problems = PolicyWatcher(runtime, folder).reload()
    assert problems and "schema build failed" in problems[0]
    assert runtime.policies.version == before
