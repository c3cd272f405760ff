"""What a field reads: the stored attribute whose rule governs it, wherever the field is.

A rule belongs to a stored value, not to one field. An attribute is a column of a table, or a
value computed from a row's columns (a resident's age from the birth date), named as policies
name it: ``Type.field`` of the type the table backs (``Staff.phone``, ``Resident.age``).

- By default a field reads the attribute of its own name on its own type: ``Resident.phone``
  reads column ``phone`` of the resident table, under the rule written for ``Resident.phone``.
- A column holding another attribute's values says so on its table:
  ``__reads__ = {"phone": "Staff.phone"}`` (a mediator's phone is a staff member's phone), and
  every field showing that column obeys the ``Staff.phone`` rule of the reader — masks in SQL
  included. A rule written for the copy itself is an error (``gateway policy check``).
- A field computed from its row declares the columns it is computed from:
  ``metadata={COMPUTED_FROM: ["birth_date"]}``. It is an attribute of its own, under its own rule
  (a role may read ``age`` but not ``birthDate``).
- A field reading another type's attribute through a resolver declares it:
  ``metadata={READS: "Staff.phone"}``; it then obeys that attribute's rule.
- Arguments and input fields say which attributes they test: ``metadata={TESTS: ["Resident.idNumber"]}``;
  they exist only for a principal that reads every one of them in clear (``gateway.schema``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.lazy_type import LazyType

from gateway.kernel import graphql_name
from gateway.policy.model import Access, Policy

# Field metadata: the attribute (``Type.field``) a field reads, when it is not its own column.
READS = "reads"
# Field metadata: the columns of its own type's table a computed field is derived from.
COMPUTED_FROM = "computed_from"
# Argument and input-field metadata: the attributes (``Type.field``) the argument tests.
TESTS = "tests"

Attribute = tuple[str, str]


def attribute(reference: str) -> Attribute:
    """``"Staff.phone"`` → ``("Staff", "phone")``."""
    type_name, _, field_name = reference.partition(".")
    return type_name, field_name


def field_name_of(field: Any) -> str:
    """The GraphQL name of a Strawberry field."""
    return str(field.graphql_name or graphql_name(field.python_name))


class Attributes:
    """The attributes of every type backed by a table, and which fields read which.

    ``types`` maps each governed GraphQL type to its table and its Strawberry class
    (``Domain.types``).
    """

    def __init__(self, types: Mapping[str, tuple[type[Any], type[Any]]]) -> None:
        self.models = {name: model for name, (model, _) in types.items()}
        self.classes = {name: cls for name, (_, cls) in types.items()}
        self.columns: dict[str, set[str]] = {
            name: {graphql_name(c.key) for c in model.__table__.columns} for name, model in self.models.items()
        }
        self.sensitive: dict[str, set[str]] = {
            name: {graphql_name(c) for c in getattr(model, "__sensitive__", ())} for name, model in self.models.items()
        }
        self.computed: dict[Attribute, tuple[str, ...]] = {}
        self._homes: dict[Attribute, Attribute] = {}
        for name, model in self.models.items():
            for column, reference in getattr(model, "__reads__", {}).items():
                self._homes[(name, graphql_name(column))] = attribute(reference)
        for name, (_, cls) in types.items():
            for field in cls.__strawberry_definition__.fields:
                here = (name, field_name_of(field))
                if READS in field.metadata:
                    self._homes[here] = attribute(field.metadata[READS])
                if COMPUTED_FROM in field.metadata:
                    self.computed[here] = tuple(graphql_name(c) for c in field.metadata[COMPUTED_FROM])

    @classmethod
    def of(cls, domains: Iterable[Any]) -> Attributes:
        return cls({name: pair for d in domains for name, pair in d.types.items()})

    @property
    def governed(self) -> set[str]:
        return set(self.models)

    def home(self, type_name: str, field_name: str) -> Attribute:
        """The attribute whose rule governs ``type_name.field_name``."""
        return self._homes.get((type_name, field_name), (type_name, field_name))

    def copies(self) -> dict[Attribute, Attribute]:
        """Every field that reads another type's attribute → that attribute."""
        return dict(self._homes)

    def has_area(self, type_name: str) -> bool:
        model = self.models.get(type_name)
        return model is not None and getattr(model, "__area__", None) is not None

    def is_personal(self, home: Attribute) -> bool:
        type_name, field_name = home
        if field_name in self.sensitive.get(type_name, set()):
            return True
        sources = self.computed.get(home, ())
        return any(source in self.sensitive.get(type_name, set()) for source in sources)


def field_access(
    policy: Policy, attributes: Attributes | None, type_name: str, field_name: str, declared: str | None = None
) -> Access:
    """What ``policy`` grants of a field: the rule of the attribute it reads.

    A field reading another type's attribute exists only where its own type is granted, and
    then obeys that attribute's rule; a row-dependent rule cannot follow a value into a table
    whose rows lie in no area, so there it is denied.
    """
    home = attribute(declared) if declared else (attributes.home(type_name, field_name) if attributes else None)
    if home is None or home == (type_name, field_name):
        return policy.access(type_name, field_name)
    governed = attributes is not None and type_name in attributes.governed
    if governed and policy.rule(type_name) is None:
        return "denied"
    access = policy.access(*home)
    if access == "own_area_only" and not (attributes is not None and attributes.has_area(type_name)):
        return "denied"
    return access


def mask_of(policy: Policy, home: Attribute) -> str | None:
    rule = policy.rule(home[0])
    return None if rule is None else rule.masked.get(home[1])


def reads_in_clear(policy: Policy, attributes: Attributes | None, references: Iterable[str]) -> bool:
    """Does ``policy`` read every one of these attributes in clear, on every row it sees?"""
    for reference in references:
        type_name, field_name = attribute(reference)
        if policy.rule(type_name) is None and (attributes is None or type_name in attributes.governed):
            return False
        if field_name and field_access(policy, attributes, type_name, field_name) != "allowed":
            return False
    return True


def named_type(field_type: Any) -> Any:
    """The type a Strawberry field or argument names, under its optional, list and lazy wrappers."""
    while True:
        if isinstance(field_type, StrawberryOptional | StrawberryList):
            field_type = field_type.of_type
        elif isinstance(field_type, LazyType):
            field_type = field_type.resolve_type()
        else:
            return field_type
