"""The backtest's HTML report in a real headless Chromium: scores, the timeline with labelled truth beside the
alerts, near misses and the diff render; the rule and severity filters work; it is one offline file whose only
links are http(s) (an article's `javascript:` URL is shown as text)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchfloor.cli import app
from watchfloor.report import safe_url

DATA = Path(__file__).resolve().parents[1] / "data" / "scoring"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each element with an id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text_of: dict[str, str] = {}
        self._open: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag not in ("br", "meta", "input", "img", "circle", "line", "path"):
            self._open.append(a.get("id"))
            if a.get("id"):
                self.text_of[a["id"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag not in ("br", "meta", "circle", "line", "path"):
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for i in self._open:
            if i:
                self.text_of[i] += data

    def having(self, tag: str, class_: str | None = None) -> list[dict[str, str]]:
        """Elements `tag` (with the class `class_`, when given)."""
        return [a for t, a in self.tags if t == tag and (class_ is None or class_ in a.get("class", "").split())]


class Rows(HTMLParser):
    """The rows `<tr class="CLASS">` (every row if CLASS is empty) of a page: attributes and each cell's text."""

    def __init__(self, html: str, class_: str) -> None:
        super().__init__()
        self.class_, self.rows, self._cells, self._depth = class_, [], None, 0
        self.rows: list[tuple[dict[str, str], list[str]]] = []
        self._cells: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr" and (not self.class_ or self.class_ in a.get("class", "").split()):
            self._cells = []
            self.rows.append((a, self._cells))
        elif tag == "td" and self._cells is not None:
            self._cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._cells:
            self._cells[-1] += data


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    text = (resources.files("watchfloor") / "rules" / "dprk_russia.yaml").read_text(encoding="utf-8")
    stricter = tmp / "stricter.yaml"
    stricter.write_text(text.replace('none: ["to fight in ukraine if",', 'none: [band, "to fight in ukraine if",'))
    out = tmp / "report.html"
    res = CliRunner().invoke(
        app,
        [
            "backtest",
            str(DATA / "events.jsonl"),
            "--labels",
            str(DATA / "labels.csv"),
            "--label-map",
            str(DATA / "label_map.yaml"),
            "--timeline",
            str(DATA / "timeline.csv"),
            "--baseline-rules",
            str(stricter),
            "--html",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    return out


def test_report_is_one_offline_file_with_safe_links_only(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"<(script|img|iframe|link|object|embed)[^>]+(src|href)=", html, re.I)
    assert "@import" not in html and "url(" not in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(("#", "https://", "http://")) for h in hrefs), hrefs
    assert "javascript:" not in html  # sc-09's URL: its source is shown without a link


def test_the_summary_says_its_counts_in_words(report: Path) -> None:
    """Trial 6 L5: the summary showed the result's keys (`late_documents: 0`, `repeats_recorded: True`,
    `ids_not_kept: 0`). It says them in words; each item's tooltip names its key in --json."""
    import re

    from watchfloor.report import STAT_LABELS

    page = report.read_text(encoding="utf-8")
    summary = page[page.index("<ul>") : page.index("</ul>")]
    keys = re.findall(r'<li title="stats\.(\w+) in --json">', summary)
    assert {"late_documents", "repeats_recorded", "ids_not_kept", "future_dated", "already_seen"} <= set(keys)
    assert set(keys) <= set(STAT_LABELS)  # every count the result has, in words
    shown = re.sub(r"<[^>]+>", "", summary)
    assert not any(k in shown for k in keys if "_" in k) and "True" not in shown, shown
    assert "late reports (beyond the allowed lateness): 0" in shown
    assert "repeats held back by realert recorded (for --baseline): yes" in shown


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://example.org/a?b=1", True),
        ("http://example.org", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//example.org/x", False),
        ("https://exa\nmple.org", False),
        ("vbscript:msgbox", False),
        (None, False),
    ],
)
def test_safe_url(url: str | None, ok: bool) -> None:
    assert (safe_url(url) is not None) is ok


def test_report_renders_scores_timeline_near_misses_and_diff(report: Path, chromium) -> None:
    dom = Elements(chromium.dom(report.as_uri()))
    score_rows = {a.get("data-rule") for a in dom.having("tr") if a.get("data-rule")} & {
        "treaty-signed",
        "treaty-ratified",
        "troops-deployed",
        "troop-engagement",
    }
    assert len(score_rows) == 4
    assert dom.having("tr", class_="overall")
    assert "0.83" in dom.text_of["scores"] and "0.86" in dom.text_of["scores"]
    assert "1 of the TP are repeats held back by an alert that cites a positive" in dom.text_of["scores"]
    # The change in scores against the baseline (which has no false alert): troops-deployed gained one FP.
    row = next(r for r in Rows(chromium.dom(report.as_uri()), "").rows if r[0].get("data-rule") == "troops-deployed")
    # (one more alert, no more true ones: precision's change read from its two counts, as in the terminal)
    # (under precision and recall, their 95 % Wilson interval: outside trial 53, MED-2)
    assert row[1][:9] == [
        "2",
        "2",
        "0",
        "2 (+1)",
        "1",
        "1 (+1)",
        "0.50 (-0.50)[0.09, 0.91]",
        "1.00[0.34, 1.00]",
        "0.67 (-0.33)",
    ]
    # Timeline: every alert a dot, every labelled positive a triangle beside them, each expected event a diamond.
    assert len(dom.having("a", class_="alert-mark")) == 6
    assert len(dom.having("a", class_="fp")) == 1
    # Outside trial 13 (L8): a false alert was a red ring, a high alert a red fill. Colour is severity only; a
    # false alert is crossed out, and no alert's ring is red.
    assert len(dom.having("path", class_="fp-cross")) == 1
    rings = {a["stroke"] for t, a in dom.tags if t == "circle"}
    assert rings == {"#333"}
    assert "⊗ false alert (crossed out)" in dom.text_of["timeline"] and "red ring" not in dom.text_of["timeline"]
    assert len(dom.having("path", class_="truth")) == 7
    assert len(dom.having("path", class_="fn")) == 1
    assert len(dom.having("path", class_="covered")) == 1  # the repeat the first deployment alert held back
    assert len(dom.having("path", class_="expected")) == 4
    assert "could" in dom.text_of["near-misses"] and "realert" in dom.text_of["near-misses"]
    assert "1 added, 0 removed" in dom.text_of["diff"]  # the stricter baseline has no false alert: this run adds it
    assert dom.text_of["shown"] == "6 of 6"  # written by the page's script


def test_near_misses_render_modality_cue_and_why_not(report: Path, chromium) -> None:
    rows = Rows(chromium.dom(report.as_uri()), "miss").rows
    by_signal = {(cells[1], cells[2]): (attrs, cells) for attrs, cells in rows}
    # published, signal, modality, cue, sentence and why
    assert set(by_signal) == {
        ("treaty_signing", "hedged"),
        ("troop_deployment", "negated"),
        ("troop_deployment", "asserted"),
    }
    _attrs, hedged = by_signal["treaty_signing", "hedged"]
    # each reason starts with its detection's name, its kind after it (outside trial 34)
    assert hedged[3] == "“could”" and "treaty-signed: the signal is hedged (cue 'could')" in hedged[4]
    assert "(modality)" in hedged[4]
    attrs, negated = by_signal["troop_deployment", "negated"]
    assert negated[3].strip("“”") and "(modality)" in negated[4]
    attrs, throttled = by_signal["troop_deployment", "asserted"]
    assert throttled[3] == "—"  # an asserted sentence has no cue
    assert "(realert)" in throttled[4] and "quiet for 1d" in throttled[4]
    assert "troops-deployed" in attrs["data-rules"].split()  # what the rule filter goes by


def test_rendered_links_are_http_only(report: Path, chromium) -> None:
    """After the page's script ran: every link is http(s) or an anchor of the page; sc-09's `javascript:` URL
    is shown as its source's name, with no link."""
    dom = Elements(chromium.dom(report.as_uri()))
    hrefs = [a["href"] for a in dom.having("a") if "href" in a]
    assert hrefs and all(h.startswith(("#", "https://", "http://")) for h in hrefs), hrefs
    assert not [a for t, a in dom.tags if t in ("script", "img", "iframe", "link") and (a.get("src") or a.get("href"))]


CHOOSE = """(() => {{
  const s = document.getElementById('{select}');
  s.value = '{value}';
  s.dispatchEvent(new Event('change'));
  return location.hash;
}})()"""


def test_choosing_a_rule_and_a_severity_filters_the_page(report: Path, chromium) -> None:
    """As a user does it: pick an option in the filter's select (its change event), not through the URL."""
    dom = Elements(chromium.act(report.as_uri(), CHOOSE.format(select="f-rule", value="troops-deployed")))
    visible = [a for a in dom.having("tr", class_="alert") if "off" not in a["class"].split()]
    assert {a["data-rule"] for a in visible} == {"troops-deployed"} and dom.text_of["shown"] == "2 of 6"
    marks = [a for a in dom.having("a", class_="alert-mark") if "off" not in a["class"].split()]
    assert len(marks) == 2
    misses = [a for a in dom.having("tr", class_="miss") if "off" not in a["class"].split()]
    assert misses and all("troops-deployed" in a["data-rules"].split() for a in misses)
    score_rows = [a for a in dom.having("tr") if a.get("data-rule") and "off" not in a.get("class", "").split()]
    assert {a["data-rule"] for a in score_rows} == {"troops-deployed"}

    dom = Elements(chromium.act(report.as_uri(), CHOOSE.format(select="f-sev", value="high")))
    visible = [a for a in dom.having("tr", class_="alert") if "off" not in a["class"].split()]
    assert {a["data-severity"] for a in visible} == {"high"} and dom.text_of["shown"] == "2 of 6"

    # Back to every rule: everything shows again.
    dom = Elements(chromium.act(report.as_uri() + "#rule=troops-deployed", CHOOSE.format(select="f-rule", value="")))
    assert dom.text_of["shown"] == "6 of 6"
    assert not [a for a in dom.having("tr", class_="alert") if "off" in a["class"].split()]


def test_report_filters_by_rule_and_severity(report: Path, chromium) -> None:
    dom = Elements(chromium.dom(report.as_uri() + "#rule=troops-deployed"))
    alerts = dom.having("tr", class_="alert")
    visible = [a for a in alerts if "off" not in a["class"].split()]
    assert {a["data-rule"] for a in visible} == {"troops-deployed"} and len(visible) == 2
    assert dom.text_of["shown"] == "2 of 6"
    marks = [a for a in dom.having("a", class_="alert-mark") if "off" not in a["class"].split()]
    assert len(marks) == 2
    assert all(
        "off" in a["class"].split() for a in dom.having("path", class_="truth") if a["data-rule"] != "troops-deployed"
    )

    dom = Elements(chromium.dom(report.as_uri() + "#severity=high"))
    visible = [a for a in dom.having("tr", class_="alert") if "off" not in a["class"].split()]
    assert {a["data-severity"] for a in visible} == {"high"} and dom.text_of["shown"] == "2 of 6"


# -- outside audit: the timeline's axis, its last label, a narrow window, the expected events' groups, and what
# stood behind the counts of revisions and future-dated reports ---------------------------------------------


def _alert(alert_id: str, rule: str, fired_at: str, published_at: str | None = None, **more: object) -> dict:
    return {
        "id": alert_id,
        "rule": rule,
        "title": f"{rule} happened",
        "fired_at": fired_at,
        "group": {},
        "severity": "medium",
        "confidence": None,
        "tags": [],
        "attributes": {},
        "evidence": [
            {
                "event_id": f"doc-{alert_id}",
                "source": "Harbour Gazette",
                "url": "https://gazette.example/a",
                "published_at": published_at or fired_at,
                "sentence": "Something took place.",
                "signal": "thing",
                "modality": "asserted",
            }
        ],
        **more,
    }


def _page(tmp_path: Path, result: dict) -> Path:
    from watchfloor.report import render_backtest_html

    path = tmp_path / "page.html"
    path.write_text(render_backtest_html(result), encoding="utf-8")
    return path


def _cx(dom: Elements) -> list[float]:
    return [float(a["cx"]) for t, a in dom.tags if t == "circle"]


def test_one_far_future_report_does_not_squash_the_timeline(tmp_path: Path) -> None:
    # A report dated 2099 raised an alert at its receive time (late 2026): the axis ran to 2026 and the real
    # alerts of 2024 sat in its left 15%. Now the axis spans those, and the page says what it left off.
    alerts = [_alert(f"a{m}", "harbour-closed", f"2024-{m:02d}-10T08:00:00+00:00") for m in (3, 5, 8)]
    alerts.append(_alert("late", "harbour-closed", "2026-11-30T12:00:00+00:00", "2099-01-01T00:00:00+00:00"))
    result = {"alerts": alerts, "stats": {"alerts": 4, "future_dated": 1}}
    page = _page(tmp_path, result).read_text(encoding="utf-8")
    dom = Elements(page)
    xs = _cx(dom)
    assert len(xs) == 3  # the far one is not drawn
    left, right = 200, 1100 - 30
    assert (max(xs) - min(xs)) / (right - left) > 0.9
    note = dom.text_of["off-axis"]
    assert "1 mark far outside" in note and "2026-11-30 12:00" in note and "dated 2099-01-01" in note
    # Listed with the revisions: which alert, and the report's date; the count links to the list.
    assert (
        "future-dated report" in dom.text_of["history"] and "a report dated 2099-01-01 00:00" in dom.text_of["history"]
    )
    assert '<a href="#history">reports dated in the future: 1</a>' in page


def test_an_axis_of_marks_spread_evenly_keeps_them_all() -> None:
    from watchfloor.report_timeline import axis_range

    year = 365 * 86400.0
    assert axis_range([0.0, year, 2 * year, 3 * year]) == (0.0, 3 * year)
    assert axis_range([0.0, 86400.0, 2 * year]) == (0.0, 2 * year)  # too few marks to call one an outlier
    many = [i * 86400.0 for i in range(20)]
    assert axis_range([*many, 80 * year]) == (0.0, 19 * 86400.0)
    assert axis_range([-50 * year, *many]) == (0.0, 19 * 86400.0)


def test_expected_events_show_their_group(report: Path) -> None:
    rows = Rows(report.read_text(encoding="utf-8"), "").rows
    expected = [cells for a, cells in rows if cells and cells[0] in ("Duma ratifies", "North Korea ratifies")]
    assert [c[3] for c in expected] == ["party=RUS", "party=PRK"]
    assert "<th>group</th>" in report.read_text(encoding="utf-8")


def test_revisions_and_retractions_are_listed(tmp_path: Path) -> None:
    first = _alert("old1", "port-blockade", "2024-03-01T10:00:00+00:00", group={"port": "North Quay"})
    second = _alert(
        "new1", "port-blockade", "2024-03-01T06:00:00+00:00", group={"port": "North Quay"}, revision=1, revises="old1"
    )
    gone = _alert("gone1", "port-blockade", "2024-03-04T09:00:00+00:00")
    # In a shuffled replay of the key days, a late report raised an earlier alert beside the others: revision 1,
    # replacing none (stats.revisions counted it; the report listed nothing).
    beside = _alert("early1", "port-blockade", "2024-02-27T07:00:00+00:00", revision=1, revises=None)
    retraction = {
        "alert_id": "gone1",
        "rule": "port-blockade",
        "group": {},
        "reason": "a report dated earlier denies it",
        "superseded_by": None,
        "revision": 1,
        "at": "2024-03-04T08:00:00+00:00",
    }
    result = {
        "alerts": [second, beside],
        "stats": {"alerts": 2, "revisions": 2, "retractions": 1},
        "raised": [first, gone, second, {"retraction": retraction}, beside],
    }
    dom = Elements(_page(tmp_path, result).read_text(encoding="utf-8"))
    text = " ".join(dom.text_of["history"].split())
    assert "revision 1" in text and "new1 (medium, fired 2024-03-01 06:00 UTC) replaces old1" in text
    assert "(was medium, fired 2024-03-01 10:00 UTC)" in text and "port=North Quay" in text
    assert "retracted" in text and "gone1 (fired 2024-03-04 09:00 UTC): a report dated earlier denies it" in text
    # (not "a late report": a report of the same time revises too, outside trial 85, F15)
    assert "early1 (medium, fired 2024-02-27 07:00 UTC) raised when a report changed its group's history" in text
    page = _page(tmp_path, result).read_text(encoding="utf-8")
    assert "alerts revised (a report changed their history): 2" in page and "revised by a late report" not in page


MEASURE = """(() => {
  const r = {inner: window.innerWidth, page: document.documentElement.scrollWidth, ticks: [], lead: null};
  const svg = document.querySelector('#timeline svg');
  const w = svg.viewBox.baseVal.width;
  for (const t of svg.querySelectorAll('text[font-size="11"]')) {
    const b = t.getBBox();
    r.ticks.push([b.x, b.x + b.width, w]);
  }
  const th = [...document.querySelectorAll('table.scores th')].find(t => t.textContent === 'median lead');
  const box = th.closest('.scroll') || th.closest('table').parentElement;
  const overflow = getComputedStyle(box).overflowX;
  r.lead = {right: th.offsetLeft + th.offsetWidth, scrollable: box.scrollWidth, overflow: overflow};
  document.body.setAttribute('data-measure', JSON.stringify(r));
  return true;
})()"""


def _measure(chromium, page: Path, width: int) -> dict:  # type: ignore[no-untyped-def]
    import html
    import json

    dom = chromium.act(page.as_uri(), MEASURE, width=width)
    got = re.search(r'data-measure="([^"]*)"', dom)
    assert got, "the page's measurements are missing"
    measured: dict = json.loads(html.unescape(got.group(1)))
    return measured


def test_tick_labels_stay_inside_the_timeline(report: Path, chromium) -> None:
    # The last label was centred on x=1070 of a 1100 wide picture: its right half was clipped in every report.
    m = _measure(chromium, report, 1280)
    assert 2 <= len(m["ticks"]) <= 8
    assert all(0 <= left and right <= width for left, right, width in m["ticks"]), m["ticks"]


def test_at_700_pixels_the_page_fits_and_the_scores_scroll(report: Path, chromium) -> None:
    # At 700 px the scores table ran past the window and its "median lead" column was cut.
    m = _measure(chromium, report, 700)
    assert m["page"] <= m["inner"], m
    assert m["lead"]["overflow"] == "auto" and m["lead"]["right"] <= m["lead"]["scrollable"], m


def test_late_reports_that_raised_nothing_are_named_beside_the_count(tmp_path: Path) -> None:
    miss = {
        "signal": "thing",
        "document_id": "doc-slow",
        "source": "Harbour Gazette",
        "url": "https://gazette.example/slow",
        "published_at": "2024-03-01T02:00:00+00:00",
        "sentence": "Something took place.",
        "modality": "asserted",
        "cue": None,
        "captures": {},
        "reasons": [{"detection": "port-blockade", "kind": "late", "detail": "late: document doc-slow came 9h late"}],
    }
    result = {"alerts": [], "stats": {"late_documents": 2}, "near_misses": [miss]}
    page = _page(tmp_path, result).read_text(encoding="utf-8")
    text = " ".join(Elements(page).text_of["history"].split())
    assert "late report" in text and "doc-slow (published 2024-03-01 02:00 UTC)" in text
    assert "came 9h late" in text and "2 reports came beyond the lateness" in text and "kind late: 1" in text
    assert '<a href="#history">late reports (beyond the allowed lateness): 2</a>' in page


def test_late_reports_listed_from_capped_near_misses_say_the_list_is_cut(tmp_path: Path) -> None:
    # Review finding 6: the late list comes from the near misses, which --near-misses caps (default 200).
    miss = {
        "signal": "thing",
        "document_id": "doc-slow",
        "source": "Harbour Gazette",
        "url": None,
        "published_at": "2024-03-01T02:00:00+00:00",
        "sentence": "Something took place.",
        "modality": "asserted",
        "cue": None,
        "captures": {},
        "reasons": [{"detection": "port-blockade", "kind": "late", "detail": "late: document doc-slow came 9h late"}],
    }
    result = {"alerts": [], "stats": {"late_documents": 40, "near_misses": 350}, "near_misses": [miss]}
    text = " ".join(Elements(_page(tmp_path, result).read_text(encoding="utf-8")).text_of["history"].split())
    assert "up to 1 of the 350 near misses are kept (--near-misses)" in text, text
    assert "of kind late among them: 1" in text and "the 349 not kept are not listed" in text, text


def test_alert_badges_follow_the_scores_verdicts(tmp_path: Path) -> None:
    # The scores decide each alert's verdict (scores.verdicts); the page shows theirs. An alert that cites a
    # positive another alert caught first is still a true alert, and a retelling is a repeat, not unmarked.
    alerts = [_alert(a, "port-blockade", f"2024-03-0{i + 1}T10:00:00+00:00") for i, a in enumerate("tdfr")]
    verdicts = [
        {"id": "t", "rule": "port-blockade", "verdict": "true", "positives": ["p1"]},
        {"id": "d", "rule": "port-blockade", "verdict": "true", "positives": ["p1"]},
        {"id": "f", "rule": "port-blockade", "verdict": "false", "positives": []},
        {"id": "r", "rule": "port-blockade", "verdict": "repeat", "positives": ["p1"]},
    ]
    scores = {"events": [{"id": "p1", "alert": "t", "status": "tp"}], "false_positives": ["f"], "verdicts": verdicts}
    page = _page(tmp_path, {"alerts": alerts, "scores": scores}).read_text(encoding="utf-8")
    badge = {m.group(1): m.group(2) for m in re.finditer(r'<tr id="(\w)".*?<span class="verdict (\w+)">', page, re.S)}
    assert badge == {"t": "tp", "d": "tp", "f": "fp", "r": "repeat"}
    assert page.count(">true alert</span>") == 2 and ">repeat</span>" in page
    # A result written before the verdicts were recorded: the alerts that caught a positive, and the false ones.
    del scores["verdicts"]
    page = _page(tmp_path, {"alerts": alerts, "scores": scores}).read_text(encoding="utf-8")
    assert page.count('<span class="verdict') == 2


def test_the_rule_filter_hides_the_counts_of_the_rows_it_hides(tmp_path: Path, chromium) -> None:
    """Outside trial 53, L3: with the rule filter set, another row's marks went but their counts ("×2") stayed,
    floating over the plot. In the browser, after the page's script: the counts go with their row."""
    from watchfloor.report import render_backtest_html

    def alert(alert_id: str, rule: str, fired_at: str) -> dict:
        return _alert(alert_id, rule, fired_at) | {"severity": "high"}

    alerts = [alert(f"a-{k}", "pow-swap", "2024-01-05T00:00:00+00:00") for k in range(2)]
    alerts += [alert(f"b-{k}", "troops-deployed", "2024-01-08T00:00:00+00:00") for k in range(3)]
    alerts.append(alert("c-0", "pow-swap", "2024-01-20T00:00:00+00:00"))
    page = tmp_path / "report.html"
    page.write_text(render_backtest_html({"alerts": alerts, "stats": {}}), encoding="utf-8")
    dom = Elements(chromium.dom(page.as_uri() + "#rule=pow-swap"))
    counts = {a["data-rule"]: "off" in a.get("class", "").split() for a in dom.having("text", class_="cluster")}
    assert counts == {"pow-swap": False, "troops-deployed": True}
