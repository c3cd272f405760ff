"""Keys of order inputs (``orderBy``): ordering is a test of the value, so it follows reads.

An order input lists one field per key; a key names the attribute it sorts by (``TESTS``), so the
per-policy schema keeps it only for a principal that reads that attribute in clear on every row.
The ``id`` key (creation order; ``DESC`` = newest first) tests nothing and is always there, so
every connection keeps its ``orderBy`` for every role.
"""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.policy.attributes import TESTS


def sort_key(reference: str, description: str) -> Any:
    """An order key sorting by the attribute ``reference`` (``Type.field``)."""
    return strawberry.field(default=None, description=description, metadata={TESTS: [reference]})


def newest_key() -> Any:
    """The key by ID: creation order, ``DESC`` for newest first."""
    # It tests no stored value: an empty TESTS says so (and keeps it for every role).
    return strawberry.field(
        default=None, description="按创建先后 / by creation order (DESC = newest first)", metadata={TESTS: []}
    )
