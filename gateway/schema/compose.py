"""Supergraphs composed from the subgraphs' SDL by ``@theguild/federation-composition`` (from npm).

One supergraph for the whole schema, and one per policy (a role, or a partner's scope set): composed
from the subgraphs cut by that policy, it offers the router exactly what the policy grants, so a
denied field is absent from the router's introspection for that role as it is from the gateway's.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.kernel import Domain
from gateway.policy import Policy
from gateway.schema.assembly import subgraph_sdl_of

TOOLS = Path(__file__).with_name("federation")
COMPOSER = TOOLS / "compose.mjs"
FIRST_PORT = 4001


class CompositionError(Exception):
    """The composer refused the subgraphs (its messages), or could not be run."""


@dataclass(frozen=True)
class Subgraph:
    name: str
    url: str
    sdl: str


def default_urls(domains: Sequence[Domain]) -> dict[str, str]:
    """Each domain's subgraph on a loopback port of its own, in registry order from 4001."""
    return {d.name: f"http://127.0.0.1:{FIRST_PORT + i}/graphql" for i, d in enumerate(domains)}


def subgraphs(domains: Sequence[Domain], policy: Policy | None, urls: Mapping[str, str]) -> list[Subgraph]:
    return [Subgraph(d.name, urls[d.name], subgraph_sdl_of(domains, policy, d.name)) for d in domains]


@dataclass(frozen=True)
class Composed:
    supergraph: str  # for the router
    public: str  # the API schema it offers its callers


def compose(parts: Sequence[Subgraph]) -> Composed:
    """The supergraph of ``parts``."""
    return compose_all({"supergraph": parts})["supergraph"]


def compose_all(compositions: Mapping[str, Sequence[Subgraph]]) -> dict[str, Composed]:
    """Several supergraphs, by name, in one run of the composer."""
    node = shutil.which("node")
    if node is None or not (TOOLS / "node_modules" / "@theguild").is_dir():
        raise CompositionError(f"the composer is not installed: run `npm ci --prefix {TOOLS}` (needs node)")
    body = json.dumps(
        {
            "compositions": {
                name: [{"name": p.name, "url": p.url, "sdl": p.sdl} for p in parts]
                for name, parts in compositions.items()
            }
        }
    )
    done = subprocess.run(
        [node, str(COMPOSER)], input=body, capture_output=True, text=True, cwd=TOOLS, timeout=300, check=False
    )
    if done.returncode != 0:
        raise CompositionError(done.stderr.strip() or f"the composer exited {done.returncode}")
    return {
        name: Composed(out["supergraph"].rstrip("\n") + "\n", out["public"])
        for name, out in json.loads(done.stdout).items()
    }


def file_name(policy: Policy | None) -> str:
    """``supergraph.graphql`` for the whole schema; ``role-<role>.graphql`` or ``scopes-<a>+<b>.graphql``."""
    if policy is None:
        return "supergraph.graphql"
    return re.sub(r"[^A-Za-z0-9_+.-]", "-", policy.name) + ".graphql"
