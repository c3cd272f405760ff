"""No N+1: a nested page costs the same number of SQL statements whatever its size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.harness import Gateway, database_url, running_gateway

NESTED = """
query Nested($n: Int!) {
  grids(first: $n) {
    totalCount
    nodes {
      name
      residents(first: $n) {
        totalCount
        nodes {
          name
          disputes(first: $n) { totalCount nodes { title parties { name resident { name } } } }
        }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def populous_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("populous"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def populous(populous_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """The demo data plus synthetic residents, so that a page of 100 holds more than a page of 5."""
    async with running_gateway(*populous_url, residents=600) as gateway:
        yield gateway


async def test_nested_page_statement_count_is_independent_of_page_size(populous: Gateway) -> None:
    small_count, small = await populous.count_statements(NESTED, {"n": 5})
    large_count, large = await populous.count_statements(NESTED, {"n": 100})

    def residents(data: dict) -> int:  # type: ignore[type-arg]
        return sum(len(g["residents"]["nodes"]) for g in data["grids"]["nodes"])

    assert len(large["grids"]["nodes"]) > len(small["grids"]["nodes"])
    assert residents(large) > residents(small)
    assert small_count == large_count, (small_count, large_count)
    # token + principal look-ups; grids page + count, residents page + count, disputes page
    # + count, parties, the parties' residents; the audit record's append (head, insert, and one
    # insert of the rows it touched into the access index, gateway_audit_touch)
    assert large_count <= 15
