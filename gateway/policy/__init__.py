"""What a principal may see and do: the policy files, row scopes, masks, check, explain, reload."""

from __future__ import annotations

from gateway.policy.attributes import (
    COMPUTED_FROM,
    READS,
    TESTS,
    Attributes,
    attribute,
    field_access,
    named_type,
    reads_in_clear,
)
from gateway.policy.budget import BUDGETS, LookupBudgets, RateLimited, current_budgets
from gateway.policy.check import load_and_check
from gateway.policy.describe import VERDICTS, FieldVerdict, UnknownTarget, explain, explanation, field_verdict
from gateway.policy.masks import MASKS
from gateway.policy.matrix import matrix_diff, policy_matrix
from gateway.policy.model import (
    DOCUMENT_MODES,
    ENGINE_GOVERNED,
    PAGES,
    LookupRule,
    MutationRule,
    Policy,
    PolicyError,
    PolicySet,
    RateLimit,
    RateLimits,
    load_policies,
)
from gateway.policy.rows import OUTSIDE, PolicyScope, own_grids

__all__ = [
    "BUDGETS",
    "COMPUTED_FROM",
    "DOCUMENT_MODES",
    "ENGINE_GOVERNED",
    "MASKS",
    "OUTSIDE",
    "PAGES",
    "READS",
    "TESTS",
    "VERDICTS",
    "Attributes",
    "FieldVerdict",
    "LookupBudgets",
    "LookupRule",
    "MutationRule",
    "Policy",
    "PolicyError",
    "PolicyScope",
    "PolicySet",
    "RateLimit",
    "RateLimited",
    "RateLimits",
    "UnknownTarget",
    "attribute",
    "current_budgets",
    "explain",
    "explanation",
    "field_access",
    "field_verdict",
    "load_and_check",
    "load_policies",
    "matrix_diff",
    "named_type",
    "own_grids",
    "policy_matrix",
    "reads_in_clear",
]
