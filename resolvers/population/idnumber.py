"""Resident ID numbers (GB 11643-1999): 17 digits and an ISO 7064 mod 11-2 check character."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def make(region: str, birth: date, sequence: int) -> str:
    """An ID number for a six-digit region code, a birth date and a three-digit sequence
    (odd for men, even for women)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_character(first17)


def problem(id_number: str) -> str | None:
    """Why ``id_number`` is not a valid ID number, or None when it is."""
    value = id_number.strip().upper()
    if not _SHAPE.match(value):
        return "an ID number is 17 digits followed by a digit or X"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "the birth date inside the ID number is not a real date"
    if check_character(value[:17]) != value[17]:
        return "the check digit does not match (GB 11643 mod 11-2)"
    return None


def normalise(id_number: str) -> str:
    return id_number.strip().upper()
