"""A source's credentials, read from the environment variables its config names (never from the config itself).

`username` + `password_env` make an HTTP Basic Authorization header; `headers_env` maps header names to the
variables holding their values, `query_env` query parameters (an API that takes its key only in the query). feed_http
sends them to the configured URL's origin only.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping

from watchfloor.schemas.config import GdeltSource, JsonlSource, RssSource
from watchfloor.schemas.redact import redact_url


class MissingSecret(ValueError):
    """An environment variable a source's credentials are read from is not set, empty, or not a header value."""


def _value(env: Mapping[str, str], name: str, what: str, url: str, *, header: bool = False) -> str:
    value = env.get(name)
    problem = None
    if value is None:
        problem = "is not set"
    elif not value.strip():
        problem = "is set but empty"
    elif any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in value):
        problem = "holds a line break or another control character, which no HTTP header may carry"
    elif header and not value.isascii():  # (a password is sent base64-encoded, as UTF-8: any character goes)
        problem = "holds a character outside ASCII, which an HTTP header does not carry as it is"
    if problem is not None:  # the value itself is never said
        raise MissingSecret(
            f"source {redact_url(url)}: {what} is read from the environment variable {name}, which {problem}"
        )
    assert value is not None
    return value


def source_credentials(
    source: JsonlSource | RssSource | GdeltSource, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The headers `source`'s requests carry to its URL's origin, their values read from `env` (default: the
    process environment, now). Raises MissingSecret naming the source and the variable."""
    if isinstance(source, JsonlSource) or source.url is None:
        return {}
    env = os.environ if env is None else env
    headers: dict[str, str] = {}
    if source.username is not None and source.password_env is not None:
        password = _value(env, source.password_env, "the password (password_env)", source.url)
        token = base64.b64encode(f"{source.username}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    for header, name in source.headers_env.items():
        headers[header] = _value(env, name, f"the {header} header (headers_env)", source.url, header=True)
    return headers


def source_query(source: JsonlSource | RssSource | GdeltSource, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The query parameters `source`'s requests to its URL's origin carry (query_env), their values read from `env`
    (default: the process environment, now). Raises MissingSecret naming the source and the variable."""
    if isinstance(source, JsonlSource) or source.url is None:
        return {}
    env = os.environ if env is None else env
    return {
        param: _value(env, name, f"the query parameter {param} (query_env)", source.url)
        for param, name in source.query_env.items()
    }


def credential_problems(
    sources: Iterable[JsonlSource | RssSource | GdeltSource], env: Mapping[str, str] | None = None
) -> list[str]:
    """Each variable a source's credentials need that is not usable: said at start, not at the first poll."""
    problems: list[str] = []
    for source in sources:
        if isinstance(source, JsonlSource) or source.url is None:
            continue
        wanted = [("the password (password_env)", source.password_env, False)] if source.password_env else []
        wanted += [(f"the {h} header (headers_env)", name, True) for h, name in source.headers_env.items()]
        wanted += [(f"the query parameter {q} (query_env)", name, False) for q, name in source.query_env.items()]
        for what, name, header in wanted:
            try:
                _value(os.environ if env is None else env, name, what, source.url, header=header)
            except MissingSecret as e:
                problems.append(str(e))
    return problems
