"""The population workflows as state machines.

Registration (登记): a grid worker or committee collects a record (pending_review); the police
review it: active, or returned with a reason. A returned record is sent again by registering it
again; so is a resident who moved out and came back.

Dog licence (犬证): applied → the officer's pre-review (初审) → pre_reviewed | rejected → the
decision → approved | rejected.
"""

from __future__ import annotations

from gateway.kernel import Conflict
from gateway.write import machine

RESIDENT = machine(
    "resident",
    {
        "pending_review": {"active", "returned"},
        "returned": {"pending_review"},
        "active": {"moved_out"},
        "moved_out": {"pending_review"},
    },
)

DOG_LICENCE = machine(
    "dog licence",
    {
        "applied": {"pre_reviewed", "rejected"},
        "pre_reviewed": {"approved", "rejected"},
        "approved": set(),
        "rejected": set(),
    },
)

# The state each dog-licence step acts on: the decision cannot skip the officer's pre-review,
# although both may end in ``rejected``.
DOG_LICENCE_STEPS = {"preReviewDogLicence": "applied", "decideDogLicence": "pre_reviewed"}


def registered_again(status: str) -> str:
    """The status of an existing record registered once more. Collecting it again does not undo
    a review; a record returned to its collector, or of a resident who moved out, goes to the
    police again."""
    if status in ("returned", "moved_out"):
        RESIDENT.check(status, "pending_review")
        return "pending_review"
    return status


def check_dog_licence_step(step: str, current: str, target: str) -> None:
    DOG_LICENCE.check(current, target)
    acts_on = DOG_LICENCE_STEPS[step]
    if current != acts_on:
        allowed = sorted(DOG_LICENCE.allowed(current))
        raise Conflict(
            f"dog licence is {current}; {step} acts on {acts_on} licences only",
            state=current,
            allowed=allowed,
        )
