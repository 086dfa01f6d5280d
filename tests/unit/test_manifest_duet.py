"""Manifest rows that are duets (`duet`, `offset` columns) or joined clips each with its own cut
(`start`/`end` cells of `|`-separated times), their errors, their fingerprints and report cells."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest

from pipeline.batch import cells
from pipeline.batch.cells import parse_duet, parse_offset
from pipeline.batch.manifest import Manifest, ManifestRow, load_manifest
from pipeline.batch.state import BatchReport, fingerprints, write_report
from pipeline.batch.worker import RowResult
from pipeline.config import load_settings
from pipeline.speech.transcribe import TranscribeOptions

SETTINGS = load_settings()


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    for name in ("sanna.mp4", "mikko.mp4", "c.mp4"):
        (tmp_path / name).write_bytes(name.encode() * 10)
    return tmp_path


def load(folder: Path, text: str, name: str = "m.csv") -> Manifest:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return load_manifest(path, folder / "out")


def reasons(manifest: Manifest) -> dict[int, str]:
    return {p.row: p.reason for p in manifest.invalid}


def test_a_duet_row_names_two_clips_a_layout_and_an_offset(folder: Path) -> None:
    m = load(folder, "clip;comment;duet;offset;output\n"
                     "sanna.mp4 | mikko.mp4;Kaksi puhelinta;stack;1,5;annettu.mp4\n"
                     "sanna.mp4 | mikko.mp4;Äänestä;Kyllä;;löydetty.mp4\n"
                     "sanna.mp4 | mikko.mp4;Peräkkäin;ei;;peräkkäin.mp4\n"
                     "sanna.mp4 | mikko.mp4;Taaksepäin;stack;\u22120,7;taakse.mp4\n")
    assert m.invalid == ()
    given, found, joined, negative = m.rows
    assert (given.duet, given.layout, given.offset) == (True, "stack", 1.5)
    assert given.clips == (folder / "sanna.mp4", folder / "mikko.mp4")
    assert (found.duet, found.layout, found.offset) == (True, None, None)  # config's layout, offset from the sound
    assert (joined.duet, joined.offset) == (False, None)
    assert negative.offset == -0.7  # Excel's minus sign


@pytest.mark.parametrize("clip, count", [("sanna.mp4", 1), ("sanna.mp4 | mikko.mp4 | c.mp4", 3)])
def test_a_duet_row_of_other_than_two_clips_is_refused_alone(folder: Path, clip: str, count: int) -> None:
    m = load(folder, f"clip;comment;duet;output\n{clip};moi;stack;duetto.mp4\nsanna.mp4;moi;;yksin.mp4\n")
    assert reasons(m) == {2: f"a duet row needs exactly two clips, A | B; this one names {count}"}
    assert [r.row for r in m.rows] == [3]


def test_bad_duet_offset_and_layout_cells_name_their_column(folder: Path) -> None:
    m = load(folder, "clip;comment;duet;offset;start;output\n"
                     "sanna.mp4 | mikko.mp4;moi;stack;puoli;;o2.mp4\n"
                     "sanna.mp4 | mikko.mp4;moi;rinnakkain;;;o3.mp4\n"
                     "sanna.mp4 | mikko.mp4;moi;;1.5;;o4.mp4\n"
                     "sanna.mp4 | mikko.mp4;moi;stack;;3 | ;o5.mp4\n"
                     "sanna.mp4 | mikko.mp4;moi;stack;inf;;o6.mp4\n")
    why = reasons(m)
    assert why[2] == "offset: 'puoli' is not a number of seconds (write 1.5, 1,5 or -0.7)"
    assert why[3].startswith("duet 'rinnakkain': use a layout (stack") and "leave it empty" in why[3]
    assert why[4].startswith("offset lines up the two recordings of a duet row")
    assert why[5] == "a duet row uses the time both recordings cover: leave start and end empty"
    assert why[6].startswith("offset: 'inf' is not a number")
    assert m.rows == ()


def test_the_duet_cell_takes_every_layout_the_config_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_duet("Stack") == (True, "stack")
    assert parse_duet(" switch ") == (True, "switch")
    with pytest.raises(ValueError, match=r"use a layout \(stack, switch\)"):
        parse_duet("grid")
    monkeypatch.setattr(cells, "allowed_values", lambda key: ("stack",))  # the cell follows the config's choices
    with pytest.raises(ValueError, match=r"use a layout \(stack\)"):
        parse_duet("switch")
    assert parse_duet("x") == (True, None) and parse_duet("") == (False, None) and parse_duet("no") == (False, None)


@pytest.mark.parametrize("text, seconds", [("1.5", 1.5), ("+1,25", 1.25), ("-0.7", -0.7), ("\u22122", -2.0),
                                           (" 0 ", 0.0)])
def test_offsets_are_signed_seconds(text: str, seconds: float) -> None:
    assert parse_offset(text) == seconds


def test_each_clip_of_a_joined_row_has_its_own_cut(folder: Path) -> None:
    m = load(folder, "clip;comment;start;end\n"
                     "sanna.mp4 | mikko.mp4;moi;3 | 0;  | 41,5\n"
                     "sanna.mp4 | mikko.mp4 | c.mp4;moi; | 0:01.5 | ;0:04 |  | \n"
                     "sanna.mp4 | mikko.mp4;moi;;\n"
                     "sanna.mp4;moi;2;4\n")
    assert m.invalid == ()
    two, three, whole, single = m.rows
    assert two.spans == ((3.0, None), (0.0, 41.5))
    assert (two.start, two.end, two.has_span) == (3.0, None, True)
    assert three.spans == ((None, 4.0), (1.5, None), (None, None))
    assert whole.spans == ((None, None), (None, None)) and whole.more_spans == ()
    assert single.spans == ((2.0, 4.0),)


def test_per_clip_times_that_do_not_fit_say_row_column_and_clip(folder: Path) -> None:
    m = load(folder, "clip;comment;start;end;output\n"
                     "sanna.mp4 | mikko.mp4;moi;3 | 0 | 1;;o2.mp4\n"
                     "sanna.mp4 | mikko.mp4;moi;;41;o3.mp4\n"
                     "sanna.mp4 | mikko.mp4;moi;3 | kolme;;o4.mp4\n"
                     "sanna.mp4 | mikko.mp4;moi; | 5;9 | 3;o5.mp4\n"
                     "sanna.mp4;moi;1 | 2;;o6.mp4\n"
                     "sanna.mp4 | mikko.mp4;moi;;1:75 | ;o7.mp4\n")
    why = reasons(m)
    assert why[2].startswith("start '3 | 0 | 1' has 3 values for 2 clips: give one per clip")
    assert why[3].startswith("end '41' has 1 value for 2 clips") and "| 41.5" in why[3]
    assert why[4] == "start of clip 2: 'kolme' is not a time (write 12.5, 12,5, 01:30 or 1:02:03.5)"
    assert why[5] == "clip 2: start 5 is not before end 3"
    assert why[6].startswith("start '1 | 2' has 2 values for 1 clip:")
    assert why[7].startswith("end of clip 1: '1:75' is not a time")
    assert m.rows == ()
    with_rows = load(folder, "clip;comment;start;end;output\nsanna.mp4 | mikko.mp4;moi;;41;o3.mp4\n"
                             "sanna.mp4;moi;;;hyvä.mp4\n")
    assert [r.row for r in with_rows.rows] == [3]  # the others still run


def test_json_and_yaml_rows_may_list_clips_times_and_a_duet(folder: Path) -> None:
    rows = [{"clip": ["sanna.mp4", "mikko.mp4"], "comment": "moi", "start": [3, None], "end": [None, 41.5],
             "output": "yhdessä.mp4"},
            {"clip": ["sanna.mp4", "mikko.mp4"], "comment": "moi", "duet": "stack", "offset": -0.5,
             "output": "duetto.mp4"}]
    m = load(folder, json.dumps(rows), "m.json")
    assert m.invalid == ()
    joined, duet = m.rows
    assert joined.spans == ((3.0, None), (None, 41.5))
    assert (duet.duet, duet.layout, duet.offset) == (True, "stack", -0.5)
    yaml_text = ("- clip: [sanna.mp4, mikko.mp4]\n  comment: moi\n  duet: yes\n  offset: 1.25\n"
                 "- clip: [sanna.mp4, mikko.mp4]\n  comment: moi\n  start: [0, 2]\n  end: [1, 2]\n")
    m = load(folder, yaml_text, "m.yaml")
    assert m.rows[0].duet and m.rows[0].offset == 1.25 and m.rows[0].layout is None
    assert reasons(m) == {2: "clip 2: start 2 is not before end 2"}


def test_fingerprints_cover_the_duet_fields_and_per_clip_cuts(folder: Path) -> None:
    base = ManifestRow(row=2, clip=folder / "sanna.mp4", comment="moi", output=folder / "o.mp4", output_name="o.mp4",
                       more_clips=(folder / "mikko.mp4",))

    def fp(row: ManifestRow) -> str:
        return fingerprints((row,), SETTINGS, TranscribeOptions(), sidecar=False)[row.row]

    joined = fp(base)
    duet = dataclasses.replace(base, duet=True)
    assert fp(duet) != joined
    assert fp(dataclasses.replace(duet, offset=1.5)) != fp(duet)
    assert fp(dataclasses.replace(duet, layout="stack")) == fp(duet)  # the config's layout is stack
    assert fp(dataclasses.replace(base, more_spans=((1.0, None),))) != joined
    assert fp(dataclasses.replace(base, start=1.0)) != joined
    swapped = fp(dataclasses.replace(duet, clip=folder / "mikko.mp4", more_clips=(folder / "sanna.mp4",)))
    assert swapped != fp(duet)  # A and B are not interchangeable
    before = fp(duet)
    (folder / "mikko.mp4").write_bytes(b"uusi tallenne")
    assert fp(duet) != before


def test_the_report_shows_a_duet_rows_offset_and_confidence(tmp_path: Path) -> None:
    results = (RowResult(2, "done", "a.mp4 | b.mp4", "löydetty.mp4", 3.0, offset=0.7, confidence=48.25),
               RowResult(3, "done", "a.mp4 | b.mp4", "annettu.mp4", 2.0, offset=-1.5),
               RowResult(4, "done", "a.mp4", "a.mp4", 1.0))
    json_path, csv_path = write_report(BatchReport(results, tmp_path, 6.0, 1), Manifest(tmp_path / "m.csv", tmp_path, ()))
    rows = json.loads(json_path.read_text(encoding="utf-8"))["rows"]
    assert (rows[0]["offset"], rows[0]["confidence"]) == (0.7, 48.25)
    assert (rows[1]["offset"], rows[1]["confidence"]) == (-1.5, None)
    assert "offset" not in rows[2]
    table = list(csv.DictReader(io.StringIO(csv_path.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert [(r["offset"], r["confidence"]) for r in table] == [("+0,700", "48,2"), ("-1,500", "given"), ("", "")]


def test_the_batch_line_of_a_duet_row_tells_its_offset(capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.batch import BatchEvent
    from pipeline.cli.batch import PlainDisplay

    display = PlainDisplay()
    for result in (RowResult(3, "done", "a.mp4 | b.mp4", "duetto.mp4", 4.0, offset=0.7, confidence=48.2),
                   RowResult(4, "done", "a.mp4 | b.mp4", "käsin.mp4", 4.0, offset=-1.5)):
        display.handle(BatchEvent("finished", row=result.row, result=result))
    assert capsys.readouterr().out.splitlines() == ["row 3: done duetto.mp4 (4.0 s) offset +0.700 s (confidence 48)",
                                                    "row 4: done käsin.mp4 (4.0 s) offset -1.500 s (given)"]
