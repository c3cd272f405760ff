"""A log-only policy hides nothing; what it would have denied goes into the audit trail instead."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import Gateway, running_gateway

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
async def log_only(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    folder = tmp_path_factory.mktemp("log-only")
    policies = folder / "policies"
    shutil.copytree(ROOT / "policies", policies)
    path = policies / "roles" / "grid_worker.yaml"
    path.write_text(path.read_text().replace("role: grid_worker", "role: grid_worker\nenforce: false"))
    async with running_gateway("sqlite", f"sqlite+aiosqlite:///{folder / 'gw.db'}", policy_dir=policies) as gateway:
        yield gateway


async def test_log_only_serves_and_records_what_it_would_deny(log_only: Gateway) -> None:
    before = [r.seq for r in await log_only.runtime.audit.tail(1)]
    data = await log_only.query("{ residents(first: 100) { totalCount nodes { name idNumber } } }", role="grid_worker")
    assert data["residents"]["nodes"][0]["idNumber"], "nothing is hidden while the policy is log-only"
    records = [r for r in await log_only.runtime.audit.tail(5) if not before or r.seq > before[0]]
    assert len(records) == 1
    assert json.loads(records[0].denied) == ["Resident.idNumber"]
    enforced = await log_only.query("{ residents { nodes { name } } }", role="committee_staff")
    assert enforced["residents"]["nodes"]
    errors = await log_only.errors("{ residents { nodes { birthDate } } }", role="committee_staff")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", "other roles stay enforced"
