"""Secrets out of URLs before they are shown: a password in the userinfo, keys and tokens in the query."""

from __future__ import annotations

import urllib.parse

# Query parameters that hold a secret, by name with case, "-", "_" and "." aside: libpq's `password=`, what feed
# APIs call their keys (`?api_key=`, `?accessKey=`, `?subscription-key=`, `?token=`, `?authToken=`, `?jwt=`) and a
# signed URL's signature (`?sig=`, `X-Amz-Signature`). Names that merely end in "key" count too: showing a
# harmless value masked costs nothing, showing a key costs the key.
_SECRET_NAMES = frozenset("key sig pwd pass passwd auth jwt code session sessionid credential credentials".split())
_SECRET_PARTS = ("password", "passwd", "secret", "token", "apikey", "accesskey", "signature", "credential")
MASK = "***"


def is_secret_param(name: str) -> bool:
    """Whether a query parameter's name says it holds a secret (`api_key`, `X-Amz-Signature`, `accessKey`)."""
    n = "".join(c for c in name.lower() if c.isalnum())
    return n in _SECRET_NAMES or n.endswith("key") or any(part in n for part in _SECRET_PARTS)


def _masked_pairs(text: str) -> str:
    """`a=1&api_key=K` with each secret parameter's value masked (a query, or a fragment written like one)."""
    out = []
    for pair in text.split("&"):
        name, eq, value = pair.partition("=")
        secret = eq and value and is_secret_param(urllib.parse.unquote_plus(name))
        out.append(f"{name}={MASK}" if secret else pair)
    return "&".join(out)


# Schemes whose URLs name a user that is no secret (a database role); elsewhere a user without a password is
# a token more often than a name (`https://TOKEN@api.example/feed`).
_USER_NAMED = ("postgres", "postgresql", "mysql", "mariadb", "sqlite", "oracle", "mssql", "kafka", "redis", "amqp")


def redact_url(url: str) -> str:
    """`url` as it may be shown (logs, pages, metrics, errors): a password in its userinfo (for web URLs, a user
    without a password too: a token), and the value of every secret parameter in the query or the fragment
    replaced by ***; anything that is not a URL with such parts comes back unchanged."""
    if "://" not in url or not any(c in url for c in "@?#"):
        return url
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # (an invalid IPv6 host, say): keep only what is surely not a secret
        return url.split("://", 1)[0] + "://" + MASK
    netloc = parts.netloc
    if "@" in netloc:
        creds, host = netloc.rsplit("@", 1)
        user, has_password, _password = creds.partition(":")
        if has_password:
            netloc = f"{user}:{MASK}@{host}"
        elif not parts.scheme.lower().split("+")[0].startswith(_USER_NAMED):
            netloc = f"{MASK}@{host}"
    query = _masked_pairs(parts.query) if parts.query else ""
    fragment = _masked_pairs(parts.fragment) if "=" in parts.fragment else parts.fragment
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def embedded_credentials(url: str) -> list[str]:
    """What in a web URL is a credential, said without its value: "user:password@" (or "userinfo@": a user
    without a password is a token more often than a name) and each query parameter whose name says it holds a
    secret (`is_secret_param`: api_key, key, token, access_token, secret, password, sig, X-Amz-Signature, ...)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return []
    if parts.scheme.lower() not in ("http", "https"):
        return []
    found = []
    if "@" in parts.netloc:
        found.append("user:password@" if ":" in parts.netloc.rsplit("@", 1)[0] else "userinfo@")
    for name, _value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if is_secret_param(name) and f"?{name}=" not in found:
            found.append(f"?{name}=")
    return found
