"""``/policies``: the policy matrix in force, for a principal whose policy opens the page.

The data (``/policies/data``) is :func:`gateway.policy.policy_matrix` — the cells of
``gateway policy explain`` — with the diff against the set in force before the last reload.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.pipeline import Refused, Runtime, authenticate, error_dict, header_value
from gateway.policy import PolicySet, matrix_diff, policy_matrix
from gateway.schema import visible_fields
from gateway.transport.pages.shell import page

BODY = """
<p class="muted">Every policy file in force, generated from the files themselves: for each role (and partner scope)
the types it may read, each field allowed, masked (with the mask), allowed only on rows in its own area, or denied;
the rows each type is limited to; counts, page limits, budgeted look-ups; the mutations it may call with their checks
and presets; and the root fields and arguments its schema has.
The same verdicts as <code>gateway policy explain</code>.</p>
<form id="filters" class="query">
<label>Role or scope <select id="policy-filter"><option value="">all</option></select></label>
<label>Type <select id="type-filter"><option value="">all</option></select></label>
<label>Field contains <input id="field-filter" size="14"></label>
</form>
<section id="policy-answer"><p class="muted">Paste a token whose policy opens this page (the auditor's).</p></section>
"""

PAGE = "policies"


async def policies_page(request: Request) -> Response:
    return page("Policies in force", "policies.js", BODY, "/policies")


def _matrix(runtime: Runtime, policies: PolicySet, with_roots: bool, cache: dict[str, Any]) -> Any:
    key = f"{policies.version}:{with_roots}"
    found = cache.get(key)
    if found is None:
        fields = visible_fields(runtime.full_schema)
        found = cache[key] = policy_matrix(
            policies, fields, runtime.attributes, runtime.schema_of if with_roots else None
        )
    return found


def _forbidden(message: str, code: str, status: int) -> Response:
    return JSONResponse({"errors": [error_dict(message, code)]}, status_code=status)


async def policies_data(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        authorization = header_value("Authorization", request.headers.get("authorization"))
        principal = await authenticate(runtime, authorization, None)
    except Refused as refused:
        status = 401 if refused.reason == "unauthenticated" else 400
        return JSONResponse({"errors": refused.errors}, status_code=status)
    policy = runtime.policy_for(principal)
    if PAGE not in policy.pages:
        return _forbidden("Your policy does not open the policy page (pages: [policies])", "FORBIDDEN", 403)
    cache: dict[str, Any] | None = getattr(request.app.state, "policy_matrices", None)
    if cache is None:
        cache = request.app.state.policy_matrices = {}
    current = runtime.policies
    matrix = _matrix(runtime, current, True, cache)
    previous = runtime.previous_policies
    diff = None
    if previous is not None:
        before = _matrix(runtime, previous, False, cache)
        now = _matrix(runtime, current, False, cache)
        diff = {"from": previous.version, "to": current.version, "changes": matrix_diff(before, now)}
    return JSONResponse({"matrix": matrix, "diff": diff}, headers={"Cache-Control": "no-store"})
