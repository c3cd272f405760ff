"""A registered person's details read through a link (一次变更全网更新): a dispute party or a rental
guest who is a registered resident is a link to the resident record, never a copy, so a change
to the record shows wherever the person appears.

What the reader gets through a link:

- a reader whose policy has a rule for ``Resident`` reads the record under that rule — its row
  scope (a resident outside the reader's area reads as nothing) and its masks, in SQL — and
  nothing of a field that rule denies;
- a reader with no rule for ``Resident`` at all (a partner agency such as a judicial office, which
  reads no population records but does read the parties to its disputes) reads the linked
  person's details as the linking type's own rule grants them (``DisputeParty.phone``, masks
  in SQL), for the one linked row it already reads; it cannot list or look up residents.

Other domains ask through :func:`linked_details`, never reading the population tables.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, null, select

from gateway.audit import note_row
from gateway.data import load_one
from gateway.kernel import Context, Info, graphql_name
from gateway.policy import MASKS
from resolvers.population.tables import Resident

# The details a link may show: the resident column behind each.
DETAILS = ("name", "phone", "id_number")


@dataclass(frozen=True)
class Linked:
    """The linked person's details as the reader may read them (None where it may not)."""

    values: Mapping[str, str | None]

    def __getitem__(self, column: str) -> str | None:
        return self.values.get(column)


class _AsLinkingType(DataLoader[int, Linked | None]):
    """Linked residents read under the linking type's rule, masks in SQL: one query per batch."""

    def __init__(self, ctx: Context, linking_type: str, fields: Mapping[str, str]) -> None:
        super().__init__()
        self.ctx, self.linking_type, self.fields = ctx, linking_type, fields

    def _column(self, column: str) -> ColumnElement[Any]:
        policy = self.ctx.policy
        field = self.fields.get(column)
        access = "denied" if policy is None or field is None else policy.access(self.linking_type, field)
        source = getattr(Resident, column)
        if access in ("allowed", "own_area_only"):  # own_area_only: the linking row decides (caller)
            return source.label(column)  # type: ignore[no-any-return]
        if access == "masked" and policy is not None and field is not None:
            mask = policy.rule(self.linking_type).masked[field]  # type: ignore[union-attr]
            return MASKS[mask].sql(source, Resident.__table__).label(column)
        return null().label(column)

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Linked | None]:
        stmt = select(Resident.id, *(self._column(c) for c in DETAILS)).where(Resident.id.in_(list(keys)))
        # Not through the row scope, which holds no Resident row for this reader: these are the
        # residents of linking rows it has already read through its own scope, and nothing else.
        async with self.ctx.databases.session("population") as session:
            rows = (await session.execute(stmt)).all()
        found = {row.id: Linked({c: getattr(row, c) for c in DETAILS if c in self.fields}) for row in rows}
        return [found.get(k) for k in keys]


def _reads_residents(ctx: Context) -> bool:
    policy = ctx.policy
    return policy is None or not policy.enforce or policy.rule("Resident") is not None


async def linked_details(ctx: Context, resident_id: int, linking_type: str, fields: Mapping[str, str]) -> Linked | None:
    """The details of the resident a ``linking_type`` row links to, as the reader may read them.

    ``fields`` names the linking type's field for each detail asked (``{"name": "guestName"}``):
    a reader without a ``Resident`` rule reads each under that field's rule. ``values`` holds only
    the details the reader may read at all."""
    if not _reads_residents(ctx):
        key: Hashable = ("linked-details", linking_type, tuple(sorted(fields.items())))
        found = await ctx.loader(key, lambda: _AsLinkingType(ctx, linking_type, fields)).load(resident_id)
    else:
        row = await load_one(ctx, Resident, resident_id)
        if row is None:
            return None
        policy = ctx.policy
        readable = {
            c: getattr(row, c)
            for c in DETAILS
            if policy is None or not policy.enforce or policy.access("Resident", graphql_name(c)) != "denied"
        }
        found = Linked(readable)
    if found is not None:
        note_row("Resident", resident_id)
    return found


def withheld(info: Info) -> str | None:
    """Withhold a value on this row (None), and say so in the response's ``extensions.redacted``."""
    redacted = info.context.extensions.setdefault("redacted", [])
    redacted.append(".".join(str(p) for p in info.path.as_list()))
    return None


async def through_link(
    info: Info, resident_id: int, linking_type: str, column: str, fields: Mapping[str, str]
) -> str | None:
    """The ``column`` detail of a linked resident, for one field of a linking row (``fields`` maps
    each detail the linking type shows to its field there, so one query serves them all): under the
    reader's Resident rule, or its ``linking_type`` rule if it has none; withheld (and said so)
    where the resident lies outside the reader's rows or the two rules would disagree on a mask."""
    ctx = info.context
    policy = ctx.policy
    field = fields[column]
    masked_here = policy is not None and policy.enforce and policy.access(linking_type, field) == "masked"
    if masked_here and policy is not None and policy.access("Resident", graphql_name(column)) == "allowed":
        return withheld(info)  # the linking rule masks what the record's shows in clear
    linked = await linked_details(ctx, resident_id, linking_type, fields)
    if linked is None or column not in linked.values:
        return withheld(info)
    return linked[column]
