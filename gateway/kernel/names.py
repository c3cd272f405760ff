"""How a stored column is named in GraphQL."""

from __future__ import annotations


def graphql_name(column_key: str) -> str:
    """``id_number`` → ``idNumber``: the field that shows a column."""
    head, *rest = column_key.split("_")
    return head + "".join(part.title() for part in rest)
