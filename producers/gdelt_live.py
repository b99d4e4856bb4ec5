"""Follow GDELT 2.0 live: read lastupdate.txt and download each export file published since the last one read."""

from __future__ import annotations

import hashlib
import logging
import re
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from watchfloor.schemas.redact import redact_url
from watchfloor.schemas.rules import format_duration

from .feed_http import FetchFailed, fetch_http
from .gdelt import GdeltSourceError

log = logging.getLogger(__name__)

SLOT = timedelta(minutes=15)
"""GDELT 2.0 publishes an export file every 15 minutes, named by its time."""

LASTUPDATE_MAX_BYTES = 64 * 1024
LISTED_WAIT = timedelta(hours=6)
"""How long after its slot a file lastupdate.txt listed but that was not found is looked for again at each poll
(a mirror or CDN that lags its own listing; trial 59, HIGH-3): until the latest export is this much later."""
"""lastupdate.txt is three lines of about 100 bytes; anything much larger is not one."""

EXPORT_SUFFIX = ".export.csv.zip"  # compared lower-cased: GDELT writes .export.CSV.zip
STAMP_FORMAT = "%Y%m%d%H%M%S"

_MD5 = re.compile(r"[0-9a-fA-F]{32}")
_NAME = re.compile(r"(\d{14})(\..+)")


@dataclass(frozen=True)
class ExportLine:
    """The export line of a lastupdate.txt: its number there, and the size, MD5 and URL it gives."""

    line: int
    size: int
    md5: str
    url: str

    @property
    def at(self) -> datetime:
        at = slot_time(self.url)
        assert at is not None  # parse_lastupdate takes only a URL named by its time
        return at


@dataclass(frozen=True)
class LiveFile:
    """An export file to publish: its slot's time, its URL (as listed, without credentials), its bytes."""

    at: datetime
    url: str
    data: bytes
    # Why the file is damaged though it arrived whole (GDELT's own copy broken: the latest matched its size and MD5),
    # or None. A damaged file is not read: the poller dead-letters it once and goes on past it.
    damaged: str | None = None


def stamp(at: datetime) -> str:
    return at.strftime(STAMP_FORMAT)


def parse_stamp(text: object) -> datetime | None:
    """A checkpoint's `at` (YYYYMMDDHHMMSS, UTC) -> its time; None for anything else."""
    if not isinstance(text, str) or len(text) != 14 or not text.isdigit():
        return None
    try:
        return datetime.strptime(text, STAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _name(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])


def slot_time(url: str) -> datetime | None:
    """The time an export file's name gives (`20241028064500.export.CSV.zip`), or None."""
    m = _NAME.fullmatch(_name(url))
    return parse_stamp(m.group(1)) if m else None


def slot_url(url: str, at: datetime) -> str:
    """The URL of the export file of time `at` beside the one at `url` (same folder, same suffix)."""
    parts = urllib.parse.urlsplit(url)
    folder, _, name = parts.path.rpartition("/")
    m = _NAME.fullmatch(name)
    assert m is not None
    return urllib.parse.urlunsplit(parts._replace(path=f"{folder}/{stamp(at)}{m.group(2)}"))


def _scheme_class(url: str) -> str:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    return "file" if scheme == "file" else "http"


def parse_lastupdate(data: bytes, source_url: str) -> ExportLine:
    """The export line of a lastupdate.txt read from `source_url`. Raises GdeltSourceError naming the line at
    fault: not three lines, a line not `SIZE MD5 URL`, no export line or two, an export not named by its time, an
    export URL of another kind than `source_url` (a file:// one in a listing fetched over HTTP)."""
    where = _name(source_url) or "lastupdate.txt"
    text = data.decode("utf-8", errors="replace")
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if len(lines) != 3:
        raise GdeltSourceError(
            f"{where}: {len(lines)} line(s); GDELT's has 3 (SIZE MD5 URL of the export, mentions and gkg files)"
        )
    exports: list[ExportLine] = []
    for n, line in lines:
        fields = line.split()
        if len(fields) != 3:
            raise GdeltSourceError(f"{where} line {n}: {len(fields)} field(s); a line is SIZE MD5 URL")
        size, md5, url = fields
        if not (size.isascii() and size.isdigit()):
            raise GdeltSourceError(f"{where} line {n}: size {size[:40]!r} is not a number")
        if not _MD5.fullmatch(md5):
            raise GdeltSourceError(f"{where} line {n}: {md5[:40]!r} is not an MD5 (32 hexadecimal digits)")
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https", "file") or (scheme != "file" and not parts.hostname):
            raise GdeltSourceError(f"{where} line {n}: {redact_url(url)[:200]!r} is not an http(s) or file URL")
        if _name(url).lower().endswith(EXPORT_SUFFIX):
            exports.append(ExportLine(n, int(size), md5.lower(), url))
    if not exports:
        raise GdeltSourceError(f"{where}: no line names an export file (…{EXPORT_SUFFIX[:-4]}.CSV.zip)")
    if len(exports) > 1:
        raise GdeltSourceError(f"{where}: lines {exports[0].line} and {exports[1].line} both name an export file")
    export = exports[0]
    if slot_time(export.url) is None:
        raise GdeltSourceError(
            f"{where} line {export.line}: {_name(export.url)[:200]!r} is not named as GDELT names its exports "
            "(YYYYMMDDHHMMSS.export.CSV.zip)"
        )
    if _scheme_class(export.url) != _scheme_class(source_url):
        # A listing fetched over HTTP may not have a local file read, nor a local listing a download made.
        raise GdeltSourceError(
            f"{where} line {export.line}: {redact_url(export.url)[:200]!r} is not fetched: a lastupdate.txt at "
            f"{_scheme_class(source_url)} URL names only files at {_scheme_class(source_url)} URLs"
        )
    return export


@dataclass(frozen=True)
class Plan:
    """The slots to fetch after the last file read, oldest first, ending with the latest; and those skipped."""

    slots: list[datetime]
    skipped: int = 0  # missed slots more than catch_up before the latest
    skipped_from: datetime | None = None
    skipped_to: datetime | None = None


def plan(latest: datetime, last: datetime | None, catch_up: timedelta) -> Plan:
    """Which slots to fetch when lastupdate.txt names `latest` and `last` is the last file read: none when
    `latest` is not after `last` (a listing that went back in time is not news); only `latest` without a `last`
    (the first poll follows from now: history is a `path` source's); else every slot between them, at 15-minute
    steps back from `latest`, that is at most `catch_up` before it, then `latest`."""
    if last is None:
        return Plan([latest])
    if latest <= last:
        return Plan([])
    between = -(-(latest - last) // SLOT) - 1  # slots strictly after `last` and before `latest`
    kept = min(between, catch_up // SLOT)
    slots = [latest - k * SLOT for k in range(kept, 0, -1)] + [latest]
    if kept == between:
        return Plan(slots)
    return Plan(slots, between - kept, latest - between * SLOT, latest - (kept + 1) * SLOT)


def check_line(data: bytes, export: ExportLine) -> None:
    """The latest file against its line: the size, then the MD5. Raises GdeltSourceError."""
    name = _name(export.url)
    if len(data) != export.size:
        raise GdeltSourceError(f"{name}: {len(data)} bytes, but lastupdate.txt line {export.line} says {export.size}")
    digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
    if digest != export.md5:
        raise GdeltSourceError(
            f"{name}: MD5 {digest}, but lastupdate.txt line {export.line} says {export.md5} (a changed or damaged "
            "copy: tried again at the next poll)"
        )


def archive_problem(data: bytes, max_unzipped_bytes: int | None = None, *, past_cap_read: bool = False) -> str | None:
    """Why `data` is not a whole zip archive (every member read through and its CRC checked), or None. Read a piece
    at a time and, with `max_unzipped_bytes`, no further than that in all (testzip inflated a zip bomb whole); past
    it, a problem, unless `past_cap_read` (the file is read anyway, up to its cap, with a dead letter there)."""
    total = 0
    name = ""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            for info in archive.infolist():
                name = info.filename
                with archive.open(info) as member:  # a CRC that does not match raises at the member's end
                    while piece := member.read(_CHECK_PIECE):
                        total += len(piece)
                        if max_unzipped_bytes is not None and total > max_unzipped_bytes:
                            if past_cap_read:
                                return None
                            return f"expands past max_unzipped_bytes ({max_unzipped_bytes:,} bytes unzipped)"
    except zipfile.BadZipFile as e:
        if "CRC" in str(e):
            return f"member {name!r} is damaged (its CRC does not match)"
        return f"not a readable zip archive: {e}"
    except zlib.error as e:  # a broken deflate stream under a whole central directory (trial 59, HIGH-2)
        return f"member {name!r} is damaged (zlib: {e})"
    except (OSError, EOFError, NotImplementedError, RuntimeError) as e:
        return f"not a readable zip archive: {e}"
    return None


_CHECK_PIECE = 1 << 20


@dataclass
class LiveExports:
    """The export files of one GDELT lastupdate.txt source: `new_files(last)` fetches them, one at a time.

    lastupdate.txt is three lines `SIZE MD5 URL` (the export, mentions and gkg files of the latest 15 minutes);
    only the export line is read. Exports are named by their time (`YYYYMMDDHHMMSS.export.CSV.zip`), the ones
    before the latest beside it at 15-minute steps, so those published while watchfloor was not looking are
    found by name:

    * after `last` (the time of the last file read, the poller's checkpoint), each file up to the latest, oldest
      first; without a `last`, the latest alone. Files more than `catch_up` before the latest are not fetched, and
      the log says which were skipped.
    * The latest file is checked against its line (size, MD5), and every file by reading the archive through (each
      member's CRC): a file is published whole or not at all.
    * A file GDELT never published (404, 410, no such local file) is logged and passed over; but one lastupdate.txt
      listed (the latest, not found: the poll fails) is `pending`, looked for again at each poll, the later files
      read meanwhile, until LISTED_WAIT after it, then passed over, said once. A file that arrived
      whole (its Content-Length; the latest: its size and MD5) but is no readable archive is yielded `damaged`:
      GDELT's copy is broken, and waiting for it would hold back every file after it. Anything else (a malformed
      lastupdate.txt, a failed download, the latest file not matching its line, a file over `max_bytes`) raises
      GdeltSourceError: the poll fails there, and the next one starts again after the last file read.
    * HTTP is feed_http's (deadline, size cap, redirects); the source's credentials (`credentials`, the URL's
      `user:password@`) go to the configured URL's origin only: to the files lastupdate.txt lists there, not to
      those it lists on another scheme, host or port. Every file is held to the address policy of the configured
      URL, which lastupdate.txt cannot widen; URLs are redacted when shown.
    """

    url: str  # the configured lastupdate.txt (http, https or file://; may carry user:password@)
    timeout: float
    max_bytes: int
    catch_up: timedelta
    # Headers for the configured URL's origin (the source's username/password_env, headers_env): with every request
    # there, lastupdate.txt's and each export file's it lists on the same scheme, host and port; never elsewhere.
    credentials: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)  # query parameters (query_env), for the same requests
    warnings: list[str] = field(default_factory=list)  # what was passed over, also logged
    latest: datetime | None = None  # the time of the export lastupdate.txt named, once read
    # Files lastupdate.txt listed that were not found (the poller keeps them in its checkpoint): looked for again at
    # each poll until LISTED_WAIT after them, not passed over as a slot GDELT never published. Added to here; the
    # poller takes out each one it reads.
    pending: set[datetime] = field(default_factory=set)
    max_unzipped_bytes: int | None = None  # how far an earlier export is read through when it is checked

    def new_files(self, last: datetime | None) -> Iterator[LiveFile]:
        """Each export file after `last` (the time of the last one read), oldest first, checked. Raises
        GdeltSourceError where the poll must stop (module docstring); the files yielded before stand."""
        listing = self._get(self.url, min(LASTUPDATE_MAX_BYTES, self.max_bytes))
        if listing is None:
            raise GdeltSourceError("not found")
        export = parse_lastupdate(listing, self.url)
        self.latest = export.at
        if export.size > self.max_bytes:  # said before downloading it
            raise GdeltSourceError(
                f"{_name(export.url)}: {export.size} bytes (lastupdate.txt line {export.line}), more than "
                f"max_bytes ({self.max_bytes})"
            )
        for at in sorted(a for a in self.pending if last is not None and a <= last):  # behind the checkpoint
            url = slot_url(export.url, at)
            if self._still_missing(at, export.at, _name(url)):
                continue
            data = self._get(url, self.max_bytes)
            if data is not None:  # published at last: read, out of order (its ids make a repeat add nothing)
                problem = archive_problem(data, self.max_unzipped_bytes)
                yield LiveFile(at, url, data, None if problem is None else f"{_name(url)}: {problem}; passed over")
        todo = plan(export.at, last, self.catch_up)
        if todo.skipped:
            self._warn(
                f"{todo.skipped} export file(s) from {stamp(todo.skipped_from or export.at)} to "
                f"{stamp(todo.skipped_to or export.at)} skipped: more than catch_up "
                f"({format_duration(self.catch_up)}) before the latest, {stamp(export.at)}"
            )
        for at in todo.slots:
            latest = at == export.at
            url = export.url if latest else slot_url(export.url, at)
            data = self._get(url, self.max_bytes)
            name = _name(url)
            if data is None:
                if latest:
                    self.pending.add(at)  # listed, so published: looked for again while the poll goes on past it
                    raise GdeltSourceError(f"{name}: not found, though lastupdate.txt line {export.line} names it")
                if at in self.pending:
                    self._still_missing(at, export.at, name)
                    continue
                self._warn(f"{name}: not published by GDELT (not found); passed over")
                continue
            if latest:
                check_line(data, export)
            # Read through before any row is used: waiting for a broken copy would hold back every file after it.
            problem = archive_problem(data, self.max_unzipped_bytes, past_cap_read=latest)
            yield LiveFile(at, url, data, None if problem is None else f"{name}: {problem}; passed over")

    def _still_missing(self, at: datetime, latest: datetime, name: str) -> bool:
        """Whether the listed file of `at` is no longer looked for (LISTED_WAIT before `latest`): then it is said once
        and dropped from `pending`."""
        if latest - at <= LISTED_WAIT:
            return False
        self.pending.discard(at)
        self._warn(
            f"{name}: listed by lastupdate.txt but still not found {format_duration(LISTED_WAIT)} later; passed over"
        )
        return True

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("source %s: %s", redact_url(self.url), message)

    def _get(self, url: str, max_bytes: int) -> bytes | None:
        """The bytes at `url`; None when there is no such file (HTTP 404 or 410, no local file)."""
        if _scheme_class(url) == "file":
            return _read_local(url, max_bytes)
        own = url == self.url
        try:
            got = fetch_http(
                url,
                etag=None,
                modified=None,
                deadline=self.timeout,
                max_bytes=max_bytes,
                policy_url=None if own else self.url,
                credentials=self.credentials,
                query=self.query,
            )
        except FetchFailed as e:
            if e.status in (404, 410):
                return None
            # The source's own URL is said with the error already (as a feed's); a file it names is not.
            raise GdeltSourceError(e.reason if own else f"{redact_url(url)}: {e.reason}") from None
        length = got.headers.get("content-length", "").strip()
        if not got.headers.get("content-encoding") and length.isdigit() and int(length) != len(got.body):
            # http.client ends a body the server closed early without a word: a cut download is no broken file.
            cut = f"cut short ({len(got.body)} of {length} bytes)"
            raise GdeltSourceError(cut if own else f"{redact_url(url)}: {cut}")
        return got.body


def _read_local(url: str, max_bytes: int) -> bytes | None:
    path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
    try:
        size = path.stat().st_size
        data = path.read_bytes() if size <= max_bytes else None
    except FileNotFoundError:
        return None
    except OSError as e:
        raise GdeltSourceError(f"cannot read {path}: {e.strerror or e}") from e
    if data is None:
        raise GdeltSourceError(f"{path}: {size} bytes, more than max_bytes ({max_bytes})")
    return data
