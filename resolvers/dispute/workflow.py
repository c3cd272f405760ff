"""The life of a dispute (矛盾纠纷): reported → accepted → mediating → agreed | escalated →
followed up → closed. A session may be held again while mediating; an escalated dispute
goes to the judicial office, which mediates it again or follows it up."""

from __future__ import annotations

from gateway.write import machine

DISPUTE = machine(
    "dispute",
    {
        "reported": {"accepted"},
        "accepted": {"mediating", "escalated"},
        "mediating": {"mediating", "agreed", "escalated"},
        "escalated": {"mediating", "followed_up"},
        "agreed": {"followed_up"},
        "followed_up": {"followed_up", "closed"},
        "closed": set(),
    },
)
