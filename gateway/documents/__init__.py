"""Trusted documents (reviewed operations run by hash) and automatic persisted queries."""

from __future__ import annotations

from gateway.documents.store import (
    DOCUMENT_DOMAIN,
    AutomaticDocuments,
    Document,
    DocumentStore,
    document_hash,
    parse_document_id,
)
from gateway.documents.tables import TrustedDocument

__all__ = [
    "DOCUMENT_DOMAIN",
    "AutomaticDocuments",
    "Document",
    "DocumentStore",
    "TrustedDocument",
    "document_hash",
    "parse_document_id",
]
