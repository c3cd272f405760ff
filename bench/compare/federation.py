"""The federated gateway of the run: the six subgraphs (``gateway serve --subgraph NAME``, on the run's
database with the single gateway's settings) and one Hive Gateway per role measured, each serving the
supergraph ``gateway schema supergraph --roles`` composes for that role — as tests/e2e/test_federation.py
starts them, with gateway/schema/federation/gateway.config.mjs as the router's configuration (which
does not merge identical requests in flight: each is audited, and wrk's one repeated request would
otherwise turn the merge into a cache)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.compare.database import ROOT, Database, gateway_env, run_gateway
from bench.compare.processes import BenchError, Server, free_port, running
from gateway.kernel import load_registry
from gateway.policy import load_policies
from gateway.schema.compose import file_name

TOOLS = ROOT / "gateway" / "schema" / "federation"
HIVE = TOOLS / "node_modules" / ".bin" / "hive-gateway"
CONFIG = TOOLS / "gateway.config.mjs"


def router_installed() -> bool:
    return HIVE.exists() and shutil.which("node") is not None


@dataclass(frozen=True)
class Federation:
    subgraphs: tuple[Server, ...]
    routers: dict[str, Server]  # by role

    def servers(self, role: str) -> tuple[Server, ...]:
        """Every process a request to ``role``'s router keeps busy."""
        return (self.routers[role], *self.subgraphs)


def role_of(gateway: Server, headers: dict[str, str]) -> str:
    """The role of the caller whose ``headers`` (its token) a page's gateway request carries."""
    me = {"query": "{ me { role } }"}
    answer = httpx.post(gateway.base + "/graphql", json=me, headers=headers, timeout=60).json()
    role = (answer.get("data") or {}).get("me", {}).get("role")
    if not isinstance(role, str):
        raise BenchError(f"the gateway does not say the role of a bench token: {str(answer)[:300]}")
    return role


@contextlib.contextmanager
def federated(database: Database, roles: Iterable[str], logs: Path) -> Iterator[Federation]:
    """Start the subgraphs and a router for each of ``roles``; stop them all on the way out."""
    if not router_installed():
        raise BenchError(f"Hive Gateway is not installed: `make federation` (npm ci in {TOOLS.relative_to(ROOT)})")
    with contextlib.ExitStack() as stack:
        subgraphs = {}
        for domain in load_registry().domains:
            subgraphs[domain.name] = stack.enter_context(_subgraph(database, domain.name, logs))
        folder = logs / "supergraphs"
        urls = [f"--url={name}={server.base}/graphql" for name, server in subgraphs.items()]
        compose = ["schema", "supergraph", "--roles", *urls, f"--output={folder}"]
        run_gateway(compose, database.url, logs / "prepare.log")
        policies = load_policies(ROOT / "policies")
        routers = {}
        for role in sorted(set(roles)):
            policy = policies.for_role(role)
            if policy is None:
                raise BenchError(f"no policy for role {role!r}, so no supergraph for its router")
            routers[role] = stack.enter_context(_router(folder / file_name(policy), role, logs))
        yield Federation(tuple(subgraphs.values()), routers)


def _subgraph(database: Database, domain: str, logs: Path) -> contextlib.AbstractContextManager[Server]:
    # As the single gateway is started (run.start_gateway), with the one setting `--subgraph` makes.
    port = free_port()
    argv = [str(ROOT / ".venv/bin/uvicorn"), "gateway.app:app_from_env", "--factory", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"]
    env = {**gateway_env(database), "GATEWAY_SUBGRAPH": domain}
    return running(f"the {domain} subgraph", argv, cwd=ROOT, env=env, port=port, log=logs / f"subgraph-{domain}.log")


def _router(supergraph: Path, role: str, logs: Path) -> contextlib.AbstractContextManager[Server]:
    # One process, as every other server of the run (Hive Gateway forks workers when asked to).
    port = free_port()
    argv = [str(HIVE), "supergraph", "-c", str(CONFIG), "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--fork", "1"]
    env = {"GATEWAY_SUPERGRAPH": str(supergraph)}
    return running(f"Hive Gateway ({role})", argv, cwd=TOOLS, env=env, port=port, log=logs / f"router-{role}.log")
