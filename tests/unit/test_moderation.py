"""Moderation flags for Finnish comments (inflected forms, phrases, false positives) and comment files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pipeline.comments.moderation import (
    LISTS_DIR,
    Flag,
    check_comment,
    describe_flags,
    find_flags,
    flag_categories,
    load_lists,
    needs_personal_response,
    read_comments_file,
)
from pipeline.errors import InputError


def categories(text: str) -> list[str]:
    return flag_categories(check_comment(text))


# --- what is flagged ----------------------------------------------------------------------------

FLAGGED = [
    # insults, inflected
    ("Olet idiootti", "insult", "idiootti"),
    ("sä oot syntynyt idiootiksi", "insult", "idiootiksi"),
    ("kaikki on idiootteja", "insult", "idiootteja"),
    ("idiootit", "insult", "idiootit"),
    ("vitunidiootiksi", "insult", "vitunidiootiksi"),
    ("tyhmä kysymys?", "insult", "tyhmä"),  # flagged on purpose: a person reads the table
    ("TYHMÄÄÄÄ", "insult", "TYHMÄÄÄÄ"),
    ("id1ootti", "insult", "id1ootti"),
    ("senkin ääliö", "insult", "ääliö"),
    ("luusereita kaikki", "insult", "luusereita"),
    ("vitun paska video", "insult", "vitun"),
    ("tuki turpas", "insult", "tuki turpas"),
    # slurs
    ("ryssät pois", "slur", "ryssät"),
    ("neekerit", "slur", "neekerit"),
    # threats
    ("mä tapan sut", "threat", "tapan sut"),
    ("tapan sinut huomenna", "threat", "tapan sinut"),
    ("tiedän missä asut", "threat", "tiedän missä asut"),
    ("tapa itsesi", "threat", "tapa itsesi"),
    # sexual
    ("puhutteko seksistä", "sexual", "seksistä"),
    ("pornoa", "sexual", "pornoa"),
    # self-harm
    ("en jaksa elää", "self_harm", "en jaksa elää"),
    ("en enää jaksa elää", "self_harm", "en enää jaksa elää"),
    ("en jaksanut elää", "self_harm", "en jaksanut elää"),
    ("haluan kuolla", "self_harm", "haluan kuolla"),
    ("Haluun kuolla.", "self_harm", "Haluun kuolla"),
    ("satutan itseäni joka päivä", "self_harm", "satutan itseäni"),
    ("satutin itseäni eilen", "self_harm", "satutin itseäni"),
    ("olen itsetuhoinen", "self_harm", "itsetuhoinen"),
    ("mulla on itsetuhoisia ajatuksia", "self_harm", "itsetuhoisia"),
    ("viiltelen", "self_harm", "viiltelen"),
]


@pytest.mark.parametrize(("text", "category", "matched"), FLAGGED)
def test_flagged(text: str, category: str, matched: str) -> None:
    assert Flag(category, matched) in check_comment(text)


NOT_FLAGGED = [
    "Hyvä video, kiitos!",
    "Miten lastensuojeluilmoitus tehdään?",
    "lastensuojelu on tärkeää",
    "sosiaalityöntekijä auttoi mua",
    "kuolla nauruun",
    "mä kuolen nauruun 😂",
    "haluan kuolla nauruun",  # the allow list cancels "haluan kuolla"
    "tapaan sut huomenna",  # "tapaan" (I meet) stems like "tapan" (I kill)
    "tapan aikaa pelaamalla",
    "tämä tapa on hyvä",
    "sain vamman jalkaan",
    "mänty on puu",
    "panet sen pöydälle",
    "viileä päivä",
    "hän laski rahat",
    "mulkoili mua",
    "pelaan pellolla",
    "olen homo, miten kerron vanhemmille?",  # a young person about themselves: not a slur
    "kuolema kuuluu elämään",
    "en jaksa odottaa!",
    "mun äiti ja isä riitelee",
]


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_not_flagged(text: str) -> None:
    assert check_comment(text) == []


# Everyday comments to a child-protection account: none of them may be flagged.
ORDINARY = [
    'Mitä tapahtuu kun tekee lastensuojeluilmoituksen?',
    'Voiko sosiaalityöntekijä viedä mut pois kotoa?',
    'Miten huostaanotto toimii?',
    'Mun kaveri asuu sijaisperheessä',
    'Saako vanhemmat ottaa puhelimen pois?',
    'Paljonko kuukausiraha on 15-vuotiaalla?',
    'Oon 14v ja mun vanhemmat riitelee paljon',
    'Kiitos tosi hyvästä videosta ❤️',
    'Te ootte parhaita!',
    'Mistä saa apua jos kotona on vaikeaa?',
    'Voiko nuorisokotiin mennä vapaaehtoisesti?',
    'Mitä jos en halua puhua sossulle?',
    'Onko teillä koskaan pelottanut töissä?',
    'Kuinka kauan sijoitus kestää?',
    'Ootte niin hauskoja 😂😂',
    'Tää oli tosi tärkee video',
    'Milloin tulee uus video?',
    'Voisitteko tehdä videon koulukiusaamisesta?',
    'Mikä on jälkihuolto?',
    'Saako 16-vuotias muuttaa omaan kotiin?',
    'Pitääkö kaikesta kertoa vanhemmille?',
    'Mun pikkuveli itkee aina kun isä huutaa',
    'Sosionomiksi haluan isona!',
    'Onko perhetyö pakollista?',
    'Oon kuullut et sossut vie lapset, onks se totta?',
    'Kiitos kun puhuitte tästä aiheesta',
    'Vuonna 2019 meillä kävi perhetyöntekijä',
    'Kuinka paljon teille maksetaan?',
    'Mun kaveri sanoo et se ei jaksa koulua',
    'Tapasin eilen mun sossun ja se oli kiva',
    'Tapaatteko nuoria kasvotusten?',
    'Mä pelkään et mut otetaan huostaan',
    'Voinko soittaa teille?',
    'Se oli ihan pelleilyä vaan',
    'Hävisin pelin 3-2',
    'Kello 14.30 koulu loppuu',
    'Se maksoi 15,90 €',
    'Joulukuussa 12.12.2023 oli kiva päivä',
    'Asun Helsingissä',
    'Meidän koulun rehtori on kiva',
    'Näin eilen tosi hienon sateenkaaren',
    'Kävin torilla ostamassa mansikoita',
    'Kävelin rannalla koiran kanssa 2 tuntia',
    'Mä kuolin nauruun tolle',
    'Paras video ikinä!',
    'Aika tylsä päivä koulussa',
    'Mikä on paras tapa kertoa huolista?',
    'Kuka päättää sijoituksesta?',
    'Mul on ikävä mun siskoa',
    'Miten lastenkoti eroaa perhekodista?',
    'Koulukuraattori auttoi mua paljon',
    'Mä haluun olla sossu isona',
    'Tää on ihan paras kanava',
    'Tapahtuuko mitään jos valehtelee sossulle?',
    'Onks teil lemmikkejä?',
    'Täällä Tampereella sataa',
    'Sain koulusta 9 matikasta',
    'Mun mielestä toi oli vähän epäreilua',
    'Voiko koulupsykologille mennä ilman lupaa?',
    'Meillä oli tänään liikuntaa ja pelattiin sählyä 5-3',
    'Voitteko kertoa mitä avohuollon tukitoimet on?',
    'Meijän luokalla on 25 oppilasta',
    'Hei! Mikä teidän nimi on?',
    'Olin leirillä kesällä 2022',
    'Kaveri muutti Ouluun ja mulla on ikävä',
    'Miksi sossut ei aina kuuntele lasta?',
    'Mä en tajunnu ihan kaikkea, voitteko selittää uudestaan',
    'Mun isosisko asuu tukiasunnossa',
    'Ootteko käyneet Linnanmäellä?',
    'Kotona on välillä tosi riitaisaa',
]


def test_ordinary_comments_are_not_flagged() -> None:
    flagged = {text: check_comment(text) for text in ORDINARY if check_comment(text)}
    assert flagged == {}


def test_overlapping_hits_of_one_category_become_one() -> None:
    assert check_comment("Haluan kuolla pois.") == [Flag("self_harm", "Haluan kuolla pois")]


def test_personal_data_is_a_flag_without_the_value() -> None:
    flags = check_comment("idiootti, soita 040 123 4567")
    assert flags == [Flag("insult", "idiootti"), Flag("personal_data", "phone number at 16-28")]
    assert all("4567" not in f.matched for f in flags)


def test_words_inside_personal_data_are_not_quoted() -> None:
    # The insult is inside an e-mail address: quoting it would leak part of the address.
    assert check_comment("idiootti.matti@posti.fi") == [Flag("personal_data", "e-mail at 0-23")]


def test_invisible_characters_do_not_hide_words() -> None:
    assert flag_categories(check_comment("idi\u200boot\u00adti")) == ["insult"]


def test_self_harm_needs_a_personal_response() -> None:
    assert needs_personal_response(check_comment("en jaksa elää enää"))
    assert not needs_personal_response(check_comment("olet idiootti"))


def test_describe_flags_names_categories_only() -> None:
    flags = check_comment("vitun idiootti, haluan kuolla, soita 040 123 4567")
    text = describe_flags(flags)
    assert text == "insult, self-harm signal, personal data"
    assert "idiootti" not in text and "4567" not in text


def test_nothing_personal_in_logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    check_comment("tapan sut, asun Kotikatu 5 B 12, hetu 131052-308T")
    out, err = capsys.readouterr()
    for value in ("Kotikatu 5", "131052-308T"):
        assert value not in caplog.text + out + err


# --- lists --------------------------------------------------------------------------------------


def test_built_in_lists() -> None:
    lists = load_lists()
    assert {"insult", "slur", "threat", "sexual", "self_harm"} <= set(lists.categories)
    assert lists.allow
    assert all((LISTS_DIR / f"{c}.txt").exists() for c in lists.categories)


def test_extra_lists_add_entries_and_categories(tmp_path: Path) -> None:
    (tmp_path / "insult.txt").write_text("# omat\nhölmöläinen\n", encoding="utf-8")
    (tmp_path / "bullying.txt").write_text("kukaan ei tykkää susta\nläskimaha*\n", encoding="utf-8")
    lists = load_lists([tmp_path])
    assert "bullying" in lists.categories
    assert Flag("insult", "hölmöläisiä") in check_comment("te ootte hölmöläisiä", lists)
    assert Flag("bullying", "kukaan ei tykkää susta") in check_comment("kukaan ei tykkää susta", lists)
    assert Flag("bullying", "läskimahat") in check_comment("läskimahat", lists)
    assert check_comment("hölmöläinen") == []  # the built-in lists are unchanged


def test_an_extra_list_file(tmp_path: Path) -> None:
    file = tmp_path / "kiusaaminen.txt"
    file.write_text("=nörtti\n", encoding="utf-8-sig")
    assert find_flags("sä oot nörtti", load_lists([file])) == [Flag("kiusaaminen", "nörtti")]


def test_missing_list_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_lists([tmp_path / "puuttuu"])


def test_bad_entry_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "insult.txt").write_text("hyvä\n*\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"insult.txt:2"):
        load_lists([tmp_path])


# --- comment files ------------------------------------------------------------------------------


def test_txt(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_text("eka kommentti\n\n  toka  \r\n#hashtag on kommentti\n", encoding="utf-8")
    assert read_comments_file(path) == ["eka kommentti", "toka", "#hashtag on kommentti"]


def test_csv_comma(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('user,comment\nmatti,"moi, mitä kuuluu"\nliisa,"rivi\nrivi"\n', encoding="utf-8")
    assert read_comments_file(path) == ["moi, mitä kuuluu", "rivi\nrivi"]


def test_csv_semicolon_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("\ufeffKäyttäjä;Comment\nmatti;hyvä; video\nliisa;äö\n".encode("utf-8"))
    assert read_comments_file(path) == ["hyvä", "äö"]  # an unquoted ; splits the field, as Excel does


def test_csv_windows_1252(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("comment\nKiitos äiti\n".encode("cp1252"))
    assert read_comments_file(path) == ["Kiitos äiti"]


def test_csv_without_comment_column(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("user;text\nmatti;moi\n", encoding="utf-8")
    with pytest.raises(InputError, match="no 'comment' column"):
        read_comments_file(path)


def test_json_strings_and_objects(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(["moi", {"comment": "äiti", "user": "x"}, ""], ensure_ascii=False), encoding="utf-8")
    assert read_comments_file(path) == ["moi", "äiti"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"comment": "moi"}', "expected a JSON list"),
        ('[{"text": "moi"}]', "item 1 is not a comment"),
        ("[1, 2]", "item 1 is not a comment"),
    ],
)
def test_bad_json(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_comments_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_comments_file(tmp_path / "puuttuu.txt")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "c.txt"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(InputError, match="not a text file"):
        read_comments_file(path)


def test_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(InputError, match="save it as CSV"):
        read_comments_file(path)
