"""Manifests as users save them: CSV from Finnish Excel, JSON, YAML; every row checked before work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.batch.cells import parse_bool, parse_time
from pipeline.batch.manifest import default_output_name, load_manifest, read_records
from pipeline.errors import InputError


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    for name in ("a.mp4", "b.mp4", "live.mp4", "kuva.png", "live.srt"):
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("12.5", 12.5), ("12,5", 12.5), ("0", 0.0), ("01:30", 90.0), ("1:30.5", 90.5), ("1:30,5", 90.5),
     ("1:02:03.5", 3723.5), ("00:00:07", 7.0), (" 7 ", 7.0), ("75", 75.0)],
)
def test_times_in_seconds_clock_and_finnish_decimal_comma(text: str, seconds: float) -> None:
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["abc", "-1", "1:75", "1:60:00", "12.5.1", "nan", "inf", "1::2"])
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)


@pytest.mark.parametrize(("text", "value"), [("kyllä", True), ("Kyllä", True), ("ei", False), ("true", True),
                                             ("FALSE", False), ("x", True), ("", None), ("yes", True), ("0", False)])
def test_booleans_in_finnish_and_english(text: str, value: bool | None) -> None:
    assert parse_bool(text) is value


def test_semicolon_csv_with_bom_as_finnish_excel_saves_it(folder: Path) -> None:
    manifest = write(folder / "m.csv", "\ufeffclip;comment;user;start;end;output;show_user\r\n"
                     "a.mp4;Voiko ilmoituksen tehdä nimettömänä?;liisa;;;vastaus.mp4;kyllä\r\n"
                     "live.mp4;Mitä sijoitus tarkoittaa?;;0,5;01:02,5;;ei\r\n")
    m = load_manifest(manifest, folder / "out")
    assert not m.invalid and not m.notes
    first, second = m.rows
    assert (first.row, second.row) == (2, 3)  # the header is row 1
    assert first.clip == folder.resolve() / "a.mp4" and first.comment == "Voiko ilmoituksen tehdä nimettömänä?"
    assert first.output == (folder / "out").resolve() / "vastaus.mp4" and first.show_user is True
    assert (second.start, second.end, second.show_user) == (0.5, 62.5, False)
    assert second.output_name == "003_live.mp4"


def test_comma_csv_without_bom_and_windows_1252(folder: Path) -> None:
    text = 'clip,comment,start\na.mp4,"Hei, mitä kuuluu? Ääkköset",00:05\n'
    for encoding in ("utf-8", "cp1252"):
        m = load_manifest(write(folder / "m.csv", text, encoding), folder)
        assert m.rows[0].comment == "Hei, mitä kuuluu? Ääkköset" and m.rows[0].start == 5.0
        assert bool(m.notes) == (encoding == "cp1252")


def test_blank_lines_keep_spreadsheet_row_numbers(folder: Path) -> None:
    text = "clip;comment\n\na.mp4;yksi\n;;\nb.mp4;\n"
    m = load_manifest(write(folder / "m.csv", text), folder)
    assert [r.row for r in m.rows] == [3]
    assert [(p.row, p.reason) for p in m.invalid] == [(5, "no comment")]


def test_json_and_yaml(folder: Path) -> None:
    rows = [{"clip": "live.mp4", "comment": "eka", "start": 12.5, "end": "1:30", "show_user": True},
            {"clip": "b.mp4", "comment": "toka", "output": "alikansio/toka.mp4", "captions": "auto"}]
    m = load_manifest(write(folder / "m.json", json.dumps(rows)), folder / "out")
    assert [r.row for r in m.rows] == [1, 2]
    assert (m.rows[0].start, m.rows[0].end, m.rows[0].show_user) == (12.5, 90.0, True)
    assert m.rows[1].output_name == "alikansio/toka.mp4" and m.rows[1].captions == "auto"
    yaml_text = ("rows:\n"
                 "  - clip: live.mp4\n    comment: 'eka: kysymys'\n    start: 1:30\n    end: '01:45,5'\n"
                 "  - {clip: a.mp4, comment: toka, captions: live.srt, show_user: ei}\n")
    m = load_manifest(write(folder / "m.yaml", yaml_text), folder / "out")
    assert not m.invalid
    assert (m.rows[0].start, m.rows[0].end) == (90.0, 105.5)  # YAML reads 1:30 as 90 itself
    assert m.rows[1].captions == str(folder.resolve() / "live.srt") and m.rows[1].show_user is False


def test_every_problem_is_listed_with_its_row(folder: Path) -> None:
    text = ("clip;comment;avatar;start;end;output;captions\n"
            "puuttuu.mp4;moi;;;;;\n"                # 2: clip missing
            "a.mp4;;;;;;\n"                          # 3: no comment
            "a.mp4;moi;;5;3;x.mp4;\n"               # 4: start after end
            "a.mp4;moi;;aa;;y.mp4;\n"               # 5: bad time
            "a.mp4;moi;eikuvaa.png;;;z.mp4;\n"      # 6: avatar missing
            "a.mp4;moi;;;;video.mov.txt;\n"         # 7: suffix
            "a.mp4;moi;;;;w.mp4;maybe\n"            # 8: captions
            "a.mp4;moi;kuva.png;;;ok.mp4;live.srt\n")  # 9: fine
    m = load_manifest(write(folder / "m.csv", text), folder / "out")
    reasons = {p.row: p.reason for p in m.invalid}
    assert "puuttuu.mp4 not found" in reasons[2]
    assert reasons[3] == "no comment"
    assert "start 5 is not before end 3" in reasons[4]
    assert "start: 'aa' is not a time" in reasons[5]
    assert "avatar eikuvaa.png not found" in reasons[6]
    assert "must end in .mp4" in reasons[7]
    assert "captions 'maybe'" in reasons[8]
    assert [r.row for r in m.rows] == [9]
    assert m.rows[0].avatar == folder.resolve() / "kuva.png"


@pytest.mark.parametrize(
    ("output", "needle"),
    [("../pois.mp4", "leaves the out dir"), ("a/../../pois.mp4", "leaves the out dir"),
     ("/tmp/pois.mp4", "absolute path"), ("C:\\Users\\pois.mp4", "absolute path"), ("~/pois.mp4", "absolute path"),
     ("..\\pois.mp4", "leaves the out dir")],
)
def test_outputs_stay_inside_the_out_dir(folder: Path, output: str, needle: str) -> None:
    m = load_manifest(write(folder / "m.csv", f"clip;comment;output\na.mp4;moi;{output}\n"), folder / "out")
    assert not m.rows and needle in m.invalid[0].reason


def test_a_symlinked_folder_cannot_lead_out(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    out = folder / "out"
    out.mkdir()
    (out / "linkki").symlink_to(tmp_path_factory.mktemp("elsewhere"))
    m = load_manifest(write(folder / "m.csv", "clip;comment;output\na.mp4;moi;linkki/x.mp4\n"), out)
    assert "leads out of the out dir" in m.invalid[0].reason


def test_two_rows_may_not_write_one_file_case_insensitively(folder: Path) -> None:
    text = "clip;comment;output\na.mp4;yksi;Vastaus.mp4\nb.mp4;kaksi;vastaus.MP4\nb.mp4;kolme;002_a.mp4\n"
    m = load_manifest(write(folder / "m.csv", text), folder / "out")
    assert [r.row for r in m.rows] == [2, 4]  # 002_a.mp4 is nobody's default here
    assert [(p.row, p.reason) for p in m.invalid] == [(3, "output vastaus.MP4 is also written by row 2")]


def test_default_names_collide_with_an_explicit_one(folder: Path) -> None:
    text = "clip;comment;output\na.mp4;yksi;003_b.mp4\nb.mp4;kaksi;\n"
    m = load_manifest(write(folder / "m.csv", text), folder / "out")
    assert "also written by row 2" in m.invalid[0].reason and m.invalid[0].row == 3


def test_no_output_may_overwrite_an_input(folder: Path) -> None:
    text = ("clip;comment;avatar;output;captions\n"
            "a.mp4;yksi;;;\n"
            "b.mp4;kaksi;kuva.png;;live.srt\n"
            "b.mp4;kolme;;../a.mp4;\n")
    m = load_manifest(write(folder / "m.csv", text), folder)  # out dir = the clips' folder
    assert "leaves the out dir" in m.invalid[0].reason
    text = "clip;comment;output\na.mp4;yksi;B.mp4\nb.mp4;kaksi;live.mp4\nlive.mp4;kolme;x.mp4\n"
    m = load_manifest(write(folder / "m.csv", text), folder)
    reasons = {p.row: p.reason for p in m.invalid}
    assert "would overwrite the clip of row 3 (b.mp4)" in reasons[2]
    assert "would overwrite the clip of row 4 (live.mp4)" in reasons[3]
    assert [r.row for r in m.rows] == [4]


def test_default_output_name_is_safe_for_any_clip_name() -> None:
    assert default_output_name(3, Path("Live 12.3. ääni!.MOV")) == "003_Live_12.3._ääni.mp4"
    assert default_output_name(12, Path("...")) == "012_clip.mp4"


def test_relative_paths_are_relative_to_the_manifest(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = folder / "taulukot"
    sub.mkdir()
    monkeypatch.chdir(folder / "..")
    m = load_manifest(write(sub / "m.csv", "clip;comment\n../a.mp4;moi\nclips\\b.mp4;moi\n"), folder / "out")
    assert m.rows[0].clip.resolve() == (folder / "a.mp4").resolve()
    # The reason quotes the cell as written, so it can be found in the sheet.
    assert m.invalid[0].reason == "clip clips\\b.mp4 not found"
    # A path written on Windows is read as one: clips\b.mp4 is b.mp4 in the folder clips.
    (sub / "clips").mkdir()
    (sub / "clips" / "b.mp4").write_bytes(b"")
    m = load_manifest(sub / "m.csv", folder / "out")
    assert m.rows[1].clip == sub.resolve() / "clips" / "b.mp4" and not m.invalid


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [("m.csv", "clip;teksti\na.mp4;moi\n", "no column comment"),
     ("m.csv", "", "no rows"),
     ("m.json", "{not json", "not valid JSON"),
     ("m.yaml", "a: [1,\n", "not valid YAML"),
     ("m.json", '{"clip": "a.mp4"}', "must be a list of rows"),
     ("m.xlsx", "PK", "unknown manifest type")],
)
def test_unreadable_manifests_fail_with_one_message(folder: Path, name: str, text: str, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        load_manifest(write(folder / name, text), folder)


def test_missing_manifest(folder: Path) -> None:
    with pytest.raises(InputError, match="manifest not found"):
        read_records(folder / "ei.csv")


def test_unknown_columns_are_noted_and_notes_ignored(folder: Path) -> None:
    m = load_manifest(write(folder / "m.csv", "Clip;Comment;Notes;Tila\na.mp4;moi;eka vastaus;valmis\n"), folder)
    assert len(m.rows) == 1 and m.notes == ("ignoring unknown columns: tila (known: clip, comment, user, avatar, "
                                            "start, end, output, captions, show_user, end_card, duet, offset)",)


def test_json_item_that_is_not_an_object(folder: Path) -> None:
    m = load_manifest(write(folder / "m.json", '[{"clip": "a.mp4", "comment": "moi"}, "b.mp4"]'), folder)
    assert [r.row for r in m.rows] == [1] and m.invalid[0].row == 2


def test_default_captions_apply_to_empty_cells(folder: Path) -> None:
    m = load_manifest(write(folder / "m.csv", "clip;comment;captions\na.mp4;moi;\nb.mp4;moi;NONE\n"), folder,
                      default_captions="auto")
    assert [r.captions for r in m.rows] == ["auto", "none"]
