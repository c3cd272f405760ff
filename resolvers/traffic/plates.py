"""Altered plates (变造号牌): which registered plates an unregistered one may be, by the
characters a sticker or a strip of tape turns into one another.

A plate read by a camera that no vehicle holds may be a registered plate with a character
covered: a "0" stuck over an "E" (津BE6237 read as 津B06237). Each group below holds characters
a sticker makes look alike; a plate differing from a registered one only in at most
``MAX_CHANGES`` positions, each within one group, is a candidate. The province character is
never changed (a sticker cannot make a Chinese character). The table is documented in the
README; changing it changes which alerts are raised as ``altered``.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations, product

# Characters a sticker turns into one another (plates use no I or O; they are kept for stickers).
CONFUSABLE: tuple[str, ...] = (
    "0DQEB8",  # a round or a bar stuck over a closed letter or digit: 0/D/Q/E/B/8
    "EFL",  # a stroke added or covered: E/F/L
    "1I7T",  # a bar: 1/I/7/T
    "2Z",
    "5S",
    "6G",
    "4A",
    "UV",
    "MN",
    "HN",
    "PR",
    "3B",
)

# At most this many characters covered in one plate.
MAX_CHANGES = 2


def _alternatives() -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for group in CONFUSABLE:
        for char in group:
            found.setdefault(char, set()).update(c for c in group if c != char)
    return {char: frozenset(others) for char, others in found.items()}


ALTERNATIVES = _alternatives()


def variants(plate: str, changes: int = MAX_CHANGES) -> Iterator[tuple[int, str]]:
    """Every plate ``plate`` may have been before at most ``changes`` characters were covered, as
    (number of changes, plate), fewest changes first; the plate itself is not among them."""
    positions = [i for i in range(1, len(plate)) if plate[i] in ALTERNATIVES]
    for n in range(1, changes + 1):
        for chosen in combinations(positions, n):
            for replaced in product(*(sorted(ALTERNATIVES[plate[i]]) for i in chosen)):
                chars = list(plate)
                for i, char in zip(chosen, replaced, strict=True):
                    chars[i] = char
                yield n, "".join(chars)


def differences(observed: str, registered: str) -> list[tuple[str, str]]:
    """The (registered → observed) characters that differ, for an alert's detail."""
    return [(r, o) for o, r in zip(observed, registered, strict=True) if o != r]
