"""One operation, whatever the transport: runtime, preparation, execution, audit, shaping."""

from __future__ import annotations

from gateway.pipeline.documents import document_reference
from gateway.pipeline.execution import error_dict
from gateway.pipeline.operation import (
    BUSY,
    AuditFailure,
    Call,
    GraphQLRequest,
    Overloaded,
    Refused,
    authenticate,
    declared_purpose,
    header_value,
    prepare,
)
from gateway.pipeline.runtime import Runtime
from gateway.pipeline.session import LiveSession
from gateway.pipeline.watch import PolicyWatcher

__all__ = [
    "BUSY",
    "AuditFailure",
    "Call",
    "GraphQLRequest",
    "LiveSession",
    "Overloaded",
    "PolicyWatcher",
    "Refused",
    "Runtime",
    "authenticate",
    "declared_purpose",
    "document_reference",
    "error_dict",
    "header_value",
    "prepare",
]
