"""GDELT actor names are cased as names read, acronyms kept in capitals (outside trial 72, LOW-1: Actor1Name `THE US`
showed in Slack's "Actors" field as "The Us (USA, United States)")."""

from __future__ import annotations

import pytest

from watchfloor.producers.gdelt import actor_label, lookups
from watchfloor.schemas.gdelt_codes import actor_name
from watchfloor.stream_processors.engine.gdelt import gdelt_facts


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("THE US", "The US"),
        ("A US", "A US"),
        ("THE UN", "The UN"),
        ("UN SECURITY COUNCIL", "UN Security Council"),
        ("SECRETARY GENERAL OF THE UN", "Secretary General Of The UN"),
        ("KIM JONG UN", "Kim Jong Un"),  # a name's "Un" is no United Nations
        ("THE PM", "The PM"),
        ("NATO", "NATO"),
        ("THE EUROPEAN UNION", "The European Union"),
        ("NEW DELHI", "New Delhi"),  # short words that are no acronym: cased as names
        ("SAN FRANCISCO", "San Francisco"),
        ("SAINT VINCENT AND THE GRENADINES", "Saint Vincent And The Grenadines"),
        ("JOE BIDEN", "Joe Biden"),
        ("AL QAEDA", "Al Qaeda"),
        ("PORT AU PRINCE", "Port Au Prince"),
        ("vladimir putin", "Vladimir Putin"),
        ("McCain", "McCain"),  # mixed case: as the source wrote it
    ],
)
def test_actor_names_keep_acronyms_in_capitals(raw: str, shown: str) -> None:
    assert actor_name(raw) == shown


def test_slacks_actors_field_reads_the_us() -> None:
    coded = {
        "actor1": {"code": "USA", "name": "THE US", "country": "USA", "type": ""},
        "actor2": {"code": "RUS", "name": "RUSSIAN", "country": "RUS", "type": ""},
    }
    assert gdelt_facts({"gdelt": coded})["actors"] == "The US (USA, United States) → Russian (RUS, Russia)"


def test_a_documents_title_names_the_us_as_well() -> None:
    fields = ["USA", "THE US", "USA", "", "", "", "", ""]
    assert actor_label(fields, 0, lookups()) == "The US (United States)"
