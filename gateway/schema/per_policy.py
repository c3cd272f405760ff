"""Each principal's own schema, built once per policy at start-up.

Strawberry asks ``get_fields`` for the fields of every type it converts; answering with
only what the policy grants makes a denied field, type or root field absent from the
schema and from introspection, so asking for it fails validation exactly like an unknown
field. A type left with no fields, and every field that leads only to such types, goes too.

A field's grant is the rule of the attribute it reads (``gateway.policy.attributes``). Arguments
and input fields follow reads: one that tests attributes (``TESTS``) exists only where the
policy reads all of them in clear, or where the policy grants the root look-up by name with a
budget (``lookups:``); a field whose required argument is gone goes with it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from graphql import GraphQLObjectType, default_field_resolver
from strawberry.schema.name_converter import NameConverter
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import StrawberryObjectDefinition, StrawberryOptional, has_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.unset import UNSET

from gateway.policy import (
    READS,
    TESTS,
    Attributes,
    LookupRule,
    Policy,
    attribute,
    field_access,
    named_type,
    reads_in_clear,
)

# Field metadata naming the fields a field depends on: it exists only where all of them do
# (e.g. a look-up by ID number exists only for a role that may read ID numbers).
REQUIRES = "requires"
# Field metadata naming the type whose count a field reveals (totalCount, statistics).
COUNTS = "counts"
# Field metadata holding a predicate over the policy: the field exists only where it holds
# (e.g. work prompts, only for roles that have work to be prompted about).
SHOWN_WHEN = "shown_when"


class Grants:
    """What one policy lets a schema show: the decision, kept apart from building the schema.

    Only the ``governed`` types (those backed by a table, and the audit trail) are subject to
    grants; other types (statistics, paging, the caller) appear wherever a granted field leads.
    """

    def __init__(
        self, policy: Policy, governed: frozenset[str], names: NameConverter, attributes: Attributes | None = None
    ) -> None:
        self.policy = policy
        self.governed = governed
        self.names = names
        self.attributes = attributes
        self._visible: dict[str, bool] = {}
        # Root look-ups kept only by a budgeted grant: field → (its rule, the arguments that spend it).
        self.budgeted: dict[str, tuple[LookupRule, frozenset[str]]] = {}

    def type_name(self, definition: StrawberryObjectDefinition) -> str:
        return self.names.from_object(definition)

    def fields(self, definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        name = self.type_name(definition)
        if name == "Mutation":
            # A mutation exists only where a policy grants it by name.
            return [f for f in definition.fields if self.policy.mutation(self.names.from_field(f)) is not None]
        shown: list[StrawberryField] = []
        for field in definition.fields:
            if not self.field_visible(name, definition, field):
                continue
            kept = self._with_arguments(name, field)
            if kept is not None:
                shown.append(kept)
        return shown

    def access(self, type_name: str, field: StrawberryField) -> str:
        """The rule of the attribute the field reads (its own column unless it declares another)."""
        return field_access(
            self.policy, self.attributes, type_name, self.names.from_field(field), field.metadata.get(READS)
        )

    def _granted(self, type_name: str, field: StrawberryField) -> bool:
        declared = field.metadata.get(READS)
        if declared is not None:
            return self.access(type_name, field) != "denied" and self._type_visible_by_name(type_name)
        if type_name not in self.governed or self.names.from_field(field) == "id":
            return True
        return self.access(type_name, field) != "denied"

    def tests_allowed(self, tested: Sequence[str]) -> bool:
        """May the policy test these attributes (equality, range, prefix, search, order, count)?"""
        return reads_in_clear(self.policy, self.attributes, tested) and all(
            self._type_visible_by_name(attribute(t)[0]) for t in tested
        )

    def argument_visible(self, type_name: str, field_name: str, argument: StrawberryArgument) -> bool:
        tested = argument.metadata.get(TESTS)
        if tested is not None and not self.tests_allowed(tested):
            lookup = self.policy.lookup(field_name) if type_name == "Query" else None
            if lookup is None or not all(self._readable(t) for t in tested):
                return False
            spending = self.budgeted.get(field_name, (lookup, frozenset[str]()))[1]
            self.budgeted[field_name] = (lookup, spending | {self.names.from_argument(argument)})
        try:
            target = named_type(argument.type)
        except Exception:
            return False
        if has_object_definition(target):
            return self.type_visible(target.__strawberry_definition__)
        return True

    def _readable(self, reference: str) -> bool:
        """Readable at all, if masked: what a budgeted look-up may test."""
        type_name, field_name = attribute(reference)
        if not self._type_visible_by_name(type_name):
            return False
        return field_access(self.policy, self.attributes, type_name, field_name) != "denied"

    def _with_arguments(self, type_name: str, field: StrawberryField) -> StrawberryField | None:
        """The field with only the arguments the policy may use; None when a required one is gone."""
        arguments = field.arguments
        if not arguments:
            return field
        field_name = self.names.from_field(field)
        kept = [a for a in arguments if self.argument_visible(type_name, field_name, a)]
        if len(kept) == len(arguments):
            return field
        if any(_required(a) for a in arguments if a not in kept):
            return None
        clone = copy.copy(field)
        clone.arguments = kept
        return clone

    def field_visible(self, type_name: str, owner: StrawberryObjectDefinition, field: StrawberryField) -> bool:
        field_name = self.names.from_field(field)
        if not owner.is_input and not self._granted(type_name, field):
            return False
        tested = field.metadata.get(TESTS)
        if owner.is_input and tested is not None and not self.tests_allowed(tested):
            return False
        for required in field.metadata.get(REQUIRES, ()):
            required_type, _, required_field = required.partition(".")
            if not self._type_visible_by_name(required_type):
                return False
            if required_field and field_access(self.policy, self.attributes, required_type, required_field) == "denied":
                return False
        shown_when = field.metadata.get(SHOWN_WHEN)
        if shown_when is not None and not shown_when(self.policy):
            return False
        counted = field.metadata.get(COUNTS)
        if counted is not None:
            rule = self.policy.rule(counted)
            return rule is not None and rule.aggregate
        listed = type_name.removesuffix("Connection")
        if listed != type_name and field_name == "totalCount" and listed in self.governed:
            rule = self.policy.rule(listed)
            if rule is None or not rule.aggregate:
                return False
        try:
            target = named_type(field.type)
        except Exception:
            return False
        if has_object_definition(target):
            return self.type_visible(target.__strawberry_definition__)
        return True

    def _type_visible_by_name(self, name: str) -> bool:
        return name not in self.governed or self.policy.rule(name) is not None

    def type_visible(self, definition: StrawberryObjectDefinition) -> bool:
        """A type is visible when the policy names it and at least one of its fields is."""
        name = self.type_name(definition)
        known = self._visible.get(name)
        if known is not None:
            return known
        self._visible[name] = True  # assume so while deciding, for types that refer to themselves
        if name == "Mutation":
            visible = bool(self.fields(definition))
        elif definition.is_input:
            visible = any(self.field_visible(name, definition, f) for f in definition.fields)
        elif name.endswith("Connection") or name.endswith("Edge"):
            visible = self._type_visible_by_name(name.removesuffix("Connection").removesuffix("Edge"))
        elif definition.is_interface:
            visible = True
        else:
            visible = self._type_visible_by_name(name) and any(
                self.names.from_field(f) != "id" and self.field_visible(name, definition, f) for f in definition.fields
            )
        self._visible[name] = visible
        return visible


def _required(argument: StrawberryArgument) -> bool:
    try:
        optional = isinstance(argument.type, StrawberryOptional)
    except Exception:
        return True
    return not optional and argument.default is UNSET


# (type name, field name) → whether a schema keeps the field (a subgraph keeps the fields its domain serves).
FieldFilter = Callable[[str, str], bool]


class PolicySchema(strawberry.Schema):
    """A Strawberry schema whose fields are those ``grants`` allow (all of them when None)."""

    def __init__(
        self, *args: Any, grants: Grants | None = None, keep: FieldFilter | None = None, **kwargs: Any
    ) -> None:
        self.grants = grants
        self.keep = keep
        super().__init__(*args, **kwargs)

    def get_fields(self, type_definition: StrawberryObjectDefinition) -> list[StrawberryField]:
        fields = list(type_definition.fields) if self.grants is None else self.grants.fields(type_definition)
        if self.keep is None:
            return fields
        name = self.config.name_converter.from_object(type_definition)
        return [f for f in fields if self.keep(name, self.config.name_converter.from_field(f))]


Resolver = Callable[..., Any]


def wrap_resolvers(schema: PolicySchema, wrap: Callable[[str, str, Resolver], Resolver | None]) -> None:
    """Let ``wrap`` replace the resolver of any object field of the built schema (None keeps it)."""
    for name, named in schema._schema.type_map.items():
        if not isinstance(named, GraphQLObjectType) or name.startswith("__"):
            continue
        for field_name, field in named.fields.items():
            resolve = field.resolve or default_field_resolver
            replaced = wrap(name, field_name, resolve)
            if replaced is not None:
                field.resolve = replaced


def visible_fields(schema: strawberry.Schema) -> dict[str, set[str]]:
    """Type name → field names, for every object type of a built schema."""
    out: dict[str, set[str]] = {}
    for name, named in schema._schema.type_map.items():
        if isinstance(named, GraphQLObjectType) and not name.startswith("__"):
            out[name] = set(named.fields)
    return out
