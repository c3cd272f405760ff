"""Text no database can store — a NUL, a lone surrogate — found anywhere in a request.

Refused as bad input before anything runs, rather than failing inside a statement (where
PostgreSQL would reject it and the failure would be an INTERNAL error).
"""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, StringValueNode, Visitor, visit


def _bad_text(value: str) -> bool:
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unusable_text(variables: dict[str, Any] | None, literals: bool) -> str | None:
    """Where a string no database can store sits (a variable's path, or "document" where ``literals``
    says the document writes one): refused as bad input before anything runs, rather than failing
    inside a statement. (``operationName`` is refused sooner: it must be a GraphQL name.)"""

    def walk(value: Any, path: str) -> str | None:
        if isinstance(value, str):
            return path if _bad_text(value) else None
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list):
            items = ((f"[{n}]", v) for n, v in enumerate(value))
        else:
            return None
        for key, inner in items:
            key_path = f"{path}{key}" if str(key).startswith("[") else f"{path}.{key}"
            if isinstance(key, str) and _bad_text(key):
                return path
            found = walk(inner, key_path)
            if found is not None:
                return found
        return None

    for name, value in (variables or {}).items():
        if _bad_text(name):
            return "variables"
        found = walk(value, f"${name}")
        if found is not None:
            return found
    return "document" if literals else None


def unusable_literals(document: DocumentNode) -> bool:
    """Whether the document writes such a string inline (an escape can make a NUL or a lone surrogate);
    a document is parsed once, so this is asked once per text."""

    class Literals(Visitor):
        found: str | None = None

        def enter_string_value(self, node: StringValueNode, *_: object) -> None:
            if _bad_text(node.value):
                self.found = "document"

    literals = Literals()
    visit(document, literals)
    return literals.found is not None
