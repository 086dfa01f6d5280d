"""Property-based tests: every valid identity code is masked, wherever it stands in Finnish text."""

from __future__ import annotations

import datetime
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.comments.privacy import clean_display_text, find_personal_data, mask_personal_data

CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
SIGNS = {1800: "+", 1900: "-YXWVU", 2000: "ABCDEF"}  # the 2023 reform added B-F and U-Y

WORDS = [
    "moi", "Hei", "mun", "hetu", "on", "henkilötunnus:", "äiti", "sanoi", "että", "älä", "kerro",
    "kenellekään", "lastensuojeluilmoitus", "sosiaalityöntekijä", "yö", "työ", "ÅÄÖ", "kiitos!",
    "vuonna", "2023", "klo", "14.30", "Kotikatu", "tervetuloa", "koulussa", "öisin", "15,90", "€",
    "(tosi", "juttu)", "😀", "kysyn:", "miks?", "ja", "sit", "tää", "-", "no",
]
BEFORE = [" ", "\n", ": ", " (", ", ", " \"", "\t"]
AFTER = [" ", "\n", ".", ")", ", ", "!", "?", "\"", ".\n"]


@st.composite
def identity_codes(draw: st.DrawFn) -> str:
    born = draw(st.dates(datetime.date(1800, 1, 1), datetime.date(2099, 12, 31)))
    sign = draw(st.sampled_from(SIGNS[born.year // 100 * 100]))
    individual = draw(st.integers(2, 899))
    digits = f"{born:%d%m}{born.year % 100:02d}{individual:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{CHECK_CHARS[int(digits) % 31]}"


finnish_text = st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join)


@settings(max_examples=400)
@given(
    code=identity_codes(),
    before=finnish_text,
    after=finnish_text,
    left=st.sampled_from(BEFORE),
    right=st.sampled_from(AFTER),
)
def test_every_valid_code_in_text_is_masked(code: str, before: str, after: str, left: str, right: str) -> None:
    text = f"{before}{left}{code}{right}{after}"
    start = len(before) + len(left)
    result = mask_personal_data(text)
    assert code not in result.text
    hits = [f for f in result.findings if f.kind == "identity_code"]
    assert len(hits) == 1
    assert (hits[0].start, hits[0].end, hits[0].certain) == (start, start + len(code), True)
    assert result.text == text[:start] + "[henkilötunnus]" + text[start + len(code) :]


@given(code=identity_codes(), wrong=st.sampled_from(CHECK_CHARS))
def test_a_wrong_check_character_is_never_certain(code: str, wrong: str) -> None:
    if wrong == code[-1]:
        wrong = CHECK_CHARS[(CHECK_CHARS.index(wrong) + 1) % len(CHECK_CHARS)]
    bad = code[:-1] + wrong
    found = [f for f in find_personal_data(f"tunnus {bad} ok") if f.kind == "identity_code"]
    assert all(not f.certain for f in found)
    # Still masked by default: a typo does not make the code less personal.
    assert bad not in mask_personal_data(f"tunnus {bad} ok").text


@given(code=identity_codes())
def test_lower_case_codes_are_found(code: str) -> None:
    found = find_personal_data(f"hetu {code.lower()}")
    assert [(f.kind, f.certain) for f in found] == [("identity_code", True)]


@given(st.text(max_size=200))
def test_any_text_gives_ordered_findings_inside_the_text(text: str) -> None:
    findings = find_personal_data(text)
    for f in findings:
        assert 0 <= f.start < f.end <= len(text)
    for a, b in zip(findings, findings[1:]):
        assert a.end <= b.start
    assert mask_personal_data(text).findings == tuple(findings)


FORBIDDEN = {chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C,
                              0x200B, 0x200C, *range(0x2060, 0x2065), 0xFEFF, 0x00AD]}


@given(st.text(max_size=100))
def test_clean_display_text_removes_controls_and_is_stable(text: str) -> None:
    clean = clean_display_text(text)
    assert not FORBIDDEN & set(clean)
    assert not any(unicodedata.category(c) == "Cc" for c in clean)
    assert clean == clean.strip()
    assert clean_display_text(clean) == clean
    assert clean_display_text(text, keep_newlines=True).replace("\n", " ").split() == clean.split()
