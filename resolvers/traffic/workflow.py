"""Plate alerts (号牌预警): when a capture raises one, and its life: raised → dispatched (again, to
another officer, as often as needed) → intercepted → closed with a violation, or raised → closed
when it proves a false alarm.

Both ends lead to ``closed``, so the step that closes an alert is also held to the state it
must start from: a penalty only after interception, a dismissal only before dispatch."""

from __future__ import annotations

from typing import Any

from gateway.kernel import Conflict
from gateway.write import machine
from resolvers.traffic.plates import differences

PLATE_ALERT = machine(
    "plate alert",
    {
        "raised": {"dispatched", "closed"},
        # Re-dispatched to another officer, or intercepted.
        "dispatched": {"dispatched", "intercepted"},
        "intercepted": {"closed"},
        "closed": set(),
    },
)

# The closing step → the one state it may close from.
CLOSES_FROM = {"recordViolation": "intercepted", "dismissPlateAlert": "raised"}


def check_close(step: str, current: str) -> None:
    """Refuse ``step`` unless it may close an alert that is ``current``; CONFLICT names the way on."""
    PLATE_ALERT.check(current, "closed")
    needed = CLOSES_FROM[step]
    if current != needed:
        allowed = sorted(PLATE_ALERT.allowed(current))
        raise Conflict(
            f"plate alert is {current}; {step} needs it {needed}. Allowed from {current}: {', '.join(allowed)}",
            state=current,
            allowed=allowed,
        )


def _same(observed: str, registered: str) -> bool:
    # Cameras and the register both write colours with or without the trailing 色 (红 / 红色).
    return observed.strip().removesuffix("色") == registered.strip().removesuffix("色")


def matches(observed_type: str, observed_colour: str, registered: Any) -> bool:
    """Does a registered vehicle look like what the camera saw (type and colour)?"""
    return _same(observed_type, registered.vehicle_type) and _same(observed_colour, registered.colour)


def suspicion(
    plate: str, observed_type: str, observed_colour: str, registered: Any | None, candidate: Any | None = None
) -> tuple[str, str] | None:
    """The alert a capture raises, as (kind, detail), or None when it matches the register.

    ``candidate`` is the registered vehicle an unregistered plate may be an altered copy of
    (``resolvers.traffic.plates``): same type and colour, characters a sticker confuses."""
    if registered is None and candidate is not None:
        covered = "、".join(f"“{r}”为“{o}”" for r, o in differences(plate, candidate.plate))
        return "altered", (
            f"号牌“{plate}”无登记记录,车型、颜色与{candidate.plate}({candidate.colour}{candidate.vehicle_type})一致,"
            f"疑似变造号牌({covered})。"
        )
    if registered is None:
        return "unregistered", f"号牌“{plate}”无登记记录。"
    if matches(observed_type, observed_colour, registered):
        return None
    return "mismatch", (
        f"{plate}登记为{registered.colour}{registered.vehicle_type},抓拍为{observed_colour}{observed_type}。"
    )
