"""The five domains, each a vertical slice: tables, GraphQL types, queries, loaders.

Adding a domain means adding its folder and one entry below.
"""

from __future__ import annotations

from gateway.data import Databases
from gateway.kernel import Registry
from resolvers import dispute, grid, population, tasks, traffic, volunteer
from resolvers.grid.principals import StaffDirectory
from resolvers.seed.demo import DEMO_PRINCIPALS


async def _seed(databases: Databases, residents: int, city_scale: float) -> dict[str, int]:
    # Imported late: the demo data is only needed by `gateway seed` and the tests.
    from resolvers.seed import seed

    return await seed(databases, residents, city_scale)


REGISTRY = Registry(
    domains=(population.DOMAIN, grid.DOMAIN, dispute.DOMAIN, volunteer.DOMAIN, traffic.DOMAIN, tasks.DOMAIN),
    directory=StaffDirectory,
    seed=_seed,
    demo_principals=DEMO_PRINCIPALS,
)
