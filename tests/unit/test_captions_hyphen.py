"""Finnish hyphenation of caption words (pipeline/captions_hyphen.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.captions.hyphen import VOWELS, hyphen_points, hyphenate


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("lastensuojeluilmoitus", "las-ten-suo-je-lu-il-moi-tus"),
        ("lastensuojeluilmoituksesta", "las-ten-suo-je-lu-il-moi-tuk-ses-ta"),
        ("sijaishuoltopaikkaan", "si-jais-huol-to-paik-kaan"),
        ("kissa", "kis-sa"),
        ("talo", "ta-lo"),
        ("lauantai", "lau-an-tai"),  # au diphthong, then a break before the next vowel
        ("kauan", "kau-an"),
        ("seitsemän", "seit-se-män"),  # ei stays a diphthong: no false compound seam
        ("yhteiskunta", "yh-teis-kun-ta"),
        ("ruotsi", "ruot-si"),  # uo diphthong
        ("hyvää", "hy-vää"),  # long vowel stays together
        ("strategia", "stra-te-gia"),  # initial consonant cluster stays together, last piece >= 2 letters
        ("Lastensuojeluilmoitus,", "Las-ten-suo-je-lu-il-moi-tus,"),  # case and punctuation kept
        ("äidinkieli", "äi-din-kie-li"),
    ],
)
def test_finnish_syllable_breaks(word: str, expected: str) -> None:
    assert hyphenate(word) == expected


@pytest.mark.parametrize("word", ["oma", "aika", "ai", "radio", "x", ""])
def test_never_leaves_fewer_than_two_letters(word: str) -> None:
    for piece in hyphenate(word).split("-"):
        assert sum(ch.isalpha() for ch in piece) >= 2 or piece == word


def test_no_break_next_to_digits_or_punctuation() -> None:
    assert hyphen_points("2025") == []
    assert "-" not in hyphenate("...")


FINNISH = "abdefghijklmnoprstuvyäö"


@given(st.text(alphabet=FINNISH, min_size=1, max_size=40))
def test_hyphenation_rules_hold_for_any_word(word: str) -> None:
    points = hyphen_points(word)
    assert points == sorted(set(points))
    assert hyphenate(word).replace("-", "") == word
    for p in points:
        left, right = word[:p], word[p:]
        assert len(left) >= 2 and len(right) >= 2
        assert any(ch in VOWELS for ch in left)  # a piece is a syllable: it has a vowel
        # Either a consonant followed by a vowel starts the next piece, or the break is
        # between two vowels, never inside a long vowel ("raa-as" but not "ra-as").
        if right[0] not in VOWELS:
            assert len(right) > 1 and right[1] in VOWELS
        else:
            assert left[-1] in VOWELS
            assert left[-1] != right[0] or left[-2:] == left[-1] * 2
