"""The list of trusted documents: add, list, remove, and look up by hash."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate
from sqlalchemy import delete, select

from gateway.auth import TOKEN_DOMAIN
from gateway.data import Databases
from gateway.documents.tables import TrustedDocument
from gateway.kernel import BadUserInput, Kept

DOCUMENT_DOMAIN = TOKEN_DOMAIN
_HEX = re.compile(r"^[0-9a-f]{64}$")
_CLIENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def document_hash(text: str) -> str:
    """SHA-256 of the document's exact text (UTF-8), in lower-case hex: the APQ and trusted-documents hash."""
    return hashlib.sha256(text.encode()).hexdigest()


def parse_document_id(raw: object) -> str | None:
    """``documentId`` as sent (``sha256:<hex>`` or bare hex) → the hex hash; None when malformed."""
    if not isinstance(raw, str):
        return None
    text = raw.removeprefix("sha256:").lower()
    return text if _HEX.match(text) else None


@dataclass(frozen=True)
class Document:
    """A document an operation ran from: its hash, and the client it was listed for (or "apq")."""

    hash: str
    client: str
    body: str


class DocumentStore:
    def __init__(self, databases: Databases) -> None:
        self._databases = databases

    async def add(self, body: str, client: str, schema: GraphQLSchema | None = None) -> TrustedDocument:
        """List ``body`` for ``client``; it must parse (and validate against ``schema`` when given)."""
        if not _CLIENT.match(client):
            raise BadUserInput("A client name is letters, digits, '.', '_' or '-' (at most 100)")
        try:
            document = parse(body)
        except GraphQLError as error:
            raise BadUserInput(f"The document does not parse: {error.message}") from None
        if schema is not None:
            errors = validate(schema, document)
            if errors:
                raise BadUserInput(f"The document does not validate: {errors[0].message}")
        names = [d.name.value if d.name else "" for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if not names:
            raise BadUserInput("The document holds no operation")
        digest = document_hash(body)
        async with self._databases.session(DOCUMENT_DOMAIN) as session, session.begin():
            known = await session.get(TrustedDocument, digest)
            if known is not None:
                if known.client != client:
                    raise BadUserInput(f"Document {digest} is already listed for client {known.client!r}")
                return known
            row = TrustedDocument(
                hash=digest, client=client, body=body, operations=",".join(names), added_at=datetime.now(UTC)
            )
            session.add(row)
        return row

    async def all(self, client: str | None = None) -> list[TrustedDocument]:
        stmt = select(TrustedDocument).order_by(TrustedDocument.client, TrustedDocument.added_at)
        if client is not None:
            stmt = stmt.where(TrustedDocument.client == client)
        async with self._databases.session(DOCUMENT_DOMAIN) as session:
            return list(await session.scalars(stmt))

    async def remove(self, digest: str) -> bool:
        async with self._databases.session(DOCUMENT_DOMAIN) as session, session.begin():
            result = await session.execute(delete(TrustedDocument).where(TrustedDocument.hash == digest))
        return bool(getattr(result, "rowcount", 0))

    async def get(self, digest: str) -> Document | None:
        async with self._databases.session(DOCUMENT_DOMAIN) as session:
            row = await session.get(TrustedDocument, digest)
        return None if row is None else Document(row.hash, row.client, row.body)


class AutomaticDocuments:
    """Documents registered by the automatic persisted queries protocol: this process's memory, LRU."""

    CLIENT = "apq"

    def __init__(self, size: int) -> None:
        self._bodies: Kept[str, str] = Kept(size)

    def get(self, digest: str) -> Document | None:
        body = self._bodies.get(digest)
        if body is None:
            return None
        return Document(digest, self.CLIENT, body)

    def register(self, digest: str, body: str) -> Document:
        self._bodies.put(digest, body)
        return Document(digest, self.CLIENT, body)
