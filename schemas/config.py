"""Application config: store, sources, rule packs, channels and subscriptions, validated at load."""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from typing import Annotated, Any, Literal, get_args
from urllib.parse import parse_qsl, urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .control import Where, check_digest, check_max_age, known_zone
from .events import DEFAULT_MAX_EDITIONS, Severity
from .gdelt_codes import check_cameo_country, check_event_code
from .redact import redact_url
from .rules import Duration, format_duration, parse_duration
from .topics import DEFAULT_PREFIX


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_SECRET_PREFIXES = ("xox", "xapp-", "sk-", "ghp_", "glpat-")


def _env_name(value: str, info: ValidationInfo) -> str:
    # The message never repeats the value: a token pasted here instead of a variable's name would be echoed
    # into terminals and logs by the very error meant to catch it.
    if not value.isascii() or not (value.replace("_", "a").isalnum() and not value[:1].isdigit()):
        raise ValueError(
            f"{info.field_name} must be the NAME of an environment variable (letters, digits and _), not a "
            "secret itself: put the secret into that variable and write the variable's name here"
        )
    if value.lower().startswith(_SECRET_PREFIXES):
        raise ValueError(
            f"{info.field_name} looks like a token, not the name of an environment variable: put the token into "
            "a variable and write the variable's name here"
        )
    return value


EnvName = Annotated[str, AfterValidator(_env_name)]
"""The name of an environment variable that holds a secret (never the secret)."""


# An HTTP header's name (RFC 9110's token), and the ones a source may not set: the fetch's own (the cache
# validators, the encodings it decodes, the framing) and the proxy's.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_RESERVED_HEADERS = frozenset(
    "host content-length transfer-encoding connection keep-alive te trailer upgrade accept-encoding if-none-match "
    "if-modified-since proxy-authorization".split()
)


def _header_name(value: str) -> str:
    if not _HEADER_NAME.match(value):
        raise ValueError(f"{value[:80]!r} is not an HTTP header name (letters, digits and -, e.g. X-Api-Key)")
    if value.lower() in _RESERVED_HEADERS:
        raise ValueError(f"{value} is set by the fetch itself, not by a source's headers_env")
    return value


HeaderName = Annotated[str, AfterValidator(_header_name)]

# A query parameter's name as a source's query_env gives it: printable, and none of the characters that end a name in
# a query (written as is: the fetch encodes the value, not the name).
_QUERY_NAME = re.compile(r"^[A-Za-z0-9._~!$'()*+,;:@/?-]+$")


def _query_name(value: str) -> str:
    if not _QUERY_NAME.match(value):
        raise ValueError(
            f"{value[:80]!r} is not a query parameter name for query_env (letters, digits and - _ . ~, e.g. api_key)"
        )
    return value


QueryName = Annotated[str, AfterValidator(_query_name)]


def _basic_user(value: str) -> str:
    if ":" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("username: HTTP Basic's user name holds no ':' and no control character")
    return value


BasicUser = Annotated[str, AfterValidator(_basic_user), Field(min_length=1)]


def _http_only(value: Any, info: ValidationInfo) -> Any:
    """username, password_env, headers_env, query_env: credentials for a source at an http(s) URL, from the
    environment."""
    if "url" not in info.data or (info.field_name == "password_env" and "username" not in info.data):
        return value  # a url or username that failed its own check is said there
    if info.field_name == "password_env":
        if (value is None) != (info.data["username"] is None):
            raise ValueError(
                "username and password_env go together: set both for HTTP Basic authentication (the password in "
                "the environment variable password_env names), or neither"
            )
    if value is None or value == {}:
        return value
    url = info.data["url"]
    if url is None:  # a gdelt source with a path
        raise ValueError(f"{info.field_name} is for a source at an http(s) url; a path is read from disk")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{info.field_name} is for a source at an http(s) url, not a local file")
    if info.field_name == "username" and parts.username is not None:
        raise ValueError(
            "username: the url has user:password@ in it already: take them out of the url (it is the source's "
            "identity, stored as written) and keep username with password_env"
        )
    if info.field_name == "headers_env":
        names = [str(k).lower() for k in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} given twice (header names are case-insensitive)")
        if "authorization" in names and (info.data.get("username") is not None or parts.username is not None):
            raise ValueError("Authorization is made from username and password_env (or the url's user:password@)")
    if info.field_name == "query_env":
        written = {name for name, _v in parse_qsl(parts.query, keep_blank_values=True)}
        both = sorted(written & set(value))
        if both:
            raise ValueError(
                f"{', '.join(both)} is in the url's query already: take it out of the url (it is the source's "
                "identity, stored as written) and keep it in query_env"
            )
    return value


class JsonlSource(_Strict):
    kind: Literal["jsonl"] = "jsonl"
    path: str
    # Whether each record's own `source` counts as an outlet of its own for corroboration (docs/rules.md,
    # "Independent sources"). True by default: a JSONL file is a corpus the operator assembled from many outlets
    # (the 2023 corpus, the key-days captures), and whoever writes it is trusted to name them. False: the file
    # is one source, whatever names its records carry.
    aggregator: bool = True
    # Lines a poll of `run` or `produce` reads at most: a backlog (a backfill dropped in the inbox) is read a slice per
    # poll, and the other sources are polled, and alerts delivered (relayed), between the slices (producers/poller.py).
    max_lines_per_poll: int = Field(default=1000, ge=1)
    # A file that may not be there yet (an inbox the operator fills when they have something: docker-compose's
    # ./inbox/articles.jsonl): while it does not exist, a poll reads nothing and says so, and it is no failing source
    # (/healthz, `status`, the exit code; trial 45, MED-4). Anything else (a directory, unreadable) still fails.
    optional: bool = False


class RssSource(_Strict):
    kind: Literal["rss"] = "rss"
    url: str  # a URL (http/https/file) or a local path
    source_name: str | None = None  # the name shown; defaults to the feed's title
    # False (default): the feed is ONE source for corroboration, whatever name its <title> or entries claim (its
    # url is its identity). True: a declared aggregator whose entries' names count as outlets of their own, a trust
    # in the feed's publisher that this setting delegates (docs/rules.md, "Independent sources").
    aggregator: bool = False
    poll: Duration = timedelta(minutes=15)
    timeout: Duration | None = None  # the whole fetch, not one read (None: 30s)
    max_bytes: int | None = Field(default=None, ge=1)  # on the wire and after decompression (None: 20 MiB)
    # Editions kept of one item edited in place (producers/publish.py): a live blog re-headlined at every poll adds
    # no more than this; its later edits are left out, and counted. 0: an edit is never read.
    max_editions: int = Field(default=DEFAULT_MAX_EDITIONS, ge=0)
    # Credentials for an http(s) url, never in the file (the url is the source's identity, stored as written):
    # HTTP Basic as `username` with the password in the environment variable `password_env` (both or neither), and
    # headers whose values are in environment variables (`{Authorization: FEED_TOKEN, X-Api-Key: FEED_KEY}`). Sent
    # to the url's own origin (scheme, host, port) only: not on to another a redirect or a listing points to.
    username: BasicUser | None = None
    password_env: EnvName | None = Field(default=None, validate_default=True)
    headers_env: dict[HeaderName, EnvName] = Field(default_factory=dict)
    # Query parameters whose values are in environment variables (`{api_key: FEED_KEY}`), for APIs that take a key
    # only in the query: added to the request for the configured url (and a redirect on its origin), never stored.
    query_env: dict[QueryName, EnvName] = Field(default_factory=dict)

    _credentials_http_only = field_validator("username", "password_env", "headers_env", "query_env")(_http_only)


_GDELT_URL_ONLY = ("poll", "timeout", "max_bytes", "catch_up")


EventCodePrefix = Annotated[str, BeforeValidator(check_event_code)]
ActorCountry = Annotated[str, BeforeValidator(check_cameo_country)]


class GdeltSource(_Strict):
    """GDELT event exports (producers/gdelt.py): a file, or a folder whose new export files each poll reads once
    (`path`); or GDELT 2.0's lastupdate.txt, whose new export files each poll downloads (`url`,
    producers/gdelt_live.py)."""

    kind: Literal["gdelt"] = "gdelt"
    path: str | None = None
    # Validated even when left out: the one check that path or url is given lives on it, so it is placed there.
    url: str | None = Field(default=None, validate_default=True)
    poll: Duration = timedelta(minutes=15)  # url only: GDELT publishes every 15 minutes
    timeout: Duration | None = None  # url only: each download, all of it (None: 30s)
    max_bytes: int | None = Field(default=None, ge=1)  # url only: each download (None: 20 MiB)
    # Each export file, unzipped (all its members): past it the file is given up on with a dead letter, the rows
    # before it kept (a zip bomb: 150 KB expanding to 150 MiB). None: 16 × max_bytes (320 MiB at the default).
    max_unzipped_bytes: int | None = Field(default=None, ge=1)
    catch_up: Duration = timedelta(hours=24)  # url only: how far before the latest export missed ones are fetched
    # url only: credentials, as an rss source's (never in the file: the url is the source's identity, stored as
    # written). HTTP Basic as `username` with the password in the environment variable `password_env` (both or
    # neither), and headers whose values are in environment variables (`{X-Api-Key: FEED_KEY}`). Sent to the url's
    # own origin (scheme, host, port) only, so to the export files lastupdate.txt lists there and never
    # to those it lists elsewhere, nor on to another origin a redirect points to.
    username: BasicUser | None = None
    password_env: EnvName | None = Field(default=None, validate_default=True)
    headers_env: dict[HeaderName, EnvName] = Field(default_factory=dict)
    query_env: dict[QueryName, EnvName] = Field(default_factory=dict)  # as an rss source's; also on listed exports
    root_only: bool = True  # only IsRootEvent = 1 (an article's lead event); the others are mostly noise
    min_mentions: int = Field(default=1, ge=0)
    # The rules' `gdelt:` conditions take the same codes, checked the same way (schemas/gdelt_codes.py): each alone, so
    # that every bad one of a list is said at its own place (outside trial 82).
    event_codes: list[EventCodePrefix] = Field(default_factory=list)  # CAMEO EventCode prefixes ("19", "057"); all
    countries: list[ActorCountry] = Field(default_factory=list)  # Actor1 or Actor2 CAMEO country (PRK, RUS); all
    # True (default): GDELT indexes many outlets, and each row's outlet (its SOURCEURL's site) counts as a source of
    # its own for corroboration: GDELT, and the transport of its files, are trusted to name them. False: the
    # source is one source (docs/rules.md, "Independent sources").
    aggregator: bool = True

    @field_validator("url")
    @classmethod
    def _path_or_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        has_path = info.data.get("path") is not None
        if value is None:
            if not has_path and "path" in info.data:  # (a path that failed its own check is said there)
                raise ValueError(
                    "a gdelt source needs a path (an export file or a folder of them) or a url (GDELT's "
                    "lastupdate.txt, e.g. http://data.gdeltproject.org/gdeltv2/lastupdate.txt)"
                )
            return value
        if has_path:
            raise ValueError("a gdelt source has a path or a url, not both")
        parts = urlsplit(value)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https", "file") or (scheme != "file" and not parts.hostname):
            # Redacted: a password in a mistyped URL is not echoed into terminals and logs.
            raise ValueError(
                f"{redact_url(value)!r} is not an http(s) URL of a lastupdate.txt (file:// for a local copy; "
                "a local export file or folder is a path)"
            )
        return value

    @field_validator("event_codes", "countries", mode="before")
    @classmethod
    def _a_list_of_codes(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, dict):  # (outside trial 85, F5: said only "Input should be a valid list")
            raise ValueError(
                f"a gdelt source's {info.field_name} is a list of the codes whose rows it reads ([RUS, PRK]); "
                "leaving codes out ({none: [...]}) is a rule's condition: write it in a signal's `gdelt:` "
                '(docs/rules.md, "GDELT\'s coded fields")'
            )
        return value

    _credentials_http_only = field_validator("username", "password_env", "headers_env", "query_env")(_http_only)

    @field_validator(*_GDELT_URL_ONLY)
    @classmethod
    def _url_only(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("path") is not None:
            raise ValueError(
                f"{info.field_name} is for a gdelt source with a url (lastupdate.txt); a path is read at every poll"
            )
        return value


SourceConfig = Annotated[JsonlSource | RssSource | GdeltSource, Field(discriminator="kind")]


_THROTTLE = re.compile(r"^(\d+)\s+per\s+(\S+)$")
_DAY = 86_400
THROTTLE_MAX = 10_000  # posts per window: more is no throttle


class ThrottleSpec(_Strict):
    """A channel's throttle, written `10 per 1h`: at most `max` new top-level alert messages in each fixed window of
    `per` (windows start at midnight UTC and follow each other, so `per` divides a day); the alerts past it are held
    and listed in one summary message when their window ends (alerts.throttle)."""

    max: int = Field(ge=1, le=THROTTLE_MAX)
    per: timedelta

    def __str__(self) -> str:
        return f"{self.max} per {format_duration(self.per)}"


def parse_throttle(value: Any) -> ThrottleSpec:
    """`10 per 1h` -> ThrottleSpec, or ValueError saying how to write it."""
    if isinstance(value, ThrottleSpec):
        return value
    how = "write 'N per DURATION', e.g. '10 per 1h' (at most N new alert messages an hour)"
    m = _THROTTLE.match(" ".join(value.split())) if isinstance(value, str) else None
    if m is None:
        raise ValueError(f"bad throttle {str(value)[:80]!r}: {how}")
    count, per = int(m.group(1)), parse_duration(m.group(2))  # (parse_duration says how durations are written)
    seconds = int(per.total_seconds())
    if not 1 <= count <= THROTTLE_MAX:
        raise ValueError(f"bad throttle {value!r}: N must be 1 to {THROTTLE_MAX}")
    # Fixed windows from midnight UTC (the same in every process): a window must fit a day a whole number of times.
    if seconds < 60 or seconds > _DAY or _DAY % seconds:
        raise ValueError(
            f"bad throttle {value!r}: the window must be from 1m to 1d and divide a day evenly (1m, 5m, 15m, 30m, 1h, "
            "2h, 3h, 4h, 6h, 8h, 12h, 1d, …): windows start at midnight UTC"
        )
    return ThrottleSpec(max=count, per=per)


Throttle = Annotated[
    ThrottleSpec,
    BeforeValidator(parse_throttle),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*\d+\s+per\s+\d+(s|m|h|d)\s*$",
            "description": "at most N new alert messages per window, e.g. '10 per 1h'; the rest are held and listed "
            "in one summary message when the window ends (windows from midnight UTC; the window divides a day)",
        }
    ),
]


UPDATE_WAIT_MAX = timedelta(minutes=10)  # a reply held longer than this is no longer news


def _update_wait(value: timedelta) -> timedelta:
    if not timedelta(0) <= value <= UPDATE_WAIT_MAX:
        raise ValueError(f"update_wait must be from 0s to {format_duration(UPDATE_WAIT_MAX)}")
    return value


# How long a reply in a thread the channel already has (an update or revision, never a thread's first message) is
# held, so that a newer reply raised meanwhile goes in its place (alerts.delivery, Deliverer._hold_reply).
UpdateWait = Annotated[Duration, AfterValidator(_update_wait)]


def _time_zone(value: str) -> str:
    name = value.strip()
    if not known_zone(name):
        import difflib
        from zoneinfo import available_timezones

        zones = sorted(available_timezones())
        known = {z.lower(): z for z in zones}
        close = [known[z] for z in difflib.get_close_matches(name.lower(), known, n=2, cutoff=0.85)]
        if not close:  # a city alone ("Moscow", "seoul"): the zones of that city's name
            cities = {z.rsplit("/", 1)[-1].lower().replace("_", " "): z for z in zones if "/" in z}
            wanted = name.lower().replace("_", " ")
            close = [cities[c] for c in difflib.get_close_matches(wanted, cities, n=2, cutoff=0.85)]
        hint = f" (did you mean {' or '.join(repr(z) for z in close)}?)" if close else ""
        raise ValueError(
            f"{value!r} is not a time zone{hint}: write an IANA name, e.g. Europe/Moscow, or UTC"
        ) from None
    return name


# An IANA time zone a channel shows times in (`Europe/Moscow`): plain-text channels show UTC unless told (trial 35,
# L4: a Moscow desk read every time three hours off). Slack needs none: its date token shows each reader's zone.
TimeZoneName = Annotated[
    str,
    AfterValidator(_time_zone),
    WithJsonSchema({"type": "string", "description": "an IANA time zone, e.g. Europe/Moscow (default: UTC)"}),
]


class ConsoleChannel(_Strict):
    type: Literal["console"] = "console"
    name: str
    throttle: Throttle | None = None  # `10 per 1h`: at most 10 new alert messages an hour (alerts.throttle)
    update_wait: UpdateWait = timedelta(0)  # replies held this long for a newer one (0: sent at once)
    timezone: TimeZoneName | None = None  # the times shown, in this zone (default: UTC)


class FileChannel(_Strict):
    type: Literal["file"] = "file"
    name: str
    throttle: Throttle | None = None  # `10 per 1h`: at most 10 new alert messages an hour (alerts.throttle)
    update_wait: UpdateWait = timedelta(0)  # replies held this long for a newer one (0: sent at once)
    path: str


def _seconds(value: Any) -> Any:
    """A channel's timeout in seconds, as a number or as a duration like every other duration of the config (`5s`,
    `2m`): `timeout: 5s` was refused with a bare "Input should be a valid number" (trial 42, LOW-3). A string that
    is neither is left for the number's own error."""
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        try:
            return parse_duration(value.strip()).total_seconds()
        except ValueError:
            raise ValueError(f"bad timeout {value!r}: write seconds (10, 2.5) or a duration (10s, 2m)") from None
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
Seconds = Annotated[float, BeforeValidator(_seconds)]  # seconds, or a duration: `10`, `2.5`, `10s`, `2m`


# The languages Slack messages can be worded in (a Slack channel's `language`; alerts/notifiers/wording.py has one
# table of wording per language).
LanguageCode = Literal["en", "ru"]


def _known_language(value: object) -> object:
    """A language the messages can be worded in, or an error naming the setting and the languages there are (the
    Literal's own "Input should be 'en' or 'ru'" did not say which setting it was)."""
    known = get_args(LanguageCode)
    if value not in known:
        raise ValueError(f"language {value!r} is not one Slack messages can be worded in (known: {', '.join(known)})")
    return value


Language = Annotated[LanguageCode, BeforeValidator(_known_language)]


class SlackChannel(_Strict):
    type: Literal["slack"] = "slack"
    name: str
    throttle: Throttle | None = None  # `10 per 1h`: at most 10 new alert messages an hour (alerts.throttle)
    update_wait: UpdateWait = timedelta(0)  # replies held this long for a newer one (0: sent at once; 30s a desk)
    channel: str  # Slack channel id or name, e.g. "#dprk-russia"
    # The token itself never sits in config. None: the `slack:` section's token_env (else SLACK_BOT_TOKEN).
    token_env: EnvName | None = None
    base_url: str | None = None  # Slack Web API root; None: the `slack:` section's, else Slack itself
    timeout: Seconds = Field(default=10.0, gt=0)  # seconds per Web API call (or a duration: 10s)
    # A follow-up that raises the alert to high or critical is also posted to the channel, not only the thread.
    broadcast_escalations: bool = True
    # The language of the messages' own wording (labels, status lines, buttons); what they quote stays as written.
    # None: the `slack:` section's `language`.
    language: Language | None = None


class WebhookChannel(_Strict):
    type: Literal["webhook"] = "webhook"
    name: str
    throttle: Throttle | None = None  # `10 per 1h`: at most 10 new alert messages an hour (alerts.throttle)
    update_wait: UpdateWait = timedelta(0)  # replies held this long for a newer one (0: sent at once)
    url: str | None = None
    # A webhook URL is often a secret itself (a Slack incoming webhook's path is its only key): `url_env` names the
    # environment variable holding it, read at start. Exactly one of url and url_env.
    url_env: EnvName | None = Field(default=None, validate_default=True)
    timeout: Seconds = Field(default=10.0, gt=0)  # seconds per POST (or a duration: 10s)

    @field_validator("url_env")
    @classmethod
    def _one_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "url" in info.data and (info.data["url"] is None) == (value is None):
            raise ValueError(
                "a webhook channel has url (the URL written here) or url_env (the environment variable holding it, "
                "for a URL that is a secret), exactly one"
                if value is None
                else "url and url_env: give one (url_env when the URL is a secret), not both"
            )
        return value


# An address as `to` and `from` take it: local@domain (ASCII, no quoting, no comments), optionally with a display
# name in front ("Desk alerts <alerts@example.org>"). Strict on purpose: whatever passes becomes an SMTP envelope
# address and a header, so nothing that could end a line or a header may get through.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDR_SPEC = re.compile(rf"^{_LOCAL}@(?:{_LABEL}(?:\.{_LABEL})+|localhost)$")
_NAMED = re.compile(r"^(?P<name>[^<>\"]*?)\s*<(?P<addr>[^<>]*)>$")


def mail_address(value: str) -> tuple[str, str]:
    """(display name, addr-spec) of "local@domain" or "Name <local@domain>"; ValueError saying what is wrong."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("a line break or control character has no place in an address")
    text = value.strip()
    m = _NAMED.match(text)
    name, addr = (m.group("name").strip(), m.group("addr").strip()) if m else ("", text)
    if not ADDR_SPEC.match(addr) or len(addr) > 254:
        raise ValueError(
            f"{value[:80]!r} is not an email address: write local@domain (ASCII, e.g. alerts@example.org), "
            "optionally as 'Name <local@domain>'"
        )
    return name, addr


def _address(value: str, info: ValidationInfo) -> str:
    field = "from" if info.field_name == "sender" else info.field_name
    try:
        mail_address(value)
    except ValueError as e:
        raise ValueError(f"{field}: {e}") from None
    return value.strip()


MailAddress = Annotated[str, AfterValidator(_address)]

SMTP_PORTS = {"starttls": 587, "implicit": 465, "none": 25}  # submission, submissions (RFC 8314), a local relay


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine without asking DNS: localhost, 127.0.0.0/8, ::1."""
    name = host.strip().rstrip(".").lower().strip("[]")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class EmailChannel(_Strict):
    """Mail through an SMTP server (submission): one message per notice to every address in `to`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["email"] = "email"
    name: str
    throttle: Throttle | None = None  # `10 per 1h`: at most 10 new alert messages an hour (alerts.throttle)
    update_wait: UpdateWait = timedelta(0)  # replies held this long for a newer one (0: sent at once)
    timezone: TimeZoneName | None = None  # the times in the mail, in this zone (default: UTC)
    # One address may be written alone (`to: desk@example.org`): the schema says so, or editors would flag it.
    to: Annotated[
        list[MailAddress],
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "items": {"type": "string"}, "minItems": 1},
                ]
            }
        ),
    ] = Field(min_length=1, description="recipients, at least one (one address: a list of one)")
    sender: MailAddress = Field(alias="from", description="the From address (envelope sender too)")
    host: str = Field(min_length=1, description="the SMTP server's name or address")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="default: 587; 465 with tls: implicit; 25 with tls: none"
    )
    # starttls: plain connection upgraded by STARTTLS before anything else is said (refused when the server does
    # not offer it). implicit: TLS from the first byte (port 465). none: plaintext, loopback only (below).
    tls: Literal["starttls", "implicit", "none"] = "starttls"
    username: str | None = Field(default=None, min_length=1)
    # The password itself never sits in config, like Slack's token.
    password_env: EnvName | None = None
    timeout: Seconds = Field(default=30.0, gt=0)  # seconds per SMTP step (connect, each command and its reply)
    # Seconds to wait for the server's verdict on a message once all of it was sent (the reply to its final "."):
    # RFC 5321 §4.5.3.2.6 says 10 minutes, since the server has the message by then (and may be scanning it); 2
    # minutes by default here, as the channels are delivered in turn and a hung relay holds the others that long.
    # No verdict within it: the delivery is given up as unconfirmed, not sent again (README, "Email"). Claims of
    # the channel are leased for as long as an attempt can take.
    data_timeout: Seconds = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="seconds to wait for the server's reply to the end of a message (default 120; RFC 5321: 600)",
    )

    @field_validator("to", mode="before")
    @classmethod
    def _recipients(cls, v: Any) -> Any:
        if isinstance(v, str):  # `to: desk@example.org` means the list of that one address
            v = [v]
        if isinstance(v, list) and not v:
            raise ValueError("to: at least one address is needed")
        return v

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        host = v.strip()
        bare = host.strip("[]")
        if ":" in bare:
            try:
                ipaddress.IPv6Address(bare)
            except ValueError:
                raise ValueError(f"host: {v[:80]!r} is not a host name: write the port in `port`") from None
            return bare
        if not host or any(c.isspace() or c in "/@<>" or ord(c) < 32 for c in host):
            raise ValueError(f"host: {v[:80]!r} is not a host name or address (e.g. smtp.example.org)")
        return host

    @field_validator("tls")
    @classmethod
    def _plaintext_only_locally(cls, v: str, info: ValidationInfo) -> str:
        host = info.data.get("host")
        if v == "none" and isinstance(host, str) and not is_loopback(host):
            raise ValueError(
                f"tls: none sends the mail, and the password when there is one, in plaintext: only allowed to a "
                f"loopback host (localhost, 127.0.0.1, ::1), not {host!r}; use starttls (port 587) or implicit "
                "(port 465)"
            )
        return v

    @model_validator(mode="after")
    def _login_pair(self) -> EmailChannel:
        if (self.username is None) != (self.password_env is None):
            raise ValueError(
                "username and password_env go together: set both to log in (AUTH), or neither to send without"
            )
        return self

    @property
    def smtp_port(self) -> int:
        return self.port or SMTP_PORTS[self.tls]


ChannelConfig = Annotated[
    ConsoleChannel | FileChannel | SlackChannel | WebhookChannel | EmailChannel, Field(discriminator="type")
]


class Subscription(_Strict):
    """channel <- alerts whose rule is in `rules` (or '*'), with any of `tags`, at or above `min_severity`, carrying
    every `where` key with one of its values."""

    channel: str
    rules: list[str] = Field(default_factory=lambda: ["*"])
    tags: list[str] = Field(default_factory=list)
    min_severity: Severity = "low"
    # `daily HH:MM [Area/City]`: one message per day listing the matching alerts, instead of one per alert.
    digest: str | None = None
    # An alert about reports older than this when it is raised (a backfill, a feed's archive, a late report) starts
    # no thread in the channel: it is recorded as suppressed. Follow-ups of alerts sent still go. None: no limit.
    max_age: Duration | None = None
    # `{place: Kursk, party: [PRK, RUS]}`: only alerts whose group value of that key, or one of its attributes'
    # (captures outside the group, `place`: the reports' places), is one of the values; '*' as a key: any of them.
    # Entity ids and names both do (KURSK, Kursk), case aside (alerts.routing.matches).
    where: Where = Field(default_factory=dict)

    @field_validator("digest")
    @classmethod
    def _digest(cls, v: str | None) -> str | None:
        return check_digest(v)

    @model_validator(mode="after")
    def _max_age_not_with_digest(self) -> Subscription:
        check_max_age(self.digest, self.max_age)
        return self


# Slack's ids as the Web API and its payloads spell them: a user (U…, or W… in an Enterprise Grid org) and a user
# group (S…). The Slack app writes a validated id straight into a mention (<@U…>, <!subteam^S…>), so these patterns
# are also what keeps a mention from carrying anything else (alerts.slackapp.managers).
SLACK_USER_ID = r"^[UW][A-Z0-9]{2,20}$"
SLACK_USER_GROUP_ID = r"^S[A-Z0-9]{2,20}$"
_MANAGER_ID = re.compile(f"{SLACK_USER_ID}|{SLACK_USER_GROUP_ID}")


def _manager_id(value: str) -> str:
    # A name (`alice`, `@alice`) or a pasted mention (`<@U…>`) is the usual mistake: say where the id is found.
    if not _MANAGER_ID.match(value):
        raise ValueError(
            f"{value[:60]!r} is not a Slack user id (U… or W…, e.g. U012AB3CD) or user group id (S…, e.g. "
            "S0614TZR7): write the id, not a name or a mention (a profile's ⋮ menu → Copy member ID; a user "
            "group's id is in usergroups.list)"
        )
    return value


ManagerId = Annotated[
    str,
    AfterValidator(_manager_id),
    Field(json_schema_extra={"pattern": f"{SLACK_USER_ID}|{SLACK_USER_GROUP_ID}"}),
]


class SlackApp(_Strict):
    """The `slack:` section: the Slack app (`watchfloor serve`) and the default for Slack channels."""

    token_env: EnvName = "SLACK_BOT_TOKEN"  # names the variable holding the bot token (xoxb-...)
    signing_secret_env: EnvName = "SLACK_SIGNING_SECRET"  # names the variable holding the app's signing secret
    base_url: str | None = None  # Web API root of a Slack-compatible server; None: Slack itself
    command: str = Field(default="/watchfloor", pattern=r"^/[a-z0-9_-]+$")  # the slash command's name
    # The language of Slack messages' own wording for channels that name none (and channels subscribed from Slack).
    language: Language = "en"
    # Who may change what the channels get from Slack (subscribe, unsubscribe, silence, unsilence: by command or
    # button). Empty: anyone in the channel. Reading (list, silences, rules, help) and Acknowledge stay open to all.
    managers: list[ManagerId] = Field(
        default_factory=list,
        description=(
            "Slack user ids (U…/W…) and user group ids (S…) who may subscribe, unsubscribe, silence and unsilence "
            "from Slack; empty: anyone in the channel. A user group's members are asked of Slack "
            "(usergroups.users.list, scope usergroups:read); when Slack cannot say, the action is refused."
        ),
    )


class ServeConfig(_Strict):
    """The `serve:` section: the HTTP server of `serve` and `run --serve`."""

    # Names the variable holding a token that GET / and /metrics then require (`Authorization: Bearer TOKEN`),
    # and without which /healthz answers its verdict only. The listener is the one Slack must reach, so it is often
    # public; /healthz stays open for container probes, which send no headers. None: all three are open.
    admin_token_env: EnvName | None = None


class RetryPolicy(_Strict):
    """How deliveries that did not get through are tried again. Attempts are scheduled in the delivery ledger,
    never slept: every later cycle, and every process start, tries what is due, until `max_age`, then the
    delivery is `expired` (re-send it with `watchfloor alerts redeliver`)."""

    # Optional cap: a delivery that failed this many times is given up as `expired` (like one past max_age:
    # logged, listed, re-sendable). Unset: retried until max_age, however many attempts that takes.
    attempts: int | None = Field(
        default=None, ge=1, description="give a delivery up (expired) after this many failed attempts; default: no cap"
    )
    backoff: Duration = timedelta(seconds=2)  # the wait after the first failed attempt; doubles after each
    max_backoff: Duration = timedelta(minutes=10)
    max_age: Duration = timedelta(hours=24)  # then the delivery is given up as `expired`
    max_retry_after: Duration = timedelta(minutes=15)  # a channel's Retry-After is honoured up to this
    # How long a dispatcher holds a delivery it is sending before another may take it over (after looking in
    # the channel): longer than the slowest send (notifier timeouts).
    lease: Duration = timedelta(minutes=2)


class EventTimeConfig(_Strict):
    """How the engine reads the time of what arrives (docs/architecture.md, "Event time"). How late a report
    may be and still count exactly is the rule packs' `settings.lateness`."""

    # An item dated more than this after it was received is processed at its receive time (a typo, a wrong
    # time zone): it never moves event time forward for anyone.
    skew: Duration = timedelta(hours=1)
    # A source that delivered nothing new for this long (receive time, at the poller's CaughtUp marks) stops
    # holding event time back; its next item makes it count again.
    idle_after: Duration = timedelta(hours=1)


class HealthConfig(_Strict):
    """When /healthz of `serve` and `run --serve` stops answering ok (503, `degraded`, with the reasons)."""

    # A source whose polls have all failed for this long (a mistyped path, a feed down); every source failing in
    # the last poll degrades at once.
    source_failing: Duration = timedelta(minutes=30)
    # The oldest outstanding delivery of a channel has waited this long (the channel keeps failing, or nothing
    # dispatches). Longer than a channel's Retry-After is honoured (retry.max_retry_after, 15 min). Also how long
    # notify's intake may take nothing in while detections wait for it (web.metrics.IntakeWatch).
    delivery_outstanding: Duration = timedelta(minutes=30)
    # With a broker (`kafka:`, serve --broker): a consumer group of the pipeline (the workers, the archive once
    # it runs) has been behind for this long, as the server's successive looks at the broker see it. Off (None)
    # by default: a web process's 503 restarts it under a liveness probe, which does not help a lagging worker;
    # the gauge watchfloor_kafka_consumer_behind_seconds is there to alert on either way.
    kafka_behind: Duration | None = None


class KafkaConfig(_Strict):
    """The distributed runtime (`watchfloor produce|worker|archive|notify|topics|status`): the broker, the
    topics of one pipeline, and how its workers run. Command-line options override these.

    Several pipelines can share one broker: each has its own `prefix` (topic names P.documents, ...) and
    so its own consumer groups."""

    bootstrap: str = Field(default="127.0.0.1:9092", min_length=1)  # host:port[,host:port]; kafka:// allowed
    prefix: str = Field(default=DEFAULT_PREFIX, pattern=r"^[A-Za-z0-9._-]+$")
    partitions: int = Field(default=3, ge=1)  # of the documents, signals and correlate topics
    replication_factor: int = Field(default=1, ge=1)  # for topics created by `watchfloor topics create`
    app_id: str | None = None  # the workers' consumer group; default "<prefix>-worker"
    batch_within: float = Field(default=0.02, gt=0)  # seconds each agent waits to fill a batch (latency per hop)
    idle_after: float | None = Field(default=None, gt=0)  # seconds; only for producers that write no watermarks
    session_timeout: float = Field(default=30.0, ge=6)  # seconds before a silent worker's partitions move
    table_store: Literal["memory://", "rocksdb://"] = "memory://"  # where a worker keeps its correlate state
    datadir: str | None = None  # a worker's local data (RocksDB); default var/faust/<group>
    spool_dir: str | None = None  # where the publisher spools while the broker is away; default var/spool
    # Seconds one try of `produce`'s publisher may wait on the broker before it spools (or, at start, tries again):
    # creating the topics, kafka-python's bootstrap, max_block_ms (a send waiting for metadata), request_timeout_ms
    # (at most 30 s), delivery_timeout_ms, and the flush and close of a publish. A stop ends the wait for the topics
    # at once; after it a pass makes no new try (it spools), so a stop waits at most for the try in progress.
    publish_timeout: float = Field(default=15.0, gt=0)
    wait_for_topics: float = Field(default=120.0, ge=0)  # seconds a worker waits for the topics to be created
    # An agent batch that fails restarts the worker; failures in a row of one agent wait before the restart (none
    # after the first, then failed_batch_backoff seconds, doubling, up to failed_batch_backoff_max), and from
    # failed_batch_isolate_after failures in a row the batch's records are tried one at a time, those that fail
    # alone dead-lettered (stream_processors/kafka/failed_batches.py; docs/architecture.md).
    failed_batch_isolate_after: int = Field(default=5, ge=1)
    failed_batch_backoff: float = Field(default=1.0, gt=0)
    failed_batch_backoff_max: float = Field(default=60.0, gt=0)
    # The worker's event loop: uvloop (libuv, in C; part of the kafka extra) costs less per record than asyncio's
    # own loop, which Faust steps once per record; "auto" takes uvloop when it is installed (BENCHMARKS.md).
    event_loop: Literal["auto", "uvloop", "asyncio"] = "auto"
    # How every Kafka client (kafka-python's and the workers' Faust/aiokafka) talks to the broker: a managed Kafka
    # (Confluent Cloud, MSK, Aiven) wants SASL_SSL. The password comes from the environment variable
    # sasl_password_env names, never from this file (stream_processors/kafka/security.py reads it at start).
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = Field(default=None, min_length=1)
    sasl_password_env: EnvName | None = None
    ssl_cafile: str | None = Field(default=None, min_length=1)  # PEM CA bundle; default: the system's CAs
    ssl_certfile: str | None = Field(default=None, min_length=1)  # client certificate (PEM), for mutual TLS
    ssl_keyfile: str | None = Field(default=None, min_length=1)  # its private key (PEM, unencrypted)

    @model_validator(mode="after")
    def _security_consistent(self) -> KafkaConfig:
        sasl = self.security_protocol.startswith("SASL_")
        given_sasl = [
            n for n in ("sasl_mechanism", "sasl_username", "sasl_password_env") if getattr(self, n) is not None
        ]
        if sasl:
            missing = [n for n in ("sasl_mechanism", "sasl_username", "sasl_password_env") if n not in given_sasl]
            if missing:
                raise ValueError(f"security_protocol {self.security_protocol} needs {', '.join(missing)}")
        elif given_sasl:
            raise ValueError(
                f"{', '.join(given_sasl)} set but security_protocol is {self.security_protocol}: SASL is used "
                "only with SASL_PLAINTEXT or SASL_SSL"
            )
        given_ssl = [n for n in ("ssl_cafile", "ssl_certfile", "ssl_keyfile") if getattr(self, n) is not None]
        if given_ssl and not self.security_protocol.endswith("SSL"):
            raise ValueError(
                f"{', '.join(given_ssl)} set but security_protocol is {self.security_protocol}: TLS files are used "
                "only with SSL or SASL_SSL"
            )
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("ssl_certfile and ssl_keyfile go together (the client certificate and its key)")
        if self.failed_batch_backoff_max < self.failed_batch_backoff:
            raise ValueError(
                f"failed_batch_backoff_max ({self.failed_batch_backoff_max:g}) is less than failed_batch_backoff "
                f"({self.failed_batch_backoff:g}): the cap of the wait between restarts must not be below its start"
            )
        return self

    @property
    def group(self) -> str:
        """The workers' consumer group (Faust app id)."""
        return self.app_id or f"{self.prefix}-worker"


_SECTIONS = ("retry", "event_time", "health", "serve", "kafka")  # AppConfig's sections with defaults of their own


class AppConfig(_Strict):
    store: str = "sqlite:///var/watchfloor.db"  # the one default (the bundled config says the same)
    rules: list[str] = Field(default_factory=lambda: ["builtin:dprk_russia"])
    sources: list[SourceConfig] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=lambda: list[ChannelConfig]([ConsoleChannel(name="console")]))
    # Without `subscriptions:`, every alert goes to the default console channel only when `channels:` is left
    # out too (set in _default_subscription); a config that names its own channels starts with none, to be
    # added with `watchfloor subscriptions add` or `/watchfloor subscribe`.
    subscriptions: list[Subscription] = Field(default_factory=list)
    retry: RetryPolicy = RetryPolicy()
    slack: SlackApp | None = None
    max_body_chars: int = Field(default=200_000, ge=1)
    poll_interval: Duration = timedelta(seconds=60)
    # How long into a poll `run` holds the alerts of the sources read so far, so that those of one poll are delivered
    # together, in event time, once all its sources are in (a poll of local files and prompt feeds); a feed slower
    # than that has its alerts delivered as it arrives. 0s: each source's alerts as soon as it is read.
    poll_settle: Duration = timedelta(seconds=5)
    # While a source is read a slice per cycle (a backlog: a JSONL file of 50,000 lines), its alerts are detected as
    # each slice is read but held, and delivered together in event time once every source has caught up, or once
    # this long has passed since the backlog began (then slice by slice again: a long backfill still delivers). 0s:
    # delivered after each slice (a sparse feed's slice runs weeks ahead of a dense one's: out of time order).
    backlog_settle: Duration = timedelta(seconds=60)
    # Days a document keeps its text: `watchfloor run` prunes older ones that it has read, at most once a day
    # (watchfloor/retention.py, `watchfloor store prune`). None (the default): the store keeps everything.
    retention_days: float | None = Field(default=None, gt=0)
    event_time: EventTimeConfig = EventTimeConfig()
    health: HealthConfig = HealthConfig()
    serve: ServeConfig = ServeConfig()
    kafka: KafkaConfig = KafkaConfig()
    # The file it was read from (watchfloor.config.load_config), so a check made once the rule packs are loaded
    # (subscriptions naming rules: watchfloor.config.subscription_problems) can name the place.
    _origin: str | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        # A section whose keys are all commented out ("serve:" and then "# admin_token_env: …", as the README
        # shows it) is YAML null: it means the section's defaults, not an error.
        if isinstance(data, dict) and any(k in data and data[k] is None for k in _SECTIONS):
            return {k: v for k, v in data.items() if not (k in _SECTIONS and v is None)}
        return data

    @model_validator(mode="before")
    @classmethod
    def _default_subscription(cls, data: Any) -> Any:
        if isinstance(data, dict) and "subscriptions" not in data and "channels" not in data:
            return {**data, "subscriptions": [{"channel": "console"}]}
        return data

    @model_validator(mode="after")
    def _refs(self) -> AppConfig:
        names = [c.name for c in self.channels]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"channel names must be unique: {', '.join(dupes)}")
        if "channels" not in self.model_fields_set:
            known = "known: console, the default when `channels:` is left out"
        else:
            known = f"known: {', '.join(names)}" if names else "`channels:` names none"
        # Every unknown channel in one message, with the name it likely meant (outside trial 29, F5)
        unknown = [
            f"subscriptions[{i}]: unknown channel {sub.channel!r}{_did_you_mean(sub.channel, names)} ({known})"
            for i, sub in enumerate(self.subscriptions)
            if sub.channel not in names
        ]
        if unknown:
            raise ValueError("\n".join(unknown))  # (one per line: the config loader places each at its channel)
        return self


def _did_you_mean(name: str, known: list[str]) -> str:
    """ " (did you mean 'X'?)" for the known name closest to a misspelt one, else ""."""
    from difflib import get_close_matches

    close = get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
