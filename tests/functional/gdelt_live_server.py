"""A local HTTP server standing in for data.gdeltproject.org: a lastupdate.txt and export zips the tests build."""

from __future__ import annotations

import base64
import hashlib
import io
import urllib.parse
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fixtures.http_server import QuietHandler, serving

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "gdelt" / "20241021-20241028.export.CSV"
ROWS = EXAMPLE.read_text(encoding="utf-8").splitlines()  # our own rows (examples/gdelt)
CREDENTIALS = "reader:s3cret"


def export_zip(rows: Sequence[str], stamp: str) -> bytes:
    """An export archive as GDELT makes one: a single member `<stamp>.export.CSV`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{stamp}.export.CSV", "".join(r + "\n" for r in rows))
    return out.getvalue()


def lastupdate(export_url: str, data: bytes, *, md5: str | None = None, size: int | None = None) -> bytes:
    """GDELT's three lines for an export: its own, then the mentions and gkg files of the same 15 minutes."""
    folder, name = export_url.rsplit("/", 1)
    stamp = name.split(".", 1)[0]
    digest = md5 or hashlib.md5(data).hexdigest()
    return (
        f"{len(data) if size is None else size} {digest} {export_url}\n"
        f"20915 8d6ba0a1c0a44ac3b6bd57c33c1ef2a4 {folder}/{stamp}.mentions.CSV.zip\n"
        f"5521034 c32ca0bda16fe4e2bb4e2a3e56e69b6a {folder}/{stamp}.gkg.csv.zip\n"
    ).encode()


@dataclass
class GdeltServer:
    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    cut: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def export_url(self, stamp: str, folder: str = "/gdeltv2") -> str:
        return self.url(f"{folder}/{stamp}.export.CSV.zip")

    def publish(self, stamp: str, rows: Sequence[str], folder: str = "/gdeltv2") -> bytes:
        """Serve `rows` as the export of `stamp` (no lastupdate.txt change); returns the zip."""
        data = export_zip(rows, stamp)
        self.files[f"{folder}/{stamp}.export.CSV.zip"] = data
        return data

    def announce(self, stamp: str, *, folder: str = "/gdeltv2", **lie: str | int) -> None:
        """Make `stamp`'s export (published already) the one lastupdate.txt names; `md5=`/`size=` to lie."""
        data = self.files[f"{folder}/{stamp}.export.CSV.zip"]
        md5, size = lie.get("md5"), lie.get("size")
        self.files[f"{folder}/lastupdate.txt"] = lastupdate(
            self.export_url(stamp, folder),
            data,
            md5=str(md5) if md5 is not None else None,
            size=int(size) if size is not None else None,
        )

    def zips_fetched(self) -> list[str]:
        return [p.rsplit("/", 1)[-1].split(".", 1)[0] for p in self.requests if p.endswith(".zip")]


@pytest.fixture
def gdelt_server() -> Iterator[GdeltServer]:
    """Serves what the test puts in `files` (path -> bytes) and logs each request's path in `requests`; a path in
    `redirects` is a 302 there, one in `cut` sends half its body under a Content-Length of more, one under /private/
    needs HTTP Basic authentication (reader / s3cret; each Authorization header kept in `authorizations`), one under
    /keyed/ `?key=s3cret` in its query; anything else is a 404."""
    state = GdeltServer()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            try:
                self._get()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _get(self) -> None:
            state.requests.append(self.path)
            if self.path.startswith("/private/"):
                sent = self.headers.get("Authorization")
                state.authorizations.append(sent)
                if sent != "Basic " + base64.b64encode(CREDENTIALS.encode()).decode():
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="gdelt"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            path = self.path
            if path.startswith("/keyed/"):  # an API key in the query: ?key=s3cret
                path, _q, query = path.partition("?")
                if dict(urllib.parse.parse_qsl(query)).get("key") != "s3cret":
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            if path in state.redirects:
                self.send_response(302)
                self.send_header("Location", state.redirects[path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = state.files.get(path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain" if path.endswith(".txt") else "application/zip")
            cut = path in state.cut
            self.send_header("Content-Length", str(len(body) + 100 if cut else len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if cut else body)
            if cut:
                self.close_connection = True

    with serving(Handler) as base:
        state.base = base
        yield state
