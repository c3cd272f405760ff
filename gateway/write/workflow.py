"""Workflows as explicit state machines: a transition the machine does not allow is a CONFLICT
that names the states it does allow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.kernel import Conflict


@dataclass(frozen=True)
class StateMachine:
    """``transitions`` maps each state to the states that may follow it.

    dispute = StateMachine("dispute", {"reported": {"accepted"}, "accepted": {"mediating"}, ...})
    dispute.check("reported", "closed")   # raises Conflict: allowed from reported: accepted
    """

    name: str
    transitions: Mapping[str, frozenset[str]]

    def allowed(self, state: str) -> frozenset[str]:
        return self.transitions.get(state, frozenset())

    def check(self, current: str, target: str) -> None:
        allowed = self.allowed(current)
        if target not in allowed:
            nexts = ", ".join(sorted(allowed)) or "none (final state)"
            raise Conflict(
                f"{self.name} is {current}; it cannot become {target}. Allowed from {current}: {nexts}",
                state=current,
                allowed=sorted(allowed),
            )


def machine(name: str, transitions: Mapping[str, set[str]]) -> StateMachine:
    return StateMachine(name, {state: frozenset(nexts) for state, nexts in transitions.items()})
