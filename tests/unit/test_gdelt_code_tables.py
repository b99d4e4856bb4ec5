"""CAMEO event codes are checked against the codebook, not only for their shape (outside trial 70, M3: "999", "21"
and "1900" passed `rules check`, and a source filter of them kept no row: a quiet week to a desk), and a country code
of GDELT's other table is refused with the one to write (L2: `RS` among actors, `GEO` in `action_countries`)."""

from __future__ import annotations

import pytest

from watchfloor.schemas.gdelt_codes import check_cameo_countries, check_event_codes, check_fips_countries


@pytest.mark.parametrize("code", ["999", "21", "1900", "00"])
def test_a_code_no_codebook_entry_starts_with_is_refused(code: str) -> None:
    with pytest.raises(ValueError, match=f"'{code}' is no CAMEO event code nor the start of one"):
        check_event_codes([code])


def test_codes_and_prefixes_of_the_codebook_pass() -> None:
    assert check_event_codes(["19", "190", "057", "2042", "1"]) == ["19", "190", "057", "2042", "1"]


def test_a_country_code_of_the_other_table_names_the_one_to_write() -> None:
    with pytest.raises(ValueError, match="'RS' is FIPS 10-4 for Russia, whose CAMEO code is 'RUS'"):
        check_cameo_countries(["RS"])
    with pytest.raises(ValueError, match="'GEO' is CAMEO for Georgia, whose FIPS 10-4 code is 'GG'"):
        check_fips_countries(["GEO"])
