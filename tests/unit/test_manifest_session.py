"""`sossut session suggest`: a recorded LIVE's transcript -> one proposed span per answered question."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from pipeline.batch.manifest import load_manifest
from pipeline.batch.session import draft_csv, format_clock, suggest_spans
from pipeline.cli.batch import suggest
from pipeline.types import Segment, Transcript, Word


def speech(*parts: tuple[float, str], word_seconds: float = 0.5) -> Transcript:
    """A transcript: each part starts at its time, words follow every `word_seconds`."""
    segments = []
    for start, text in parts:
        words = tuple(Word(w, round(start + i * word_seconds, 3), round(start + (i + 1) * word_seconds - 0.05, 3))
                      for i, w in enumerate(text.split()))
        segments.append(Segment(words[0].start, words[-1].end, text, words))
    return Transcript("fi", segments[-1].end + 2.0, tuple(segments))


ANSWER = "Tämä on vastaus joka kestää jonkin aikaa ja selittää asian rauhallisesti loppuun asti."


def test_long_pauses_split_answers() -> None:
    t = speech((1.0, ANSWER), (12.0, ANSWER), (30.0, ANSWER))
    spans = suggest_spans(t)
    assert [(s.start, s.end) for s in spans] == [(0.7, 8.1), (11.7, 19.1), (29.7, 37.1)]
    assert spans[0].notes == "Tämä on vastaus joka kestää jonkin aikaa ja selittää asian rauhallisesti loppuun …"
    assert all(s.cue == "" for s in spans)


def test_cue_phrases_split_without_a_pause() -> None:
    t = speech((0.0, "Moi kaikki ja tervetuloa. " + ANSWER),
               (9.5, "Seuraava kysymys kuuluu näin: saako sossu tulla kouluun? " + ANSWER),
               (20.5, "Joku kysyi myös että mitä tapahtuu ilmoituksen jälkeen. " + ANSWER),
               (31.5, "No sitten kysyttiin vielä sijoituksesta. " + ANSWER))
    spans = suggest_spans(t)
    assert [s.cue for s in spans] == ["", "Seuraava kysymys", "Joku kysyi", "No sitten kysyttiin"]
    assert spans[1].start == 9.2 and spans[1].notes.startswith("Seuraava kysymys kuuluu näin:")
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))


def test_many_asked_opens_a_question() -> None:
    t = speech((0.0, ANSWER), (7.5, "Moni kysyi, mitä huostaanotto tarkoittaa. " + ANSWER))
    assert [s.cue for s in suggest_spans(t)] == ["", "Moni kysyi"]


def test_one_word_cues_count_only_where_a_sentence_begins() -> None:
    t = speech((0.0, "Hyvä kysymys tosiaan, ja siihen vastaan että " + ANSWER),
               (9.0, "Kysyjä haluaa tietää voiko ilmoituksen tehdä nimettömänä. " + ANSWER))
    spans = suggest_spans(t)
    assert len(spans) == 2 and spans[1].cue == "Kysyjä"


def test_short_pieces_join_their_neighbours() -> None:
    # "Seuraava kysymys." then a pause, then the answer: one span, opened by the cue.
    t = speech((0.0, ANSWER), (8.0, "Seuraava kysymys."), (12.0, ANSWER), (20.0, "Joo."), (25.0, ANSWER))
    spans = suggest_spans(t)
    assert [(s.start, s.cue) for s in spans] == [(0.0, ""), (7.7, "Seuraava kysymys"), (24.7, "")]
    assert spans[1].end >= 20.45  # "Joo." stays with the answer before it


def test_no_speech_no_spans() -> None:
    assert suggest_spans(Transcript("fi", 10.0)) == []


def test_clock_format() -> None:
    assert [format_clock(s) for s in (0, 7.25, 65.0, 3723.45)] == ["00:00.0", "00:07.3", "01:05.0", "1:02:03.5"]


def test_the_draft_is_a_manifest_the_batch_reads_back(tmp_path: Path) -> None:
    rec = tmp_path / "videot" / "live.mp4"
    rec.parent.mkdir()
    rec.write_bytes(b"x")
    t = speech((1.0, ANSWER), (12.0, "Seuraava kysymys: " + ANSWER))
    csv_path = tmp_path / "luonnos.csv"
    text = draft_csv(rec, csv_path, suggest_spans(t))
    assert text.splitlines()[0] == "clip;start;end;comment;user;output;captions;notes"
    assert text.splitlines()[1].startswith("videot/live.mp4;00:00.7;00:08.1;;;;auto;Tämä on vastaus")
    # The user writes the comments; the batch then reads the same file.
    filled = text.replace(";;;;auto;", ";Mitä kuuluu?;;;auto;")
    csv_path.write_text(filled, encoding="utf-8-sig", newline="")
    m = load_manifest(csv_path, tmp_path / "out")
    assert not m.invalid and [(r.start, r.end) for r in m.rows] == [(0.7, 8.1), (11.7, 20.1)]


def test_suggest_command_with_a_transcript_file(tmp_path: Path) -> None:
    rec = tmp_path / "live.mp4"
    rec.write_bytes(b"x")
    transcript = tmp_path / "live.json"
    transcript.write_text(speech((1.0, ANSWER), (12.0, ANSWER), (24.0, ANSWER)).to_json(), encoding="utf-8")
    out = tmp_path / "luonnos.csv"
    result = CliRunner().invoke(suggest, [str(rec), "-o", str(out), "--transcript", str(transcript)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == 4
    result = CliRunner().invoke(suggest, [str(rec), "-o", str(tmp_path / "x.txt"), "--transcript", str(transcript)])
    assert result.exit_code == 2 and "CSV" in result.output and "'--output'" in result.output
