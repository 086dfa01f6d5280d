"""Config [privacy] choices (lone first names, towns, the workers' own names), captions, number
words, and the tool without Voikko."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.comments import morphology
from pipeline.comments.privacy import MaskOptions, default_options, mask_cues, mask_options, mask_personal_data
from pipeline.comments.spoken_numbers import number_word_digits
from pipeline.config import load_settings
from pipeline.errors import ConfigError
from pipeline.reply import protect_comment
from pipeline.types import Comment, Cue, Word

needs_voikko = pytest.mark.skipif(not morphology.available(), reason="Voikko is not installed")


def masked(text: str, **options: object) -> str:
    return mask_personal_data(text, options=MaskOptions(**options)).text  # type: ignore[arg-type]


# --- config -------------------------------------------------------------------------------------


def test_defaults_mask_first_names_keep_towns_and_list_no_workers() -> None:
    privacy = load_settings().privacy
    assert (privacy.mask_first_names, privacy.mask_towns, privacy.worker_names) == (True, False, [])
    assert default_options() == MaskOptions()


def test_config_file_sets_the_options(tmp_path: Path) -> None:
    user = tmp_path / "oma.toml"
    user.write_text('[privacy]\nmask_first_names = false\nmask_towns = true\nworker_names = ["Sanna", "Mikko"]\n',
                    encoding="utf-8")
    options = mask_options(load_settings(user).privacy)
    assert options == MaskOptions(mask_first_names=False, mask_towns=True, worker_names=("Sanna", "Mikko"))


@pytest.mark.parametrize(("line", "message"), [("worker_names = \"Sanna\"", "must be a list"),
                                               ("worker_names = [1, 2]", "list of strings")])
def test_worker_names_must_be_a_list_of_strings(tmp_path: Path, line: str, message: str) -> None:
    user = tmp_path / "oma.toml"
    user.write_text(f"[privacy]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(user)


@needs_voikko
def test_lone_first_names_can_be_kept_but_full_names_never() -> None:
    text = "mun kaveri jenna ja Matti Virtanen"
    assert masked(text) == "mun kaveri [nimi] ja [nimi] [nimi]"
    assert masked(text, mask_first_names=False) == "mun kaveri jenna ja [nimi] [nimi]"
    assert masked("opettaja Laaksonen", mask_first_names=False) == "opettaja [nimi]"  # a surname alone


@needs_voikko
@pytest.mark.parametrize("text", ["kiitos Sanna ja Mikko! 💕", "iso kiitos Sannalle", "Mikolle terkkuja"])
def test_workers_own_names_are_never_masked(text: str) -> None:
    assert masked(text, worker_names=("Sanna", "Mikko")) == text
    assert masked(text) != text


@needs_voikko
def test_towns_are_kept_unless_asked_or_next_to_a_school_or_street() -> None:
    assert masked("asun Tampereella ja muutan Ouluun") == "asun Tampereella ja muutan Ouluun"
    assert masked("asun Tampereella ja muutan Ouluun", mask_towns=True) == "asun [paikkakunta] ja muutan [paikkakunta]"
    assert masked("käyn Kalevan koulua Tampereella") == "käyn [koulu] [paikkakunta]"
    assert masked("asun Kotikatu 5, Tampere") == "asun [osoite], [paikkakunta]"


@needs_voikko
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ilta oli pitkä", "Ilta oli pitkä"),  # a word at the start of a sentence
        ("Onni on tärkeintä", "Onni on tärkeintä"),
        ("vene ajoi karille", "vene ajoi karille"),
        ("Toivo ja usko", "Toivo ja usko"),
        ("mun kaveri Onni sano", "mun kaveri [nimi] sano"),  # introduced by "kaveri"
        ("eilen Ilta sano mulle", "eilen [nimi] sano mulle"),  # a capital inside a sentence
        ("Eetu Mäkinen lyö", "[nimi] [nimi] lyö"),  # next to a surname
        ("laitoin viestii matille", "laitoin viestii [nimi]"),  # config/privacy/names.txt
        ("koulu alkaa", "koulu alkaa"),
        ("7 päivää ja 5e", "7 päivää ja 5e"),
    ],
)
def test_names_and_look_alikes(text: str, expected: str) -> None:
    assert masked(text) == expected


# --- number words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "digits"),
    [("nolla", "0"), ("yks", "1"), ("kaksi", "2"), ("seittemän", "7"), ("kaheksan", "8"), ("yheksän", "9"),
     ("kymmenen", "10"), ("yksitoista", "11"), ("nelkytkaks", "42"), ("kakskymmentä", "20"),
     ("viiskytviis", "55"), ("talo", None), ("kolmas", None)],
)
def test_number_words(word: str, digits: str | None) -> None:
    assert number_word_digits(word) == digits


@pytest.mark.parametrize(
    "text",
    ["nolla neljä nolla yks kaks kolme neljä viis kuus seittemän", "0 4 0 kaks kolme neljä viis kuus seittemän kasi",
     "nolla neljäkymmentä, kakskytkolme, nelkytviis, kuuskytseittemän", "plus kolme viis kahdeksan 40 123 4567"],
)
def test_phone_numbers_in_words(text: str) -> None:
    result = mask_personal_data(f"soita {text} pls")
    assert "[puhelinnumero]" in result.text and "kaks" not in result.text.replace(text, "")
    assert [f.kind for f in result.findings] == ["phone"]


def test_an_identity_code_read_aloud_with_a_valid_check_character_is_certain() -> None:
    result = mask_personal_data("yks kolme yks nolla viis kaks viiva kolme nolla kasi tee")  # 131052-308T
    assert result.text == "[henkilötunnus]"
    assert result.findings[0].certain


@pytest.mark.parametrize("text", ["yks kaks kolme nyt lähetään", "kaks kertaa", "kolme neljä viis kuus", "sain kasin ja ysin"])
def test_counting_is_not_a_phone_number(text: str) -> None:
    assert mask_personal_data(text).findings == ()


# --- captions ----------------------------------------------------------------------------------


def cue(start: float, text: str) -> Cue:
    words = tuple(Word(w, start + 0.3 * i, start + 0.3 * i + 0.3) for i, w in enumerate(text.split()))
    return Cue(start, start + 0.3 * len(words), (text,), words)


def test_captions_mask_a_number_read_aloud_and_merge_its_words() -> None:
    cues = [cue(0.0, "soita numeroon nolla neljä nolla yks kaks kolme neljä viis kuus seittemän")]
    out, found = mask_cues(cues)
    assert out[0].lines == ("soita numeroon [puhelinnumero]",)
    assert [w.word for w in out[0].words] == ["soita", "numeroon", "[puhelinnumero]"]
    assert out[0].words[-1].end == cues[0].words[-1].end
    assert [f.finding.kind for f in found] == ["phone"]


@needs_voikko
def test_captions_mask_names_and_keep_the_workers_own() -> None:
    cues = [cue(0.0, "moi olen Sanna ja kiitos Jennalle kysymyksestä")]
    out, found = mask_cues(cues, options=MaskOptions(worker_names=("Sanna",)))
    assert out[0].lines == ("moi olen Sanna ja kiitos [nimi] kysymyksestä",)
    assert "Jennalle" not in repr(out) + repr(found)


# --- without Voikko ----------------------------------------------------------------------------


@pytest.fixture
def no_voikko(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As on a machine without libvoikko: importing it fails."""
    monkeypatch.setitem(sys.modules, "libvoikko", None)  # `import libvoikko` raises ImportError
    morphology._voikko.cache_clear()
    morphology.readings.cache_clear()
    yield
    morphology._voikko.cache_clear()
    morphology.readings.cache_clear()


def test_without_voikko_the_rest_is_still_masked_and_a_warning_says_names_are_not(
    no_voikko: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    text = "Mä oon Matti Virtanen 7B Kalevan koulusta, soita nolla neljä nolla yks kaks kolme neljä viis kuus seittemän"
    assert not morphology.available()
    result = mask_personal_data(text)
    assert result.text == "Mä oon Matti Virtanen [luokka] [koulu], soita [puhelinnumero]"
    assert "names, towns and lower-case school names in comments are NOT masked" in caplog.text
    assert "Matti" not in caplog.text
    assert mask_personal_data("mun snäppi on matti_v2010").text == "mun snäppi on [käyttäjä]"
    assert mask_personal_data("mun insta on rikki").text == "mun insta on rikki"
    cleaned, warnings = protect_comment(Comment(text, "x"), load_settings())
    assert "[puhelinnumero]" in cleaned.text
    assert caplog.text.count("NOT masked") == 1  # said once, not for every comment


def test_mask_options_defaults_are_the_default_config() -> None:
    """`MaskOptions()` stands for config/default.toml where no settings are passed in."""
    from pipeline.comments import mask_options
    from pipeline.comments.findings import MaskOptions
    from pipeline.config import load_settings

    assert mask_options(load_settings().privacy) == MaskOptions()
