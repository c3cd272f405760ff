"""The example tabs GraphiQL opens with: the README's queries, for the demo set-up and everyone else.

Each is (title, document, variables). A tab works for the roles whose schema has what it asks;
for any other, validation names the field that role does not have.
"""

from __future__ import annotations

FIVE_DOMAINS = """# Across all five domains through their links (README: Trying it). Try it as city_analyst,
# then as committee_staff (idNumber masked, no traffic) and grid_worker (no idNumber at all).
query FiveDomains {
  me { id role area { kind name } }
  grids(first: 3) {
    nodes {
      name riskColour
      community { name street { name district { code name } } }
      policeGrid { code officers { name } }
      gridWorker { name }
      residents(first: 5) {
        nodes {
          name idNumber age household { number }
          disputes(first: 3) { nodes { title status parties { name role } agreement { amount } } }
          vehicles { plate }
          volunteerProfile { team { brand } }
        }
      }
    }
  }
  plateAlerts(filter: {kind: ALTERED}) {
    nodes { status capture { plate location } vehicle { owner { name } } violations { fineYuan points detentionDays } }
  }
}
"""

WORKFLOW = """# A workflow step (README: Writes, workflows): committee_staff or grid_worker reports a dispute.
# The reporter and (for a grid worker) the grid are preset from the caller, whatever is sent.
mutation ReportDispute($input: ReportDisputeInput!) {
  reportDispute(input: $input) {
    dispute { id code title status reportedAt grid { name } parties { name role } }
  }
}
"""

WORKFLOW_VARIABLES = """{
  "input": {
    "title": "楼道堆物 / stairwell clutter",
    "category": "NEIGHBOUR",
    "description": "Boxes block the stairwell on the 3rd floor.",
    "parties": [{"role": "COMPLAINANT", "name": "王芳"}, {"role": "RESPONDENT", "name": "李强"}]
  }
}
"""

SUBSCRIPTION = """# The live change feed over WebSocket (graphql-transport-ws). Run it, then report a dispute
# in another tab: the event arrives here, read through your own row scope and masks.
subscription DisputeUpdates {
  disputeUpdated {
    eventId kind
    dispute { code title status parties { name role } }
  }
}
"""

EXAMPLE_TABS: tuple[tuple[str, str, str], ...] = (
    ("FiveDomains", FIVE_DOMAINS, ""),
    ("ReportDispute", WORKFLOW, WORKFLOW_VARIABLES),
    ("DisputeUpdates", SUBSCRIPTION, ""),
)
