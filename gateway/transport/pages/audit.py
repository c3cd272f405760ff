"""``/audit``: the auditor asks who touched one record (``accessLog``) and sees a timeline."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.transport.pages.shell import page

BODY = """
<p class="muted">Who returned, wrote, asked for or was refused one record: every audit record that touched it.
Needs a token whose policy grants the audit trail (the <code>auditor</code> role).</p>
<form id="lookup" class="query">
<label>Resident (or any record) ID
<input id="record-id" required size="28" placeholder="global ID, or a resident's number"></label>
<label>Role <input id="role" size="16" placeholder="any"></label>
<label>Since <input id="since" type="date"></label>
<label>Until <input id="until" type="date"></label>
<button type="submit">Look up</button>
</form>
<section id="answer"></section>
"""


async def audit_page(request: Request) -> Response:
    return page("Who accessed this record", "audit.js", BODY, "/audit")
