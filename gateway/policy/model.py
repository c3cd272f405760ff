"""Access policies: what each role (or partner scope) may see, read from ``policies/*.yaml``.

A policy file is data, not code. Per GraphQL type it says which rows (``rows``), which
fields (``fields``, ``deny``), which masks (``masked``), which fields only on rows inside
the reader's own area (``own_area_only``), whether counts are open (``aggregate``) and the
largest page (``limit``). A type the file does not name is denied; so is a field it does
not grant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

Access = Literal["allowed", "masked", "own_area_only", "denied"]
ROW_SCOPES = ("area", "street", "city")
ALL = "*"


# What a policy's ``limits:`` may override (see gateway.pipeline.limits): most of each in a document.
LIMIT_KEYS = ("depth", "tokens", "aliases", "root_fields", "directives", "cost")

# Types of the engine itself (not of a domain's table) that policies govern.
ENGINE_GOVERNED = ("AuditRecord",)


@dataclass(frozen=True)
class Located:
    """Where a value came from, for error messages: file and line."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class TypeRule:
    rows: str = "area"
    fields: frozenset[str] | None = frozenset()  # None: every field of the type
    deny: frozenset[str] = frozenset()
    masked: Mapping[str, str] = field(default_factory=dict)
    own_area_only: frozenset[str] = frozenset()
    aggregate: bool = False
    limit: int | None = None
    where: Mapping[str, Located] = field(default_factory=dict, compare=False)

    def access(self, name: str) -> Access:
        if name == "id":
            return "allowed"
        if name in self.deny:
            return "denied"
        if name in self.masked:
            return "masked"
        if name in self.own_area_only:
            return "own_area_only"
        if self.fields is None or name in self.fields:
            return "allowed"
        return "denied"

    def merged(self, other: TypeRule) -> TypeRule:
        """The union of two grants (a partner holding two scopes): the wider wins."""
        rows = max(self.rows, other.rows, key=ROW_SCOPES.index)
        fields = None if self.fields is None or other.fields is None else self.fields | other.fields
        either = {**other.masked, **self.masked}
        masked = {k: v for k, v in either.items() if "allowed" not in (self.access(k), other.access(k))}
        return TypeRule(
            rows=rows,
            fields=fields,
            deny=self.deny & other.deny,
            masked=masked,
            own_area_only=(self.own_area_only | other.own_area_only) - set(masked),
            aggregate=self.aggregate or other.aggregate,
            limit=None if self.limit is None or other.limit is None else max(self.limit, other.limit),
        )


WRITE_CHECKS = ("area", "none")
# Pages a policy may open: /policies (the policy matrix) and /audit (who accessed a record).
PAGES = ("policies", "audit")
# Where a preset takes its value: the principal's own grid, or its staff record.
PRESET_SOURCES = ("own_grid", "own_staff")


@dataclass(frozen=True)
class MutationRule:
    """May the principal call this mutation, on which rows, with which inputs preset.

    ``check: area`` refuses a write to a row outside the principal's area (FORBIDDEN);
    ``presets`` fill inputs from the principal (e.g. ``gridId: own_grid``), whatever was sent.
    """

    check: str = "area"
    presets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LookupRule:
    """An exact look-up granted by name to a role that does not read the tested value in clear.

    Every probe (each alias, each element of a list argument) spends one of ``budget``
    look-ups per principal per hour; see ``gateway.policy.budget``.
    """

    budget: int


# How a principal's operations may arrive: as text or a listed document's hash ("open", the default),
# that plus automatic persisted queries ("automatic"), or only as listed documents ("required").
DOCUMENT_MODES = ("open", "automatic", "required")
RATE_KEYS = ("requests_per_minute", "cost_per_minute")


@dataclass(frozen=True)
class RateLimit:
    """Requests and estimated cost a minute; None: no limit of that kind."""

    requests_per_minute: int | None = None
    cost_per_minute: int | None = None

    def merged(self, other: RateLimit) -> RateLimit:
        """Two scopes' limits: each declared limit holds, at the higher value where both declare one."""

        def higher(a: int | None, b: int | None) -> int | None:
            return b if a is None else a if b is None else max(a, b)

        return RateLimit(
            higher(self.requests_per_minute, other.requests_per_minute),
            higher(self.cost_per_minute, other.cost_per_minute),
        )


@dataclass(frozen=True)
class RateLimits:
    """``rate_limits:`` of a policy: per token, and per agency (all its principals' tokens together)."""

    token: RateLimit = RateLimit()
    agency: RateLimit = RateLimit()

    def merged(self, other: RateLimits) -> RateLimits:
        return RateLimits(self.token.merged(other.token), self.agency.merged(other.agency))


@dataclass(frozen=True)
class Policy:
    """What one role, or one set of partner scopes, may see."""

    name: str
    types: Mapping[str, TypeRule]
    enforce: bool = True
    description: str = ""
    source: Located | None = None
    mutations: Mapping[str, MutationRule] = field(default_factory=dict)
    # Root look-ups granted with a budget (by root field name), e.g. residentByIdNumber.
    lookups: Mapping[str, LookupRule] = field(default_factory=dict)
    documents: str = "open"
    rate_limits: RateLimits = RateLimits()
    # Limits on a document overriding the settings for this policy, e.g. {"cost": 2000}.
    limits: Mapping[str, int] = field(default_factory=dict)

    @property
    def partner(self) -> bool:
        """Whether this is a partner's policy (the union of its token's scopes)."""
        return self.name.startswith("scopes:")

    # The gateway's own pages this policy opens (``pages: [policies, audit]``), see PAGES.
    pages: frozenset[str] = frozenset()

    def mutation(self, name: str) -> MutationRule | None:
        return self.mutations.get(name)

    def lookup(self, name: str) -> LookupRule | None:
        return self.lookups.get(name)

    def rule(self, type_name: str) -> TypeRule | None:
        return self.types.get(type_name)

    def access(self, type_name: str, field_name: str) -> Access:
        rule = self.types.get(type_name)
        return "denied" if rule is None else rule.access(field_name)


@dataclass(frozen=True)
class PolicySet:
    roles: Mapping[str, Policy]
    scopes: Mapping[str, Policy]
    version: str

    def for_role(self, role: str) -> Policy | None:
        return self.roles.get(role)

    def for_scopes(self, scopes: Iterable[str]) -> Policy:
        """The union of the grants of these scopes; unknown scopes grant nothing."""
        chosen = sorted({s for s in scopes if s in self.scopes})
        types: dict[str, TypeRule] = {}
        for scope in chosen:
            for name, rule in self.scopes[scope].types.items():
                types[name] = types[name].merged(rule) if name in types else rule
        enforce = all(self.scopes[s].enforce for s in chosen)
        mutations = {name: rule for s in chosen for name, rule in self.scopes[s].mutations.items()}
        lookups: dict[str, LookupRule] = {}
        for scope in chosen:
            for name, lookup in self.scopes[scope].lookups.items():
                known = lookups.get(name)
                lookups[name] = lookup if known is None or lookup.budget > known.budget else known
        # The strictest document mode of the scopes holds: a scope requiring reviewed documents is not widened.
        modes = {self.scopes[s].documents for s in chosen}
        documents = next((m for m in reversed(DOCUMENT_MODES) if m in modes), "open")
        rates = RateLimits()
        for scope in chosen:
            rates = rates.merged(self.scopes[scope].rate_limits)
        document_limits: dict[str, int] = {}
        for scope in chosen:
            for name, value in self.scopes[scope].limits.items():
                document_limits[name] = max(value, document_limits.get(name, value))
        pages = frozenset(page for s in chosen for page in self.scopes[s].pages)
        return Policy(
            name="scopes:" + "+".join(chosen),
            types=types,
            enforce=enforce,
            mutations=mutations,
            lookups=lookups,
            documents=documents,
            rate_limits=rates,
            limits=document_limits,
            pages=pages,
        )


class PolicyError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- reading files ---------------------------------------------------------------------------


def _plain(node: yaml.Node, file: str, lines: dict[tuple[str, ...], int], path: tuple[str, ...]) -> Any:
    """A YAML node as plain data, noting each key's line in ``lines``."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _plain(value_node, file, lines, (*path, key))
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for item in node.value:
            lines[(*path, str(item.value))] = item.start_mark.line + 1
            items.append(_plain(item, file, lines, (*path, str(item.value))))
        return items
    return yaml.safe_load(yaml.serialize(node))


def _names(value: Any, at: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError([f"{at}: expected a list of field names"])
    return frozenset(value)


def _type_rule(name: str, raw: Any, file: str, lines: dict[tuple[str, ...], int]) -> TypeRule:
    at = f"{file}:{lines.get(('types', name), 1)}"
    if not isinstance(raw, dict):
        raise PolicyError([f"{at}: type {name} needs a mapping (rows, fields, ...)"])
    unknown = set(raw) - {"rows", "fields", "deny", "masked", "own_area_only", "aggregate", "limit"}
    if unknown:
        raise PolicyError([f"{at}: unknown key(s) {', '.join(sorted(unknown))} under {name}"])
    rows = raw.get("rows", "area")
    if rows not in ROW_SCOPES:
        line = lines.get(("types", name, "rows"), 1)
        raise PolicyError([f"{file}:{line}: rows must be one of {', '.join(ROW_SCOPES)}, got {rows!r}"])
    fields_raw = raw.get("fields", [])
    fields = None if fields_raw == ALL else _names(fields_raw, at)
    masked = raw.get("masked") or {}
    if not isinstance(masked, dict):
        raise PolicyError([f"{at}: masked must map a field to a mask"])
    limit = raw.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise PolicyError([f"{at}: limit must be a positive whole number"])
    where = {
        key[2] if len(key) == 3 else key[3]: Located(file, line)
        for key, line in lines.items()
        if len(key) in (3, 4) and key[:2] == ("types", name)
    }
    return TypeRule(
        rows=rows,
        fields=fields,
        deny=_names(raw.get("deny"), at),
        masked={str(k): str(v) for k, v in masked.items()},
        own_area_only=_names(raw.get("own_area_only"), at),
        aggregate=bool(raw.get("aggregate", False)),
        limit=limit,
        where=where,
    )


def read_policy(path: Path) -> tuple[str, str, Policy]:
    """One file → (kind ``role`` or ``scope``, its key, the policy)."""
    file = str(path)
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PolicyError([f"{file}: not valid YAML: {error}"]) from None
    if node is None:
        raise PolicyError([f"{file}:1: empty policy file"])
    lines: dict[tuple[str, ...], int] = {}
    raw = _plain(node, file, lines, ())
    if not isinstance(raw, dict):
        raise PolicyError([f"{file}:1: a policy file is a mapping"])
    kinds = [k for k in ("role", "scope") if k in raw]
    if len(kinds) != 1:
        raise PolicyError([f"{file}:1: name exactly one of `role:` or `scope:`"])
    kind = kinds[0]
    known = {"role", "scope", "description", "enforce", "types", "mutations", "lookups", "documents", "rate_limits"}
    unknown = set(raw) - known - {"limits", "pages"}
    if unknown:
        key = sorted(unknown)[0]
        raise PolicyError([f"{file}:{lines.get((key,), 1)}: unknown key {key!r}"])
    types_raw = raw.get("types") or {}
    if not isinstance(types_raw, dict):
        raise PolicyError([f"{file}:{lines.get(('types',), 1)}: types must be a mapping"])
    problems: list[str] = []
    types: dict[str, TypeRule] = {}
    for name, rule in types_raw.items():
        try:
            types[name] = _type_rule(name, rule, file, lines)
        except PolicyError as error:
            problems += error.problems
    mutations, mutation_problems = _mutation_rules(raw.get("mutations") or {}, file, lines)
    problems += mutation_problems
    lookups, lookup_problems = _lookup_rules(raw.get("lookups") or {}, file, lines)
    problems += lookup_problems
    documents = raw.get("documents", "open")
    if documents not in DOCUMENT_MODES:
        at = f"{file}:{lines.get(('documents',), 1)}"
        problems.append(f"{at}: documents must be one of {', '.join(DOCUMENT_MODES)}, got {documents!r}")
    rate_limits, rate_problems = _rate_limits(raw.get("rate_limits") or {}, file, lines)
    problems += rate_problems
    limits, limit_problems = _limits(raw.get("limits") or {}, file, lines)
    problems += limit_problems
    pages = raw.get("pages") or []
    if not isinstance(pages, list) or not all(p in PAGES for p in pages):
        problems.append(f"{file}:{lines.get(('pages',), 1)}: pages must list some of {', '.join(PAGES)}")
        pages = []
    if problems:
        raise PolicyError(problems)
    key = str(raw[kind])
    policy = Policy(
        name=f"{kind}:{key}",
        types=types,
        enforce=bool(raw.get("enforce", True)),
        description=str(raw.get("description", "")),
        source=Located(file, lines.get((kind,), 1)),
        mutations=mutations,
        lookups=lookups,
        documents=str(documents),
        rate_limits=rate_limits,
        limits=limits,
        pages=frozenset(pages),
    )
    return kind, key, policy


def _rate_limits(raw: Any, file: str, lines: dict[tuple[str, ...], int]) -> tuple[RateLimits, list[str]]:
    at = f"{file}:{lines.get(('rate_limits',), 1)}"
    if not isinstance(raw, dict) or set(raw) - {"token", "agency"}:
        return RateLimits(), [f"{at}: rate_limits takes `token:` and `agency:`, each with {' and '.join(RATE_KEYS)}"]
    problems: list[str] = []
    found: dict[str, RateLimit] = {}
    for who, body in raw.items():
        where = f"{file}:{lines.get(('rate_limits', who), 1)}"
        if not isinstance(body, dict) or not body or set(body) - set(RATE_KEYS):
            problems.append(f"{where}: rate_limits.{who} takes {' and/or '.join(RATE_KEYS)}")
            continue
        values = {k: v for k, v in body.items()}
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values.values()):
            problems.append(f"{where}: rate_limits.{who} values are positive whole numbers a minute")
            continue
        found[str(who)] = RateLimit(**values)
    return RateLimits(**found), problems


def _mutation_rules(
    raw: Any, file: str, lines: dict[tuple[str, ...], int]
) -> tuple[dict[str, MutationRule], list[str]]:
    if not isinstance(raw, dict):
        return {}, [f"{file}:{lines.get(('mutations',), 1)}: mutations must map a mutation to its rule"]
    rules: dict[str, MutationRule] = {}
    problems: list[str] = []
    for name, body in raw.items():
        at = f"{file}:{lines.get(('mutations', name), 1)}"
        body = {} if body in (None, True, "allow") else body
        if not isinstance(body, dict) or set(body) - {"check", "presets"}:
            problems.append(f"{at}: mutation {name} takes `check` and `presets` only")
            continue
        check = body.get("check", "area")
        if check not in WRITE_CHECKS:
            problems.append(f"{at}: check must be one of {', '.join(WRITE_CHECKS)}, got {check!r}")
            continue
        presets = body.get("presets") or {}
        if not isinstance(presets, dict):
            problems.append(f"{at}: presets must map an input field to a principal value")
            continue
        rules[str(name)] = MutationRule(check=check, presets={str(k): str(v) for k, v in presets.items()})
    return rules, problems


def _lookup_rules(raw: Any, file: str, lines: dict[tuple[str, ...], int]) -> tuple[dict[str, LookupRule], list[str]]:
    if not isinstance(raw, dict):
        return {}, [f"{file}:{lines.get(('lookups',), 1)}: lookups must map a root look-up to its budget"]
    rules: dict[str, LookupRule] = {}
    problems: list[str] = []
    for name, body in raw.items():
        at = f"{file}:{lines.get(('lookups', name), 1)}"
        budget = body.get("budget") if isinstance(body, dict) and set(body) == {"budget"} else None
        if not isinstance(budget, int) or isinstance(budget, bool) or budget < 1:
            problems.append(f"{at}: look-up {name} takes `budget:` only, a positive whole number of probes an hour")
            continue
        rules[str(name)] = LookupRule(budget=budget)
    return rules, problems


def _limits(raw: Any, file: str, lines: dict[tuple[str, ...], int]) -> tuple[dict[str, int], list[str]]:
    at = f"{file}:{lines.get(('limits',), 1)}"
    if not isinstance(raw, dict):
        return {}, [f"{at}: limits must map a limit ({', '.join(LIMIT_KEYS)}) to a number"]
    limits: dict[str, int] = {}
    problems: list[str] = []
    for name, value in raw.items():
        at = f"{file}:{lines.get(('limits', name), 1)}"
        if name not in LIMIT_KEYS:
            problems.append(f"{at}: unknown limit {name!r}; one of {', '.join(LIMIT_KEYS)}")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"{at}: limit {name} must be a positive whole number")
        else:
            limits[str(name)] = value
    return limits, problems


def load_policies(folder: Path) -> PolicySet:
    """Every ``*.yaml`` under ``folder``; the version is a digest of their bytes."""
    files = sorted(folder.rglob("*.yaml"))
    if not files:
        raise PolicyError([f"{folder}: no policy files (*.yaml)"])
    digest = hashlib.sha256()
    roles: dict[str, Policy] = {}
    scopes: dict[str, Policy] = {}
    problems: list[str] = []
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        try:
            kind, key, policy = read_policy(path)
        except PolicyError as error:
            problems += error.problems
            continue
        target = roles if kind == "role" else scopes
        if key in target:
            problems.append(f"{path}:1: {kind} {key!r} is defined twice")
        target[key] = policy
    if problems:
        raise PolicyError(problems)
    return PolicySet(roles=roles, scopes=scopes, version=digest.hexdigest()[:12])
