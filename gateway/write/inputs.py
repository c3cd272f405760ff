"""Checks for mutation inputs: each failure is a BAD_USER_INPUT naming the field."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gateway.data import decode_pk
from gateway.kernel import BadUserInput

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def text(value: str | None, field: str, longest: int, required: bool = True) -> str | None:
    cleaned = (value or "").strip()
    if not cleaned:
        if required:
            raise BadUserInput(f"{field} is required", argument=field)
        return None
    if len(cleaned) > longest:
        raise BadUserInput(f"{field} is longer than {longest} characters", argument=field)
    return cleaned


def required_text(value: str | None, field: str, longest: int) -> str:
    cleaned = text(value, field, longest)
    assert cleaned is not None
    return cleaned


def phone(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    cleaned = value.strip().replace(" ", "").replace("-", "")
    if not _MOBILE.match(cleaned):
        raise BadUserInput(f"{field} must be an 11-digit mobile number starting 13–19", argument=field)
    return cleaned


def amount(value: Decimal | None, field: str, largest: Decimal = Decimal("100000000")) -> Decimal | None:
    if value is None:
        return None
    if value < 0 or value > largest:
        raise BadUserInput(f"{field} must be between 0 and {largest}", argument=field)
    return value.quantize(Decimal("0.01"))


# Phones' clocks run a little fast; a time this far ahead still counts as now.
CLOCK_SKEW = timedelta(minutes=5)


def moment(value: datetime, field: str, past_only: bool = False) -> datetime:
    """A time that names its zone (and, with ``past_only``, has already happened), in UTC."""
    if value.tzinfo is None:
        raise BadUserInput(f"{field} must carry a time zone, e.g. 2026-03-12T08:51:00+08:00", argument=field)
    if past_only and value > datetime.now(UTC) + CLOCK_SKEW:
        raise BadUserInput(f"{field} lies in the future", argument=field)
    return value.astimezone(UTC)


def whole(value: int, field: str, lowest: int, highest: int) -> int:
    if value < lowest or value > highest:
        raise BadUserInput(f"{field} must be between {lowest} and {highest}, got {value}", argument=field)
    return value


def pk(global_id: str, type_name: str, field: str) -> int:
    try:
        return decode_pk(global_id, type_name)
    except BadUserInput:
        raise BadUserInput(f"{field} is not a {type_name} ID", argument=field) from None
