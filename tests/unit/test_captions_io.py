"""Caption files: SRT/VTT/JSON/ASS round trips, edited files read back, cutting spans (pipeline/captions/write.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from pipeline.captions.write import (
    export_transcript,
    layout_cues,
    read_caption_source,
    read_captions,
    shift_cues,
    write_ass,
    write_json,
    write_subtitles,
)
from pipeline.errors import InputError, OutputError
from pipeline.types import Cue, Transcript, Word
from tests.unit.test_captions_layout import SAFE, STYLE, speak, transcript, word_streams

TEXT = "Hei kaikki! Tänään puhutaan siitä, miten lastensuojeluilmoitus tehdään. Äiti ja isä, kuunnelkaa."


def sample_cues() -> list[Cue]:
    return layout_cues(transcript(speak(TEXT)), STYLE, 1080, SAFE)


def assert_same_cues(a: list[Cue], b: list[Cue], tolerance: float = 0.01) -> None:
    assert [c.lines for c in a] == [c.lines for c in b]
    for x, y in zip(a, b):
        assert x.start == pytest.approx(y.start, abs=tolerance)
        assert x.end == pytest.approx(y.end, abs=tolerance)


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".srt", ".vtt"])
def test_subtitles_round_trip(tmp_path: Path, suffix: str) -> None:
    cues = sample_cues()
    path = tmp_path / f"captions{suffix}"
    write_subtitles(cues, path)
    back = read_captions(path, STYLE, 1080, SAFE)
    assert_same_cues(cues, back)
    # Word times are spread over each cue by characters, in order and inside the cue.
    for cue in back:
        assert [w.word for w in cue.words] == " ".join(cue.lines).split()
        assert cue.words[0].start == cue.start and cue.words[-1].end == cue.end
        assert all(a.end == pytest.approx(b.start) for a, b in zip(cue.words, cue.words[1:]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(word_streams())
def test_random_cues_round_trip_through_srt_vtt_json(tmp_path: Path, words: list[Word]) -> None:
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    for suffix in (".srt", ".vtt"):
        path = tmp_path / f"c{suffix}"
        write_subtitles(cues, path)
        assert_same_cues(cues, read_captions(path, STYLE, 1080, SAFE))
    path = tmp_path / "c.json"
    write_json(cues, path)
    assert read_captions(path, STYLE, 1080, SAFE) == cues


@pytest.mark.parametrize("suffix", [".srt", ".vtt"])
def test_special_characters_survive_subtitle_round_trip(tmp_path: Path, suffix: str) -> None:
    lines = ("<3 & <b>not bold</b> {\\pos(1,1)}", "\\N ei rivinvaihto, a > b")
    cue = Cue(1.0, 3.0, lines, ())
    path = tmp_path / f"c{suffix}"
    write_subtitles([cue], path)
    text = path.read_text(encoding="utf-8")
    if suffix == ".vtt":
        assert "&lt;3 &amp; &lt;b&gt;" in text  # VTT must escape markup characters
    back = read_captions(path, STYLE, 1080, SAFE)
    assert back[0].lines == lines


def test_json_round_trip_keeps_words_and_scale(tmp_path: Path) -> None:
    cues = [Cue(0.5, 2.0, ("lastensuojeluilmoituksesta",), (Word("lastensuojeluilmoituksesta", 0.5, 1.9, 0.8),), 0.75)]
    path = tmp_path / "cues.json"
    write_json(cues, path)
    assert json.loads(path.read_text(encoding="utf-8"))["cues"][0]["font_scale"] == 0.75
    assert read_caption_source(path) == cues


def test_json_round_trip_keeps_a_duets_speaker(tmp_path: Path) -> None:
    """A duet's cue keeps who says it (its colour); a bad speaker value reads as the usual colour."""
    cues = [Cue(0.5, 1.5, ("Hei äiti",), (Word("Hei", 0.5, 0.9), Word("äiti", 1.0, 1.5)), speaker=1),
            Cue(2.0, 3.0, ("Moi",), (Word("Moi", 2.0, 3.0),), speaker=0),
            Cue(3.5, 4.0, ("Kuka?",), (Word("Kuka?", 3.5, 4.0),))]
    path = tmp_path / "cues.json"
    write_json(cues, path)
    assert [c.speaker for c in read_caption_source(path)] == [1, 0, None]
    data = json.loads(path.read_text(encoding="utf-8"))
    data["cues"][0]["speaker"], data["cues"][1]["speaker"] = "1", True
    path.write_text(json.dumps(data), encoding="utf-8")
    assert [c.speaker for c in read_caption_source(path)] == [None, None, None]


def test_transcript_json_is_read_and_laid_out(tmp_path: Path) -> None:
    tr = transcript(speak(TEXT))
    path = tmp_path / "transcript.json"
    write_json(tr, path)
    assert read_caption_source(path) == tr
    assert read_captions(path, STYLE, 1080, SAFE) == layout_cues(tr, STYLE, 1080, SAFE)


def test_design_md_transcript_json(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        '{"language": "fi", "duration": 12.4, "model": "base", "engine": "faster-whisper",'
        ' "segments": [{"start": 0.0, "end": 3.1, "text": "Hei kaikki!",'
        ' "words": [{"word": "Hei", "start": 0.0, "end": 0.4, "probability": 0.93},'
        ' {"word": " kaikki!", "start": 0.5, "end": 1.0}]}]}',
        encoding="utf-8",
    )
    cues = read_captions(path, STYLE, 1080, SAFE)
    assert [c.lines for c in cues] == [("Hei kaikki!",)]
    assert cues[0].words[0] == Word("Hei", 0.0, 0.4, 0.93)


def test_our_ass_reads_back_as_the_same_cues(tmp_path: Path) -> None:
    cues = sample_cues()
    path = tmp_path / "captions.ass"
    write_ass(cues, path, STYLE, (1080, 1920), SAFE)
    back = read_captions(path, STYLE, 1080, SAFE)
    assert_same_cues(cues, back)
    for a, b in zip(cues, back):  # word starts come back from the highlight windows
        assert [w.word for w in a.words] == [w.word for w in b.words]
        for x, y in zip(a.words[1:], b.words[1:]):
            assert x.start == pytest.approx(y.start, abs=0.01)


# --- files people edit ------------------------------------------------------------------------


def test_foreign_srt_markup_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "edited.srt"
    path.write_bytes(
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<font color=\"#ff0000\">Hei</font> <b>kaikki</b>!\r\n\r\n"
        "2\r\n00:00:03,000 --> 00:00:05,000\r\n{\\an8}Se maksoi\r\n100\r\n".encode()
    )
    cues = read_captions(path, STYLE, 1080, SAFE)
    assert [c.lines for c in cues] == [("Hei kaikki!",), ("Se maksoi", "100")]
    assert (cues[1].start, cues[1].end) == (3.0, 5.0)
    assert [w.word for w in cues[1].words] == ["Se", "maksoi", "100"]


def test_foreign_vtt(tmp_path: Path) -> None:
    path = tmp_path / "edited.vtt"
    path.write_text(
        "WEBVTT - tekstitys\n\nNOTE tämä on kommentti\n\nSTYLE\n::cue { color: yellow }\n\n"
        "intro\n00:01.000 --> 00:02.000 align:start position:10%\n<c.yellow>Moi</c> &amp; <00:01.500>tervetuloa\n\n"
        "01:00:00.000 --> 01:00:01.250\n<v Puhuja>Loppu</v>\n",
        encoding="utf-8",
    )
    cues = read_captions(path, STYLE, 1080, SAFE)
    assert [c.lines for c in cues] == [("Moi & tervetuloa",), ("Loppu",)]
    assert cues[1].start == 3600.0 and cues[1].end == 3601.25


def test_overlapping_and_unsorted_cues_are_tidied(tmp_path: Path) -> None:
    path = tmp_path / "o.srt"
    path.write_text(
        "1\n00:00:05,000 --> 00:00:06,000\nkolmas\n\n2\n00:00:01,000 --> 00:00:04,000\neka\n\n"
        "3\n00:00:03,000 --> 00:00:05,500\ntoka\n\n4\n00:00:07,000 --> 00:00:07,000\ntyhjä aika\n\n"
        "5\n00:00:08,000 --> 00:00:09,000\n\n",
        encoding="utf-8",
    )
    cues = read_captions(path, STYLE, 1080, SAFE)
    assert [(c.start, c.end, c.lines) for c in cues] == [
        (1.0, 3.0, ("eka",)), (3.0, 5.0, ("toka",)), (5.0, 6.0, ("kolmas",))
    ]


@pytest.mark.parametrize(
    ("name", "content"),
    [("x.txt", "hei"), ("x.json", "{not json"), ("x.json", '{"cues": [{"start": 1}]}'), ("x.json", "3")],
)
def test_bad_caption_files_raise_input_error(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError):
        read_captions(path, STYLE, 1080, SAFE)


def test_missing_caption_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_captions(tmp_path / "puuttuu.srt", STYLE, 1080, SAFE)


# --- transcribe -o and cutting ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".srt", ".vtt", ".ass"])
def test_export_transcript_by_suffix(tmp_path: Path, suffix: str) -> None:
    tr = transcript(speak(TEXT))
    path = tmp_path / f"out{suffix}"
    export_transcript(tr, path, STYLE, (1080, 1920), SAFE)
    if suffix == ".json":
        assert Transcript.from_json(path.read_text(encoding="utf-8")) == tr
    else:
        assert_same_cues(read_captions(path, STYLE, 1080, SAFE), layout_cues(tr, STYLE, 1080, SAFE))


def test_export_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        export_transcript(transcript(speak(TEXT)), tmp_path / "out.txt", STYLE, (1080, 1920), SAFE)
    with pytest.raises(OutputError):
        write_subtitles([], tmp_path / "out.ass")


def test_shift_cues_cuts_a_span_of_a_long_recording() -> None:
    def cue(a: float, b: float, text: str) -> Cue:
        return Cue(a, b, (text,), (Word(text, a, b),))

    # "pois" has only 0.05 s inside the span: a flash, dropped.
    cues = [cue(1.0, 2.0, "ennen"), cue(9.0, 10.05, "pois"), cue(12.0, 13.0, "sisällä"), cue(19.5, 21.0, "loppu")]
    out = shift_cues(cues, offset=10.0, start=10.0, end=20.0)
    assert [(c.lines[0], round(c.start, 3), round(c.end, 3)) for c in out] == [
        ("sisällä", 2.0, 3.0), ("loppu", 9.5, 10.0)
    ]
    straddle = shift_cues([cue(9.5, 10.5, "reuna")], offset=10.0, start=10.0, end=20.0)
    assert [(c.start, c.end) for c in straddle] == [(0.0, 0.5)]
    assert straddle[0].words[0].start == 0.0 and straddle[0].words[0].end == 0.5


def test_shift_cues_keeps_layout_rules() -> None:
    words = speak(TEXT * 3, gap=0.1)
    cues = layout_cues(transcript(words), STYLE, 1080, SAFE)
    span = shift_cues(cues, offset=5.0, start=5.0, end=15.0)
    assert span and all(0.0 <= c.start < c.end <= 10.0 for c in span)
    assert all(a.end <= b.start for a, b in zip(span, span[1:]))
