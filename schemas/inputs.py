"""The input contract (DESIGN §4): turn one user-supplied JSON object into a Document, or say why not."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from .events import DOCUMENT_TYPES, Document, Issuer, SourceRef

DEFAULT_MAX_BODY_CHARS = 200_000


class InputError(ValueError):
    """A record that breaks the input contract. `field` names the offending field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"field '{self.field}': {self.message}" if self.field else self.message


def parse_timestamp(value: Any, field: str = "published_at") -> datetime:
    """An ISO-8601 timestamp that must carry a UTC offset (naive times are ambiguous across desks)."""
    if not isinstance(value, str) or not value.strip():
        raise InputError("must be an ISO-8601 string with a UTC offset", field)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"not an ISO-8601 timestamp: {value!r}", field) from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise InputError(f"timestamp has no UTC offset: {value!r} (write e.g. {value}+00:00)", field)
    return ts


def _source(value: Any) -> SourceRef:
    if isinstance(value, str):
        if not value.strip():
            raise InputError("must not be empty", "source")
        return SourceRef(name=value.strip())
    if isinstance(value, dict):
        try:
            return SourceRef.model_validate(value)
        except ValidationError as e:
            err = e.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise InputError(err["msg"], f"source.{loc}" if loc else "source") from None
    raise InputError("must be a string or an object {name, url, kind}", "source")


def derive_id(obj: dict[str, Any], title: str, body: str, source: str) -> str:
    """Use `id`, else the URL, else a hash of the content: re-ingesting the same item is a no-op."""
    given = obj.get("id")
    if given is not None:
        if not isinstance(given, (str, int)) or str(given).strip() == "":
            raise InputError("must be a non-empty string", "id")
        return str(given).strip()
    url = obj.get("url")
    basis = f"url\x1f{url}" if isinstance(url, str) and url else f"text\x1f{source}\x1f{title}\x1f{body}"
    return "doc-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:24]


_KNOWN = {"type", "id", "published_at", "source", "url", "title", "body", "language", "issuer", "metadata"}


def parse_document(obj: Any, *, max_body_chars: int = DEFAULT_MAX_BODY_CHARS) -> Document:
    """Validate one input object. Raises InputError naming the field at fault."""
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, got {type(obj).__name__}")
    typ = obj.get("type")
    if typ is None:
        raise InputError("is required (news.article or official.statement)", "type")
    if typ not in DOCUMENT_TYPES:
        raise InputError(f"unknown type {typ!r} (expected news.article or official.statement)", "type")
    unknown = sorted(set(obj) - _KNOWN)
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(unknown)} (put extra data under 'metadata')", unknown[0])
    if "published_at" not in obj:
        raise InputError("is required", "published_at")
    published_at = parse_timestamp(obj["published_at"])
    if "source" not in obj:
        raise InputError("is required", "source")
    source = _source(obj["source"])
    title = obj.get("title") or ""
    body = obj.get("body") or ""
    if not isinstance(title, str):
        raise InputError("must be a string", "title")
    if not isinstance(body, str):
        raise InputError("must be a string", "body")
    if not title.strip() and not body.strip():
        raise InputError("a document needs a title or a body", "body")
    if len(body) > max_body_chars:
        raise InputError(f"is {len(body)} characters, over the limit of {max_body_chars}", "body")
    issuer = obj.get("issuer")
    if issuer is not None:
        if not isinstance(issuer, dict):
            raise InputError("must be an object {name, country}", "issuer")
        try:
            issuer = Issuer.model_validate(issuer)
        except ValidationError as e:
            raise InputError(e.errors()[0]["msg"], "issuer") from None
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InputError("must be an object", "metadata")
    for name in ("url", "language"):
        v = obj.get(name)
        if v is not None and not isinstance(v, str):
            raise InputError("must be a string", name)
    # Trusted from here on: every field was checked above, so skip a second validation pass.
    return Document.model_construct(
        id=derive_id(obj, title, body, source.name),
        type=typ,
        published_at=published_at,
        source=source,
        url=obj.get("url"),
        title=title,
        body=body,
        language=obj.get("language"),
        issuer=issuer,
        metadata=metadata,
    )
