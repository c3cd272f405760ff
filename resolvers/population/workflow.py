"""The population workflows as state machines.

Registration (登记): a grid worker or committee collects a record, kept apart from the residents
as a registration (pending_review); the police review it: approved — it becomes a new resident, or
is applied to the one resident of its ID number — or returned with a reason, after which its
collector corrects it and resubmits it (pending_review again). A registration never changes a
resident by itself. When its ID number is held by a resident outside the reviewing officer's area,
approving it asks the area that holds the record (transfer_review): that area's officer approves
the move or returns it. No one reviews a registration they collected.

Resident (居民): records the police imported while they were still under review
(pending_review) are reviewed in place: active, or returned. An active resident moves out; one
who moved out, or was returned, becomes active again through an approved registration.

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

REGISTRATION = machine(
    "registration",
    {
        "pending_review": {"approved", "returned"},
        "transfer_review": {"approved", "returned"},
        "approved": set(),
        # Corrected and resubmitted by its collector, for another review.
        "returned": {"pending_review"},
    },
)

# A flagged check-in (网约房入住核验异常) until the police handle it: the officer verifies the guest,
# clears the flag with a reason, or escalates it; an escalated one is verified or cleared later.
CHECK_IN_FLAG = machine(
    "check-in flag",
    {
        "none": set(),
        "flagged": {"verified", "cleared", "escalated"},
        "escalated": {"verified", "cleared"},
        "verified": set(),
        "cleared": set(),
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
