"""An event wanted, asked for or awaited, written as a noun, is still to come (outside trial 47, M1: "Protesters
demand the release of hostages" raised "hostages released" on 40 days without a release); and an event dated before
the document, by a year or by a fronted "After …, on Friday," is recalled (M6: "released in a 2011 prisoner swap" in
2023, "After the collapse of the weeklong truce on Friday, …" on Monday). Sentences in the tests' own words, modelled
on headlines and body sentences of the 2023 corpus; the counter-cases are the forms that must stay as they read."""

from __future__ import annotations

from datetime import datetime

import pytest

from watchfloor.schemas.inputs import parse_document

from .engine_helpers import DATA, engine_for

PACK = str(DATA / "rules" / "en_hostages.yaml")
MONDAY = datetime.fromisoformat("2023-12-04T09:00:00+00:00")  # a Monday


def reading(text: str, signal: str, *, title: bool = True, at: datetime = MONDAY) -> str:
    obj = {
        "type": "news.article",
        "published_at": at.isoformat(),
        "source": "Wire A",
        "title": text if title else "Gaza update",
        "body": "" if title else text,
    }
    got = [s for s in engine_for(PACK).extract(parse_document(obj)) if s.name == signal]
    assert got, f"{signal} not found in {text!r}"
    return got[0].modality


@pytest.mark.parametrize(
    ("text", "signal", "want"),
    [
        # asked for, campaigned for, awaited: "for" after such a noun or verb, or the object of one
        ("Crowds demand the release of hostages held in Gaza", "hostages_freed", "future"),
        ("Families of the captives plead for release of their relatives", "hostages_freed", "future"),
        ("Relatives' plea for release of captives as march reaches Jerusalem", "hostages_freed", "future"),
        ("Thousands rally in Ottawa for the release of hostages", "hostages_freed", "future"),
        ("Prisoners' families await their release in the West Bank", "hostages_freed", "future"),
        ("Washington is working to secure the release of hostages", "hostages_freed", "future"),
        ("The minister calls for the immediate release of the journalist", "hostages_freed", "future"),
        ("Mediators seek cease-fire extension as deadline nears", "truce_extended", "future"),
        ("Militant leader reveals conditions for hostages' release", "hostages_freed", "future"),
        ("Leaders back a pause in fighting to enable the release of hostages", "hostages_freed", "future"),
        ("The truce was extended to allow for the release of more hostages.", "hostages_freed", "future"),
        ("US presses for further extension to humanitarian pause", "truce_extended", "future"),
        # the event noun qualifying the talks or deal it is the object of
        ("Hostage release deal moves forward as guns fall silent", "hostages_freed", "future"),
        ("Truce enters final day as extension talks drag", "truce_extended", "future"),
        # a purpose infinitive after talks, a pause, efforts, "everything it can"
        ("Officials said talks to release hostages had stalled.", "hostages_freed", "future"),
        ("Envoys pressed for a pause to help free hostages.", "hostages_freed", "future"),
        ("He said the US was doing everything it can to free hostages.", "hostages_freed", "future"),
    ],
)
def test_wanted_events_read_future(text: str, signal: str, want: str) -> None:
    assert reading(text, signal, title=text[-1] != ".") == want, text


@pytest.mark.parametrize(
    ("text", "signal", "want"),
    [
        # releases reported, in verb or noun form
        ("Hamas frees two hostages held in Gaza", "hostages_freed", "asserted"),
        ("Qatar secured the release of two hostages", "hostages_freed", "asserted"),
        ("Talks were key in securing the release of the captives.", "hostages_freed", "asserted"),
        ("Crowds cheer the release of hostages in Tel Aviv", "hostages_freed", "asserted"),
        ("Hostages released in exchange for the release of prisoners", "hostages_freed", "asserted"),
        # a deal to extend is the extension (as "agreed to extend"); the deal's own terms are no purpose
        ("A deal to extend the truce by two days has been agreed.", "truce_extended", "asserted"),
        ("The club agreed a deal to sign the striker.", "deal_signed", "asserted"),
        # "freed hostages" as an attribute stays as it reads (measured: a fifth of such readings are the day's news)
        ("A meeting between freed hostages and ministers turned tense", "hostages_freed", "asserted"),
    ],
)
def test_releases_reported_stay_asserted(text: str, signal: str, want: str) -> None:
    assert reading(text, signal, title=text[-1] != ".") == want, text


@pytest.mark.parametrize(
    ("text", "signal", "want"),
    [
        # a year before the document's
        ("He served time in prison before being released in a 2011 prisoner swap.", "hostages_freed", "recap"),
        ("The general who came to power in a 2014 coup is leaving politics.", "coup", "recap"),
        ("The president was overthrown in 1999 after a decade in power.", "coup", "recap"),
        ("The former leader, overthrown in 1999, died on Sunday.", "coup", "recap"),
        # a fronted phrase dated two days or more before the document
        (
            "After the collapse of the weeklong truce on Friday, it is the south that has faced the attacks.",
            "truce_collapsed",
            "recap",
        ),
        ("After the collapse of the truce last week, strikes resumed in the south.", "truce_collapsed", "recap"),
        ("After the collapse of the truce on December 1, strikes resumed.", "truce_collapsed", "recap"),
        # not: this year or a later one, a year dating another noun, the day's or the day before's weekday, a verb
        # still to come
        ("Police arrest a suspect in 2001 killing of a soldier.", "arrest", "asserted"),
        ("Fugitive suspect in 1984 killing arrested by police.", "arrest", "asserted"),
        ("A refugee who arrived in 2015 has signed a deal with the club.", "deal_signed", "asserted"),
        ("The deal was struck in 2023 after months of talks.", "deal_signed", "asserted"),
        ("After the collapse of the truce on Sunday, strikes resumed in the south.", "truce_collapsed", "asserted"),
        # a step to come: no recap, and future (a step's verb before a day to come, test_scheduled_step_cues)
        ("After the truce ends on Thursday, strikes will resume.", "truce_collapsed", "future"),
        ("After the collapse of the truce, strikes resumed in the south.", "truce_collapsed", "asserted"),
    ],
)
def test_dated_recaps(text: str, signal: str, want: str) -> None:
    assert reading(text, signal, title=False) == want, text


@pytest.mark.parametrize(
    ("text", "signal", "cue"),
    [
        ("UN pushes for truce extension", "truce_extended", "pushes for"),
        ("Crowds demand the release of hostages held in Gaza", "hostages_freed", "demand"),
        ("Families of the captives plead for release of their relatives", "hostages_freed", "plead for"),
        ("Mediators proposed the release of the hostages", "hostages_freed", "proposed"),
    ],
)
def test_the_cue_of_an_event_wanted_is_its_lead_not_the_signals_words(text: str, signal: str, cue: str) -> None:
    """The cue `rules explain`, near misses and `except_cues` read is the lead and its preposition, not the span up to
    the signal's own words (outside trial 61, L2: "cue 'pushes for grain deal extension'" hid the deciding words)."""
    obj = {"type": "news.article", "published_at": MONDAY.isoformat(), "source": "Wire A", "title": text, "body": ""}
    (got,) = [s for s in engine_for(PACK).extract(parse_document(obj)) if s.name == signal]
    assert (got.modality, got.cue) == ("future", cue)
