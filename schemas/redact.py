"""Secrets out of URLs before they are shown: a password in the userinfo, keys and tokens in the query."""

from __future__ import annotations

import re
import urllib.parse

# Query parameters that hold a secret, by name (case aside): libpq's `password=` and `sslpassword=`, and what
# feed APIs call their keys (`?api_key=`, `?token=`, `?access_token=`, `?sig=` of a signed URL, …).
SECRET_PARAMS = frozenset(
    """password passwd pwd pass sslpassword secret client_secret token access_token auth_token refresh_token
    id_token api_key apikey api-key key app_key appkey private_token auth authorization sig signature
    x-amz-signature x-amz-credential x-amz-security-token session sessionid""".split()
)
_SECRET_PARAM = re.compile(r"(?i)(?:^|[_\-.])(?:password|secret|token|api_?key|signature)$")
MASK = "***"


def is_secret_param(name: str) -> bool:
    """Whether a query parameter's name says it holds a secret (`api_key`, `X-Amz-Signature`, `db_password`)."""
    low = name.lower()
    return low in SECRET_PARAMS or bool(_SECRET_PARAM.search(low))


def redact_url(url: str) -> str:
    """`url` as it may be shown (logs, pages, metrics, errors): a password in its userinfo and the value of every
    secret query parameter replaced by ***; anything that is not a URL with such parts comes back unchanged."""
    if "://" not in url or ("@" not in url and "?" not in url):
        return url
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # (an invalid IPv6 host, say): keep only what is surely not a secret
        return url.split("://", 1)[0] + "://" + MASK
    netloc = parts.netloc
    if "@" in netloc:
        creds, host = netloc.rsplit("@", 1)
        user, has_password, _password = creds.partition(":")
        netloc = f"{user}:{MASK}@{host}" if has_password else netloc
    query = parts.query
    if query:
        pairs = query.split("&")
        masked = []
        for pair in pairs:
            name, eq, value = pair.partition("=")
            secret = eq and value and is_secret_param(urllib.parse.unquote_plus(name))
            masked.append(f"{name}={MASK}" if secret else pair)
        query = "&".join(masked)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
