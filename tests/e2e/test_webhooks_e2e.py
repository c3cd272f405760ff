"""Webhooks as an operator sets them up: ``gateway webhooks add`` with a partner's token, a real
uvicorn process delivering from its lifespan, a receiver on loopback, ``webhooks list``/``remove``."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.servers import (
    gateway_env,
    issue_tokens,
    prepare_database,
    run_cli,
    uvicorn_server,
)
from tests.live import receiving, verified

DOCUMENT = "subscription Hook { disputeUpdated { eventId kind dispute { id status parties { name phone } } } }"
REPORT = "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { dispute { id } } }"


async def test_a_webhook_added_from_the_command_line_is_delivered_by_the_server(tmp_path: Path) -> None:
    env = gateway_env(
        f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}", WEBHOOK_HOSTS="127.0.0.1", WEBHOOK_POLL_SECONDS="0.2"
    )
    prepare_database(env)
    tokens = issue_tokens(env, "judicial.demo", "gridworker.demo")
    async with receiving() as receiver:
        added = run_cli(
            env,
            "webhooks",
            "add",
            "--url",
            receiver.url,
            "--token",
            tokens["judicial.demo"],
            "--query",
            DOCUMENT,
            "--purpose",
            "纠纷联动",
        )
        secret = added.split("signing secret (shown once): ", 1)[1].split()[0]
        with uvicorn_server(env, tmp_path / "uvicorn.log") as server:
            report = {
                "title": "楼道堆物",
                "category": "NOISE",
                "description": "楼道堆放杂物",
                "parties": [{"role": "COMPLAINANT", "name": "王女士", "phone": "13920004444"}],
            }
            async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
                answer = await client.post(
                    "/graphql",
                    json={"query": REPORT, "variables": {"input": report}},
                    headers={"Authorization": f"Bearer {tokens['gridworker.demo']}"},
                )
                assert "errors" not in answer.json(), answer.text
            await receiver.until(lambda: len(receiver.received) >= 1)
        headers, body = receiver.received[0]
        assert verified(secret, headers, body)
        delivered = json.loads(body)
        assert delivered["data"]["disputeUpdated"]["kind"] == "reported"
        assert delivered["eventId"] == headers["x-gateway-event-id"] == delivered["data"]["disputeUpdated"]["eventId"]
        listed = run_cli(env, "webhooks", "list", "--json")
        # Neither the secret nor the token is ever printed again.
        assert secret not in listed and tokens["judicial.demo"] not in listed
        [hook] = json.loads(listed)
        assert (hook["principal"], hook["feeds"], hook["delivered"]) == ("judicial.demo", ["dispute/dispute"], 1)
        assert "removed webhook" in run_cli(env, "webhooks", "remove", str(hook["id"]))
