"""What an operation's variables contribute to a cache key: a digest of those it declares.

Variables it does not declare cannot change what it reads or probes, and a caller could send
them only to fill a cache; values too large to be worth keeping are not kept at all.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from graphql import OperationDefinitionNode

# Declared variables whose JSON is longer than this are not cached: they would pin their size.
KEPT_VARIABLES_MOST = 4096
# What an operation declaring no variables is given, whatever is sent.
_NONE_DECLARED = hashlib.sha256(b"{}").hexdigest()


def variables_key(definition: OperationDefinitionNode | None, variables: dict[str, Any] | None) -> str | None:
    """A digest of the declared variables' values, or None where the answer must not be cached."""
    if definition is None:
        return None
    if not definition.variable_definitions:
        return _NONE_DECLARED
    declared = {v.variable.name.value for v in definition.variable_definitions}
    given = {name: value for name, value in (variables or {}).items() if name in declared}
    try:
        text = json.dumps(given, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return None
    if len(text) > KEPT_VARIABLES_MOST:
        return None
    return hashlib.sha256(text.encode()).hexdigest()
