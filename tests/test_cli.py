"""The ``gateway`` command, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import SECRET

ROLES = {
    "city_analyst",
    "community_police",
    "committee_staff",
    "grid_worker",
    "judicial_office",
    "traffic_camera",
    "auditor",
}


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("cli")
    env = dict(os.environ, GATEWAY_DB_URL=f"sqlite+aiosqlite:///{folder / 'gw.db'}", GATEWAY_SECRET_KEY=SECRET)
    for command in (["db", "upgrade"], ["seed"]):
        run(env, *command)
    return env


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def test_principals_json_lists_every_demo_role(cli_env: dict[str, str]) -> None:
    principals = json.loads(run(cli_env, "principals", "--json").stdout)
    assert all({"id", "role", "name"} <= set(p) for p in principals)
    assert {p["role"] for p in principals} >= ROLES


def test_token_issue_and_revoke(cli_env: dict[str, str]) -> None:
    import jwt

    token = (
        run(cli_env, "token", "issue", "--principal", "analyst.city", "--ttl", "15m").stdout.strip().splitlines()[-1]
    )
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_iss": False})
    assert claims["sub"] == "analyst.city"
    assert 14 * 60 <= claims["exp"] - claims["iat"] <= 15 * 60
    assert claims["jti"] in run(cli_env, "token", "list").stdout
    assert "revoked" in run(cli_env, "token", "revoke", claims["jti"]).stdout
    assert claims["jti"] not in run(cli_env, "token", "list").stdout
    assert run(cli_env, "token", "revoke", claims["jti"], check=False).returncode == 1


def test_token_issue_refuses_unknown_principal_and_bad_ttl(cli_env: dict[str, str]) -> None:
    unknown = run(cli_env, "token", "issue", "--principal", "nobody", check=False)
    assert unknown.returncode != 0 and "unknown principal" in unknown.stderr
    bad_ttl = run(cli_env, "token", "issue", "--principal", "analyst.city", "--ttl", "forever", check=False)
    assert bad_ttl.returncode != 0 and "TTL" in bad_ttl.stderr
    assert "Traceback" not in unknown.stderr + bad_ttl.stderr


def test_seed_twice_writes_nothing_new(cli_env: dict[str, str]) -> None:
    assert "nothing written" in run(cli_env, "seed").stdout


def test_demo_tokens_cover_every_role(cli_env: dict[str, str]) -> None:
    out = run(cli_env, "token", "demo").stdout
    assert all(f"# {role}" in out for role in ROLES)


def test_signing_key_is_generated_on_first_run(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        GATEWAY_DB_URL=f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}",
        GATEWAY_SECRET_KEY_FILE=str(tmp_path / "secret.key"),
    )
    env.pop("GATEWAY_SECRET_KEY", None)
    run(env, "db", "upgrade")
    run(env, "seed")
    first = run(env, "token", "issue", "--principal", "analyst.city").stdout.strip()
    key = (tmp_path / "secret.key").read_text().strip()
    assert len(key) >= 32 and oct((tmp_path / "secret.key").stat().st_mode)[-3:] == "600"
    import jwt

    assert jwt.decode(first, key, algorithms=["HS256"], options={"verify_iss": False})["sub"] == "analyst.city"


def test_partner_token_takes_scopes_and_an_area_within_its_own(cli_env: dict[str, str]) -> None:
    import jwt

    principals = {p["id"]: p for p in json.loads(run(cli_env, "principals", "--json").stdout)}
    judicial = principals["judicial.demo"]
    street = judicial["area"]["id"]
    token = run(
        cli_env,
        "token",
        "issue",
        "--principal",
        "judicial.demo",
        "--scopes",
        "dispute:read",
        "--area",
        f"street:{street}",
        "--ttl",
        "30d",
    ).stdout.strip()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_iss": False})
    assert claims["scp"] == ["dispute:read"] and claims["area"] == f"street:{street}"
    unregistered = run(
        cli_env, "token", "issue", "--principal", "judicial.demo", "--scopes", "traffic:ingest", check=False
    )
    assert unregistered.returncode != 0 and "not registered" in unregistered.stderr
    other_street = next(s for s in range(1, 40) if s != street)
    wider = run(
        cli_env, "token", "issue", "--principal", "judicial.demo", "--area", f"street:{other_street}", check=False
    )
    assert wider.returncode != 0 and "outside" in wider.stderr
    malformed = run(cli_env, "token", "issue", "--principal", "judicial.demo", "--area", "city", check=False)
    assert malformed.returncode != 0 and "--area" in malformed.stderr


def test_a_staff_token_is_never_issued_with_scopes(cli_env: dict[str, str]) -> None:
    refused = run(cli_env, "token", "issue", "--principal", "gridworker.demo", "--scopes", "dispute:read", check=False)
    assert refused.returncode == 2 and "is staff" in refused.stderr and not refused.stdout.strip()
