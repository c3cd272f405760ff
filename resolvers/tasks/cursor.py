"""Where a task stands in the list (urgency, then age, then record ID), and the opaque cursor
that carries it, so a page resumes after the last task shown even when that task is done."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.kernel import BadUserInput


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC timestamps; PostgreSQL aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Position:
    urgency: int
    since: datetime
    pk: int

    @property
    def key(self) -> tuple[int, datetime, int]:
        """Sorts the most urgent first, then the oldest."""
        return -self.urgency, self.since, self.pk

    def key_by(self, by_time: bool) -> tuple[Any, ...]:
        """The sort key of an ordering: by urgency (the default) or by time first."""
        return (self.since, -self.urgency, self.pk) if by_time else self.key


def encode(position: Position, ordering: str = "") -> str:
    text = f"task{ordering}:{position.urgency}:{position.pk}:{position.since.isoformat()}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str, ordering: str = "", argument: str = "after") -> Position:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii")).decode()
        prefix, urgency, pk, since = text.split(":", 3)
        if not prefix.startswith("task"):
            raise ValueError(prefix)
        position = Position(int(urgency), utc(datetime.fromisoformat(since)), int(pk))
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInput("Malformed cursor", argument=argument) from None
    if prefix != f"task{ordering}":
        raise BadUserInput(f"The {argument} cursor was made under another orderBy", argument=argument)
    return position
