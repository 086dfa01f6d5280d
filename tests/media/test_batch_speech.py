"""The real model on a recording made of two Finnish speech fixtures: each span's captions hold
that span's words, on the span's clock (the recording is transcribed once, then cut)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.batch.manifest import load_manifest
from pipeline.batch.run import BatchOptions, run_batch
from pipeline.config import load_settings
from tests.conftest import REPO, run
from tests.media.test_batch import srt_cues

pytestmark = [pytest.mark.media, pytest.mark.model]

SPEECH = REPO / "tests" / "fixtures" / "speech"
GAP = 2.0  # seconds of silence between the two answers


def words_of(name: str) -> list[dict[str, float | str]]:
    return json.loads((SPEECH / f"{name}.json").read_text(encoding="utf-8"))["words"]  # type: ignore[no-any-return]


def norm(word: str) -> str:
    return re.sub(r"[^\w]", "", word.lower())


@pytest.mark.skipif(not (SPEECH / "huostaanotto.flac").exists(), reason="speech fixtures missing")
def test_spans_of_a_real_recording_get_their_own_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(tmp_path / "cache"))
    first = json.loads((SPEECH / "huostaanotto.json").read_text(encoding="utf-8"))["duration"]
    total = first + GAP + json.loads((SPEECH / "ilmoitus.json").read_text(encoding="utf-8"))["duration"]
    rec = tmp_path / "live.mp4"
    run("-f", "lavfi", "-i", f"testsrc2=s=320x240:r=25:d={total:.3f}",
        "-i", str(SPEECH / "huostaanotto.flac"), "-i", str(SPEECH / "ilmoitus.flac"),
        "-filter_complex", f"[1:a]aresample=44100,apad=pad_dur={GAP}[a1];[2:a]aresample=44100[a2];"
        "[a1][a2]concat=n=2:v=0:a=1[a]",
        "-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-t", f"{total:.3f}",
        str(rec))
    spans = {"eka": (3.0, 6.5), "toka": (first + GAP, first + GAP + 3.5)}
    manifest = tmp_path / "live.csv"
    manifest.write_text("clip;comment;start;end;output\n" + "".join(
        f"live.mp4;Kysymys;{a:.2f};{b:.2f};{name}.mp4\n" for name, (a, b) in spans.items()), encoding="utf-8")
    report = run_batch(load_manifest(manifest, tmp_path / "out", default_captions="auto"), load_settings(),
                       BatchOptions(jobs=1, sidecar=True))
    assert [r.status for r in report.results] == ["done", "done"], [r.error for r in report.results]
    for name, fixture, offset in (("eka", "huostaanotto", 0.0), ("toka", "ilmoitus", first + GAP)):
        start, end = spans[name]
        truth = [w for w in words_of(fixture) if start <= float(w["start"]) + offset < end - 0.3]
        cues = srt_cues(tmp_path / "out" / f"{name}.srt")
        said = [norm(w) for c in cues for w in c[2].split()]
        expected = {norm(str(w["word"])) for w in truth}
        # Whisper base mishears some words; most of the span's words must be there, no other answer's.
        assert len(expected & set(said)) >= len(expected) / 2, (said, expected)
        other = {norm(str(w["word"])) for w in words_of("ilmoitus" if name == "eka" else "huostaanotto")}
        assert not (set(said) & other - expected - {"ja", "se", "on", "voi"}), said
        # On the span's clock (the recording's would be off by `start`); Whisper base places the
        # start of a long first word up to ~0.8 s late.
        assert cues[0][0] == pytest.approx(float(truth[0]["start"]) + offset - start, abs=1.0)
        # The layout may hold the last cue a little past the last word (min. duration), not more.
        assert cues[-1][1] <= end - start + 0.1
