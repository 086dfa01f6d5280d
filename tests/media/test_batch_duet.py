"""A batch with duet rows and a joined row whose clips each have their own cut: the duets are
lined up by the offset cell or by their sound (the report tells the offset and its confidence),
a pair that shares no sound fails alone with a hint about the offset column, the cuts give the
right length, captions `auto` of a duet row come from the worker's loaded model (and go to its
.srt/.vtt with --sidecar), and resume
makes again only the row whose duet cells changed."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.batch.manifest import load_manifest
from pipeline.batch.run import BatchOptions, run_batch
from pipeline.config import load_settings
from pipeline.types import Segment, Transcript, Word
from pipeline.video import probe
from tests.conftest import frame_at, make_clip, probe_output, run

pytestmark = pytest.mark.media

ENGINE_LOG = "SOSSUT_TEST_DUET_ENGINE_LOG"
LEAD = 0.7  # B starts this long after A
A_SECONDS, B_SECONDS = 3.0, 2.5
NOISE = "anoisesrc=d=4:c=pink:r=48000:seed=7:a=0.3"  # the room both phones hear
RED, BLUE, GREEN = (192, 0, 0), (0, 0, 192), (0, 160, 0)
SETTINGS = load_settings().with_values(encoder={"preset": "ultrafast"})


def _with_sound(video: Path, audio: str, path: Path) -> Path:
    run("-i", str(video), "-f", "lavfi", "-i", audio, "-map", "0:v", "-map", "1:a", "-c:v", "copy",
        "-c:a", "aac", "-shortest", str(path))
    video.unlink()
    return path


def _pair(folder: Path, sound_a: str, sound_b: str) -> tuple[Path, Path]:
    """A: red portrait; B: blue landscape; each with the given sound."""
    folder.mkdir(parents=True, exist_ok=True)
    a = make_clip(folder / "a.v.mp4", size=(360, 640), seconds=A_SECONDS, audio=False, source="color=c=0xc00000:")
    b = make_clip(folder / "b.v.mp4", size=(640, 360), seconds=B_SECONDS, audio=False, source="color=c=0x0000c0:")
    return _with_sound(a, sound_a, folder / "sanna.mp4"), _with_sound(b, sound_b, folder / "mikko.mp4")


def _log(line: str) -> None:
    with open(os.environ[ENGINE_LOG], "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


class LoggingTranscriber:
    def transcribe(self, audio: np.ndarray, options: Any, *, on_progress: Any = None) -> Transcript:
        seconds = len(audio) / 16000
        _log(f"transcribe {seconds:.1f}")
        words = (Word("Moi", 1.0, 1.4), Word("kaikki", 1.4, 1.9))
        return Transcript("fi", seconds, (Segment(1.0, 1.9, "Moi kaikki", words),), "fake", "faster-whisper")


def logging_factory(options: Any) -> LoggingTranscriber:
    """Imported by name in the worker process."""
    _log("load")
    return LoggingTranscriber()


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("batch-duet")
    room = _pair(folder / "huone", f"{NOISE},atrim=0:{A_SECONDS}",
                 f"{NOISE},atrim={LEAD}:{LEAD + B_SECONDS},asetpts=PTS-STARTPTS")
    # headphones: each phone hears only its own side
    apart = _pair(folder / "kuulokkeet", f"anoisesrc=d={A_SECONDS}:c=pink:r=48000:seed=1:a=0.3",
                  f"anoisesrc=d={B_SECONDS}:c=brown:r=48000:seed=99:a=0.3")
    green = make_clip(folder / "vihreä klippi.mp4", size=(360, 640), seconds=2.0, source="color=c=0x00a000:")
    blue = make_clip(folder / "sininen.mp4", size=(480, 640), seconds=2.0, fps="25", source="color=c=0x0000c0:")
    rows = [
        ["clip", "comment", "duet", "offset", "start", "end", "captions", "output"],
        [f"{room[0]} | {room[1]}", "Kaksi puhelinta", "stack", f"{LEAD}".replace(".", ","), "", "", "none",
         "annettu.mp4"],
        [f"{room[0]} | {room[1]}", "Äänestä", "kyllä", "", "", "", "auto", "löydetty.mp4"],
        [f"{green} | {blue}", "Peräkkäin, leikattuina", "", "", "0,5 | ", " | 1,2", "none", "leikatut.mp4"],
        [f"{apart[0]} | {apart[1]}", "Kuulokkeet", "stack", "", "", "", "none", "kuulokkeet.mp4"],
        [f"{room[0]} | {room[1]} | {green}", "Kolme", "stack", "", "", "", "none", "kolme.mp4"],
    ]
    manifest = folder / "vastaukset.csv"
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    manifest.write_text(buffer.getvalue(), encoding="utf-8")
    out = folder / "valmiit"
    log = folder / "engine.log"
    with pytest.MonkeyPatch.context() as env:  # the worker processes inherit these
        env.setenv(ENGINE_LOG, str(log))
        env.setenv("SOSSUT_CACHE_DIR", str(folder / "cache"))
        report = run_batch(load_manifest(manifest, out), SETTINGS, BatchOptions(jobs=1, sidecar=True, skip_invalid=True),
                           transcriber_factory=logging_factory)
        yield {"report": report, "out": out, "manifest": manifest, "rows": rows, "log": log, "green": green,
               "blue": blue}


def _result(batch: dict[str, Any], row: int) -> Any:
    return next(r for r in batch["report"].results if r.row == row)


def _near(pixel: Any, colour: tuple[int, int, int]) -> bool:
    return bool(np.abs(np.asarray(pixel, dtype=int) - np.asarray(colour)).max() < 40)


def test_a_duet_row_with_an_offset_cell_uses_it(batch: dict[str, Any]) -> None:
    result = _result(batch, 2)
    assert result.status == "done", result.error
    assert (result.offset, result.confidence) == (LEAD, None)
    out = batch["out"] / "annettu.mp4"
    info = probe_output(out)
    assert (info["width"], info["height"]) == (1080, 1920)
    assert abs(info["duration"] - (A_SECONDS - LEAD)) < 0.1
    frame = frame_at(out, 1.0)
    assert _near(frame[480, 40], RED) and _near(frame[1440, 540], BLUE), (frame[480, 40], frame[1440, 540])


def test_a_duet_row_without_offset_is_lined_up_by_its_sound(batch: dict[str, Any]) -> None:
    result = _result(batch, 3)
    assert result.status == "done", result.error
    assert result.offset == pytest.approx(LEAD, abs=0.01)
    assert result.confidence is not None and result.confidence >= SETTINGS.sync.min_confidence
    assert abs(probe_output(batch["out"] / "löydetty.mp4")["duration"] - (A_SECONDS - LEAD)) < 0.1
    # captions auto with the speaker's sound: both recordings, transcribed by the worker's one loaded model
    assert batch["log"].read_text(encoding="utf-8").splitlines() == [
        "load", f"transcribe {A_SECONDS:.1f}", f"transcribe {B_SECONDS:.1f}"]
    # "Moi kaikki" at 1.0-1.9 s of A is at 0.3-1.2 s of the duet (A's first LEAD seconds are cut)
    band = (slice(1300, 1650), slice(200, 880))  # where captions sit, over B's blue

    def lit(t: float) -> int:  # white and yellow caption pixels
        pixels = frame_at(batch["out"] / "löydetty.mp4", t)[band].astype(int)
        return int(((pixels[..., 0] > 200) & (pixels[..., 1] > 200)).sum())

    assert lit(0.8) > 500 and lit(1.6) == 0


def test_a_duet_rows_sidecars_hold_its_captions_on_the_duet_clock(batch: dict[str, Any]) -> None:
    from pipeline.captions import read_caption_source

    result = _result(batch, 3)
    assert not any("sidecar" in w for w in result.warnings), result.warnings
    for suffix in (".srt", ".vtt"):
        cues = read_caption_source(batch["out"] / f"löydetty{suffix}")
        assert isinstance(cues, list) and [c.text for c in cues] == ["Moi kaikki"], cues
        # 1.0 s of A is 0.3 s of the duet (A's first LEAD seconds are cut)
        assert cues[0].start == pytest.approx(1.0 - LEAD, abs=0.05)
    # a duet row without captions gets empty sidecars, as any row does
    assert (batch["out"] / "annettu.srt").read_text(encoding="utf-8").strip() == ""


def test_each_clip_of_a_joined_row_is_cut_as_its_cells_say(batch: dict[str, Any]) -> None:
    result = _result(batch, 4)
    assert result.status == "done", result.error
    expected = (probe(batch["green"]).duration - 0.5) + 1.2
    info = probe_output(batch["out"] / "leikatut.mp4")
    assert abs(info["duration"] - expected) <= 0.1, (info["duration"], expected)
    assert abs(result.video_seconds - expected) <= 0.1
    assert _near(frame_at(batch["out"] / "leikatut.mp4", 0.3)[1400, 540], GREEN)
    assert _near(frame_at(batch["out"] / "leikatut.mp4", expected - 0.2)[1400, 540], BLUE)


def test_a_pair_that_shares_no_sound_fails_alone_and_says_to_give_the_offset(batch: dict[str, Any]) -> None:
    failed = _result(batch, 5)
    assert failed.status == "failed"
    assert failed.error.startswith("cannot line up the two recordings by their sound")
    assert "offset column" in failed.hint and "--offset" not in failed.hint
    assert not (batch["out"] / "kuulokkeet.mp4").exists()
    invalid = _result(batch, 6)
    assert (invalid.status, invalid.error) == ("invalid", "a duet row needs exactly two clips, A | B; this one names 3")
    assert [r.status for r in batch["report"].results] == ["done", "done", "done", "failed", "invalid"]


def test_the_report_files_show_each_duet_rows_offset(batch: dict[str, Any]) -> None:
    data = json.loads((batch["out"] / "report.json").read_text(encoding="utf-8"))
    rows = {r["row"]: r for r in data["rows"]}
    assert (rows[2]["offset"], rows[2]["confidence"]) == (LEAD, None)
    assert rows[3]["offset"] == pytest.approx(LEAD, abs=0.01) and rows[3]["confidence"] > 12
    assert "offset" not in rows[4] and "offset column" in rows[5]["error"]
    table = {int(r["row"]): r for r in csv.DictReader(
        io.StringIO((batch["out"] / "report.csv").read_text(encoding="utf-8-sig")), delimiter=";")}
    assert (table[2]["offset"], table[2]["confidence"]) == ("+0,700", "given")
    assert table[3]["offset"].startswith("+0,7") and float(table[3]["confidence"].replace(",", ".")) > 12
    assert table[4]["offset"] == ""


def test_resume_skips_finished_duets_and_remakes_one_whose_offset_changed(batch: dict[str, Any]) -> None:
    manifest, out = batch["manifest"], batch["out"]
    again = run_batch(load_manifest(manifest, out), SETTINGS, BatchOptions(jobs=1, sidecar=True, skip_invalid=True, resume=True),
                      transcriber_factory=logging_factory)
    assert [(r.row, r.status) for r in again.results] == [(2, "skipped"), (3, "skipped"), (4, "skipped"),
                                                          (5, "failed"), (6, "invalid")]
    rows = [list(r) for r in batch["rows"]]
    rows[1][3] = "1,2"  # row 2: another offset
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    changed = manifest.with_name("muutettu.csv")
    changed.write_text(buffer.getvalue(), encoding="utf-8")
    remade = run_batch(load_manifest(changed, out), SETTINGS, BatchOptions(jobs=1, sidecar=True, skip_invalid=True, resume=True),
                       transcriber_factory=logging_factory)
    assert [(r.row, r.status) for r in remade.results] == [(2, "done"), (3, "skipped"), (4, "skipped"),
                                                           (5, "failed"), (6, "invalid")]
    assert abs(probe_output(out / "annettu.mp4")["duration"] - (A_SECONDS - 1.2)) < 0.1
