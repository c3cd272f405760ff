"""Domains stay apart: none reads another's tables, and what one needs to know of another's rows
(the terms of a grid's risk score, the kinds of task) is declared by the domain owning those rows."""

from __future__ import annotations

import ast
from pathlib import Path

from resolvers import REGISTRY
from resolvers.grid.risk import RISK, RiskTerm
from resolvers.tasks.kinds import TASKS, Kind, all_kinds
from resolvers.tasks.types import TaskKind

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = {d.name: d for d in REGISTRY.domains}


def _imported_tables(tree: ast.AST) -> set[str]:
    """The domains whose ``tables`` module a module imports, in any of the ways Python allows."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if len(parts) >= 3 and parts[0] == "resolvers" and parts[2] == "tables":
                found.add(parts[1])
    return found


def _crossings(folder: Path, own: str | None) -> list[str]:
    crossings = []
    for path in sorted(folder.rglob("*.py")):
        for other in sorted(_imported_tables(ast.parse(path.read_text(), str(path))) - {own}):
            crossings.append(f"{path.relative_to(ROOT)} imports resolvers.{other}.tables")
    return crossings


def test_the_walk_finds_every_form_of_import() -> None:
    source = """
import resolvers.grid.tables
from resolvers.dispute import tables as t
from resolvers.traffic.tables import PlateAlert
def late():
    from resolvers.population.tables import Resident
from resolvers.grid.types import Grid
"""
    assert _imported_tables(ast.parse(source)) == {"grid", "dispute", "traffic", "population"}


def test_no_domain_imports_another_domains_tables() -> None:
    crossings = [c for name in DOMAINS for c in _crossings(ROOT / "resolvers" / name, name)]
    assert crossings == []


def test_the_engine_imports_no_domains_tables() -> None:
    assert _crossings(ROOT / "gateway", None) == []


def _owner(model: type) -> str:
    """The domain whose metadata holds ``model``'s table."""
    owners = [name for name, d in DOMAINS.items() if model.__table__ in d.metadata.tables.values()]  # type: ignore[attr-defined]
    assert len(owners) == 1, model
    return owners[0]


def test_each_risk_term_comes_from_the_domain_owning_its_table() -> None:
    terms = REGISTRY.contributed(RISK)
    assert terms and all(isinstance(term, RiskTerm) for _, term in terms)
    assert [(domain, _owner(term.model)) for domain, term in terms] == [(domain, domain) for domain, _ in terms]


def test_the_risk_rule_keeps_its_terms() -> None:
    # 2 × open disputes + 1 × escalated + 3 × open plate alerts + 2 × check-in flags not yet cleared.
    terms = {
        (domain, term.weight, str(term.since), str(term.counts.compile(compile_kwargs={"literal_binds": True})))
        for domain, term in REGISTRY.contributed(RISK)
    }
    assert terms == {
        ("dispute", 2, "Dispute.reported_at", "dispute.status IN ('reported', 'accepted', 'mediating', 'escalated')"),
        ("dispute", 1, "Dispute.reported_at", "dispute.status = 'escalated'"),
        ("traffic", 3, "PlateAlert.raised_at", "plate_alert.status IN ('raised', 'dispatched')"),
        ("population", 2, "GuestCheckIn.checked_in_at", "guest_check_in.flag_status IN ('flagged', 'escalated')"),
    }


def test_the_grid_reacts_to_every_domain_that_adds_to_its_score() -> None:
    sources = {domain for domain, _ in REGISTRY.contributed(RISK)}
    assert {source for source, _ in DOMAINS["grid"].reactions} == sources


def test_each_task_kind_comes_from_the_domain_owning_its_table() -> None:
    kinds = REGISTRY.contributed(TASKS)
    assert kinds and all(isinstance(kind, Kind) for _, kind in kinds)
    for domain, kind in kinds:
        assert _owner(kind.source.model) == domain, kind.kind
        # Its events come from the same domain, and name the type that domain maps to the table.
        assert kind.source.feed[0] == domain, kind.kind
        assert DOMAINS[domain].types[kind.source.type_name][0] is kind.source.model, kind.kind


def test_every_task_kind_is_declared_once_in_the_order_of_the_enum() -> None:
    # The enum lists the kinds most urgent first, as myTasks returns them.
    assert [kind.kind for kind in all_kinds()] == list(TaskKind)
