"""Personal data in comments and captions: what is masked, what is not, and what is said about it."""

from __future__ import annotations

import logging

import pytest

from pipeline.comments.privacy import (
    KINDS,
    Finding,
    clean_display_text,
    describe_findings,
    find_personal_data,
    find_personal_data_in_cues,
    mask_cues,
    mask_personal_data,
)
from pipeline.types import Cue, Word

CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(ddmmyy: str, sign: str, individual: str) -> str:
    """An identity code with its correct check character."""
    return f"{ddmmyy}{sign}{individual}{CHECK_CHARS[int(ddmmyy + individual) % 31]}"


def kinds(text: str) -> list[tuple[str, str, bool]]:
    """(kind, the found text, certain) for each finding."""
    return [(f.kind, text[f.start : f.end], f.certain) for f in find_personal_data(text)]


def assert_masked(text: str, value: str, kind: str) -> None:
    result = mask_personal_data(text)
    assert value not in result.text, result.text
    assert KINDS[kind][1] in result.text
    assert [f.kind for f in result.findings] == [kind]
    f = result.findings[0]
    assert text[f.start : f.end] == value


# --- phone numbers ------------------------------------------------------------------------------

PHONES = [
    "040 123 4567",
    "+358 40 1234567",
    "09 1234 5678",
    "040-1234567",
    "0401234567",
    "050 123 4567",
    "+358401234567",
    "(09) 1234 5678",
    "+46 70 123 45 67",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_masked(phone: str) -> None:
    assert_masked(f"soita mulle {phone} illalla", phone, "phone")


NOT_PHONES = [
    "vuonna 2023",
    "se maksoi 15,90 €",
    "klo 14.30",
    "1 000 000 euroa",
    "12.3.2024",
    "pisteet 3-2",
    "vuosina 2019-2023",
    "soita 112 jos on hätä",
    "postinumero 00100",
    "olen 15-vuotias",
    "sain 10/10",
    "21.12.2023 klo 18",
    "2 000 euroa kuussa",
    "0,5 % korko",
    "luokat 1 2 3 4 5 6",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_numbers_in_ordinary_text_are_not_masked(text: str) -> None:
    assert find_personal_data(text) == []
    assert mask_personal_data(text).text == text


# --- identity codes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    ["131052-308T", "131052a308t", hetu("010101", "-", "010"), hetu("010594", "Y", "903"),
     hetu("020500", "F", "123"), hetu("290200", "A", "002"), hetu("311299", "+", "899"), hetu("010100", "U", "950")],
)
def test_identity_codes_are_masked(code: str) -> None:
    text = f"mun hetu on {code}, eiks?"
    result = mask_personal_data(text)
    assert code not in result.text
    assert result.text == "mun hetu on [henkilötunnus], eiks?"
    assert result.findings[0].certain


@pytest.mark.parametrize("sign", list("-YXWVU"))
def test_2023_signs_of_the_1900s(sign: str) -> None:
    # Same date, individual number and check character, any sign of the century.
    assert kinds(f"hetu 131052{sign}308T") == [("identity_code", f"131052{sign}308T", True)]


@pytest.mark.parametrize("sign", list("ABCDEF"))
def test_2023_signs_of_the_2000s(sign: str) -> None:
    code = hetu("131012", sign, "308")
    assert kinds(f"hetu {code}") == [("identity_code", code, True)]


def test_leap_day_only_in_leap_years() -> None:
    assert kinds(hetu("290200", "A", "123"))[0][2] is True  # 2000 was a leap year
    assert kinds(hetu("290200", "-", "123"))[0][2] is False  # 1900 was not


@pytest.mark.parametrize(
    "code",
    [
        "131052-308U",  # wrong check character
        "310252-308Y",  # 31 February
        "131052-308",  # check character missing
        "131052-001T",  # individual number below 002
    ],
)
def test_identity_code_near_misses_are_possible_and_still_masked(code: str) -> None:
    found = find_personal_data(f"tunnus {code} ok")
    assert [(f.kind, f.certain) for f in found] == [("identity_code", False)]
    result = mask_personal_data(f"tunnus {code} ok")
    assert result.text == "tunnus [henkilötunnus] ok"
    assert mask_personal_data(f"tunnus {code} ok", include_possible=False).text == f"tunnus {code} ok"


@pytest.mark.parametrize("text", ["tilaus 123456-7890", "koodi 991399-123A", "x131052-308Ux", "131052-308Umoi"])
def test_not_identity_codes(text: str) -> None:
    assert [f for f in find_personal_data(text) if f.kind == "identity_code"] == []


# --- e-mail, links, mentions, bank accounts -----------------------------------------------------


@pytest.mark.parametrize(
    "email", ["matti.meikalainen@gmail.com", "m+tiktok@esimerkki.fi", "äiti_123@posti.fi", "a@b.co"]
)
def test_emails_are_masked(email: str) -> None:
    assert_masked(f"laita viestiä {email}.", email, "email")


@pytest.mark.parametrize(
    "url",
    [
        "https://www.esimerkki.fi/polku?x=1",
        "http://x.fi",
        "www.x.fi",
        "insta.com/abc",
        "tiktok.com/@matti",
        "discord.gg/abcd",
        "kaveri.se/profiili",
        "sub.domain.example.org",
    ],
)
def test_urls_are_masked(url: str) -> None:
    assert_masked(f"katso {url}!", url, "url")


@pytest.mark.parametrize(
    "text", ["klo 14.30", "no.se oli kivaa", "esim.joo", "v.2023", "Moi.Mitä kuuluu", "hinta 3.5 €"]
)
def test_not_urls(text: str) -> None:
    assert [f for f in find_personal_data(text) if f.kind == "url"] == []


def test_mentions_are_masked() -> None:
    result = mask_personal_data("@matti_m sano et @liisa.k on kiva.")
    assert result.text == "[käyttäjä] sano et [käyttäjä] on kiva."
    assert [f.kind for f in result.findings] == ["mention", "mention"]


def test_an_email_is_not_a_mention() -> None:
    assert kinds("posti matti@x.fi") == [("email", "matti@x.fi", True)]


@pytest.mark.parametrize("account", ["FI21 1234 5600 0007 85", "FI2112345600000785", "DE89 3704 0044 0532 0130 00"])
def test_ibans_are_masked(account: str) -> None:
    assert_masked(f"tilinumero {account} kiitos", account, "iban")


def test_iban_with_a_typo_is_possible() -> None:
    assert kinds("tili FI21 1234 5600 0007 86") == [("iban", "FI21 1234 5600 0007 86", False)]


# --- addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Asun Kotikatu 5 B 12", "Kotikatu 5 B 12"),
        ("asun Mannerheimintiellä 5.", "Mannerheimintiellä 5"),
        ("Kotikadulla 12, 00100 Helsinki on kivaa", "Kotikadulla 12, 00100 Helsinki"),
        ("osoite Koivukuja 3 as 4", "Koivukuja 3 as 4"),
        ("Männikköpolku 7a", "Männikköpolku 7a"),
        ("Rantaraitti 10", "Rantaraitti 10"),
        ("Kauppatorilla 3", "Kauppatorilla 3"),
        ("Kuusirinteellä 4", "Kuusirinteellä 4"),
        ("Mäkelänrinne 2", "Mäkelänrinne 2"),
        ("Linnanmäen 5", "Linnanmäen 5"),
        ("Kirkkopuisto 1", "Kirkkopuisto 1"),
        ("Merikaari 9 C", "Merikaari 9 C"),
        ("Storgatan 4", "Storgatan 4"),
    ],
)
def test_addresses_are_masked(text: str, address: str) -> None:
    assert_masked(text, address, "address")
    assert find_personal_data(text)[0].certain


@pytest.mark.parametrize(
    "text",
    [
        "katu oli märkä",
        "kadulla oli 5 autoa",
        "tie 5 on suljettu",
        "hiihtomäellä 3 tuntia",
        "leikkipuistossa 2 kertaa",
        "monitori 2 on rikki",
        "moottorilla 3 vuotta",
        "rannalla 12.3.",
        "Kotikatu on pitkä",
        "kuntien 5 miljoonaa",
    ],
)
def test_not_addresses(text: str) -> None:
    assert [f for f in find_personal_data(text) if f.kind == "address"] == []


def test_lowercase_street_is_only_possible() -> None:
    assert kinds("asun kotikatu 5") == [("address", "kotikatu 5", False)]


# --- several at once, warnings ------------------------------------------------------------------


def test_several_kinds_in_one_comment() -> None:
    text = "Moi! Soita 040 123 4567 tai maili liisa@x.fi, asun Kotikatu 5. @kaveri"
    result = mask_personal_data(text)
    assert result.text == "Moi! Soita [puhelinnumero] tai maili [sähköposti], asun [osoite]. [käyttäjä]"
    assert describe_findings(result.findings) == (
        "phone number at 11-23, e-mail at 34-44, street address at 51-61, @mention at 63-70"
    )


def test_describe_says_possible() -> None:
    assert describe_findings([Finding("identity_code", 3, 14, False)]) == "possible identity code at 3-14"


def test_no_personal_data_is_unchanged() -> None:
    text = "Miten lastensuojeluilmoitus tehdään? Olen 15-vuotias ja asun Espoossa."
    assert mask_personal_data(text).text == text
    assert mask_personal_data(text).findings == ()


SECRETS = ["040 123 4567", "131052-308T", "liisa.k@posti.fi", "Kotikatu 5 B 12", "FI21 1234 5600 0007 85", "@kaveri_99"]


def test_values_never_reach_logs_or_output(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    text = "Mun tiedot: " + ", ".join(SECRETS)
    result = mask_personal_data(text)
    describe = describe_findings(result.findings)
    cues = [Cue(0.0, 2.0, ("soita 040 123 4567",), tuple(Word(w, 0.0, 1.0) for w in ["soita", "040", "123", "4567"]))]
    masked_cues, _ = mask_cues(cues)
    out, err = capsys.readouterr()
    for value in SECRETS:
        assert value not in result.text
        assert value not in describe
        assert value not in caplog.text
        assert value not in out + err
        assert value not in repr(result.findings)
    assert "040 123 4567" not in repr(masked_cues)
    assert "phone number" in caplog.text  # the kinds are logged at debug level


# --- captions -----------------------------------------------------------------------------------


def cue(start: float, lines: tuple[str, ...]) -> Cue:
    words = []
    t = start
    for w in " ".join(lines).split():
        words.append(Word(w, t, t + 0.3))
        t += 0.3
    return Cue(start, t, lines, tuple(words))


def test_find_in_cues() -> None:
    cues = [cue(0.0, ("Hei kaikki!",)), cue(2.0, ("soita", "040 123 4567"))]
    found = find_personal_data_in_cues(cues)
    assert len(found) == 1
    assert (found[0].cue_index, found[0].cue_start, found[0].finding.kind) == (1, 2.0, "phone")
    assert cues[1].text[found[0].finding.start : found[0].finding.end] == "040 123 4567"


def test_mask_cues_masks_lines_and_merges_words() -> None:
    cues = [cue(0.0, ("Hei kaikki!",)), cue(2.0, ("soita numeroon", "040 123 4567, kiitos"))]
    masked, found = mask_cues(cues)
    assert masked[0] is cues[0]
    assert masked[1].lines == ("soita numeroon", "[puhelinnumero], kiitos")
    words = [w.word for w in masked[1].words]
    assert words == ["soita", "numeroon", "[puhelinnumero],", "kiitos"]
    merged = masked[1].words[2]
    assert (merged.start, merged.end) == (cues[1].words[2].start, cues[1].words[4].end)
    assert [f.finding.kind for f in found] == ["phone"]


def test_mask_cues_span_across_lines_joins_them() -> None:
    masked, _ = mask_cues([cue(0.0, ("soita 040 123", "4567 heti"))])
    assert masked[0].lines == ("soita [puhelinnumero] heti",)


# --- display cleaning ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("matti\u202egnp.exe", "mattignp.exe"),  # right-to-left override
        ("\u2066liisa\u2069", "liisa"),
        ("a\u200eb\u200fc\u061cd", "abcd"),
        ("zero\u200bwidth\u200c\u2060\u2061\u2062\u2063\u2064\ufeff", "zerowidth"),
        ("pit\u00e4\u00adk\u00e4", "pitäkä"),  # soft hyphen
        ("bell\x07 esc\x1b[31m", "bell esc[31m"),
        ("  nimi \t  toinen  ", "nimi toinen"),
        ("rivi\nrivi", "rivi rivi"),
        ("a\u0308iti", "äiti"),  # decomposed ä becomes one character (NFC)
        ("\u3164\u3164", ""),  # Hangul fillers: a blank TikTok name
        ("👩\u200d👧 perhe", "👩\u200d👧 perhe"),  # emoji joiner kept
        ("🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"),
        ("a\u200db", "ab"),  # a joiner between letters is dropped
        ("q\u0301\u0302\u0303\u0304\u0305x", "q\u0301\u0302\u0303x"),  # "zalgo" capped at 3 marks
        ("15\u00a0000 €", "15\u00a0000 €"),
        ("\U000f0000private", "private"),
    ],
)
def test_clean_display_text(raw: str, clean: str) -> None:
    assert clean_display_text(raw) == clean


def test_clean_keeps_newlines_when_asked() -> None:
    assert clean_display_text("eka  \r\n\n\n\n toka\u2028kolmas", keep_newlines=True) == "eka\n\ntoka\nkolmas"


def test_clean_keeps_flag_tags() -> None:
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert clean_display_text(f"moi {scotland}") == f"moi {scotland}"
    assert clean_display_text("hidden\U000e0068\U000e0069") == "hidden"


def test_a_valid_code_glued_to_a_word_is_still_masked() -> None:
    assert mask_personal_data("hetu131052-308Tmoi").text == "hetu[henkilötunnus]moi"


def test_keep_personal_data_masks_nothing_but_still_reports() -> None:
    text = "soita 040 123 4567"
    result = mask_personal_data(text, keep_personal_data=True)
    assert result.text == text
    assert describe_findings(result.findings) == "phone number at 6-18"
