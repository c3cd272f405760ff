"""The five domains, each a vertical slice: tables, GraphQL types, queries, loaders.

Adding a domain means adding its folder and one entry below.
"""

from __future__ import annotations

from gateway.registry import Registry
from resolvers import dispute, grid, population, traffic, volunteer
from resolvers.grid.principals import StaffDirectory


async def _seed(databases: object, residents: int) -> dict[str, int]:
    from resolvers.seed import seed

    return await seed(databases, residents)  # type: ignore[arg-type]


REGISTRY = Registry(
    domains=(population.DOMAIN, grid.DOMAIN, dispute.DOMAIN, volunteer.DOMAIN, traffic.DOMAIN),
    directory=StaffDirectory,
    seed=_seed,
)
