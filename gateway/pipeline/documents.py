"""Which document an operation runs: its text, a trusted document's hash, or an automatic persisted query.

A request names a document by hash in either of two shapes (both accepted, over GET, POST and
a WebSocket ``subscribe`` payload):

- ``"documentId": "sha256:<hex>"`` — the GraphQL-over-HTTP trusted documents convention;
- ``"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}`` — the APQ shape.

The hash is the SHA-256 of the document's exact text. What the principal's policy says decides:

- ``documents: open`` (the default): text runs; so does a listed document sent by hash;
- ``documents: automatic``: as open, and the APQ protocol: an unknown hash alone is answered
  ``PERSISTED_QUERY_NOT_FOUND``; hash and text together register the text (this process, LRU);
- ``documents: required``: only listed documents run — sent by hash, or as text whose hash is
  listed; anything else is refused (``FORBIDDEN``), and APQ registration never happens.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from gateway.documents import AutomaticDocuments, Document, document_hash, parse_document_id

if TYPE_CHECKING:
    from gateway.auth import Principal
    from gateway.pipeline.operation import GraphQLRequest
    from gateway.pipeline.runtime import Runtime


class DocumentRefusal(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


async def resolve_document(
    runtime: Runtime, principal: Principal, request: GraphQLRequest
) -> tuple[GraphQLRequest, Document | None]:
    """The request with its text filled in from its hash, and the listed or persisted document it ran from."""
    mode = runtime.policy_for(principal).documents
    digest = request.document_id
    if digest is None:
        if mode != "required":
            return request, None
        listed = await runtime.documents.get(document_hash(request.query))
        if listed is None:
            raise DocumentRefusal(
                "Only trusted documents may run for this client: send a listed document's hash as documentId",
                "FORBIDDEN",
            )
        return request, listed
    if request.query and document_hash(request.query) != digest:
        raise DocumentRefusal("provided sha does not match query", "BAD_USER_INPUT")
    listed = await runtime.documents.get(digest)
    if listed is not None:
        return replace(request, query=listed.body), listed
    if mode == "automatic" and request.automatic:
        known = runtime.automatic_documents.get(digest)
        if known is not None:
            return replace(request, query=known.body), known
        if not request.query:
            raise DocumentRefusal("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        # Registered by prepare once it validates (see register_valid): a broken text is never kept.
        return request, Document(digest, AutomaticDocuments.CLIENT, request.query)
    if mode == "required":
        raise DocumentRefusal(f"Document sha256:{digest} is not a trusted document", "FORBIDDEN")
    if request.automatic and not request.query:
        # Apollo clients fall back to sending the text when told persisted queries are not supported.
        raise DocumentRefusal("PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED")
    if not request.query:
        raise DocumentRefusal(f"Document sha256:{digest} is not a trusted document", "NOT_FOUND")
    return request, None


def document_reference(document_id: object, extensions: object) -> tuple[str | None, bool]:
    """The hash a request names its document by, and whether by the APQ extension; ValueError when malformed.

    ``extensions`` may arrive as a JSON string (a GET query parameter) or an object (a JSON body).
    """
    if isinstance(extensions, str) and extensions:
        try:
            extensions = json.loads(extensions)
        except json.JSONDecodeError:
            raise ValueError("extensions must be a JSON object") from None
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if extensions not in (None, "") and not isinstance(extensions, dict):
        raise ValueError("extensions must be a JSON object")
    if persisted is not None:
        digest = parse_document_id(persisted.get("sha256Hash")) if isinstance(persisted, dict) else None
        if digest is None or (isinstance(persisted, dict) and persisted.get("version", 1) != 1):
            raise ValueError("extensions.persistedQuery needs version 1 and a sha256Hash of 64 hex digits")
        return digest, True
    if document_id is None:
        return None, False
    digest = parse_document_id(document_id)
    if digest is None:
        raise ValueError("documentId must be sha256:<64 hex digits>")
    return digest, False
