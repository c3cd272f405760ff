"""What a principal may see and do: the policy files, row scopes, masks, check, explain, reload."""

from __future__ import annotations

from gateway.policy.check import load_and_check
from gateway.policy.describe import UnknownTarget, explain, explanation
from gateway.policy.masks import MASKS
from gateway.policy.model import ENGINE_GOVERNED, MutationRule, Policy, PolicySet, load_policies
from gateway.policy.rows import OUTSIDE, PolicyScope

__all__ = [
    "ENGINE_GOVERNED",
    "MASKS",
    "OUTSIDE",
    "MutationRule",
    "Policy",
    "PolicyScope",
    "PolicySet",
    "UnknownTarget",
    "explain",
    "explanation",
    "load_and_check",
    "load_policies",
]
