"""`sossut transcribe` end to end: both engines, the files it writes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.captions.write import read_captions
from pipeline.config import load_settings
from tests.conftest import REPO

pytestmark = pytest.mark.model

SPEECH = REPO / "tests" / "fixtures" / "speech"


def sossut(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=600, env=env)


def test_transcribe_writes_srt_and_json(tmp_path: Path) -> None:
    srt = tmp_path / "ilmoitus.srt"
    result = sossut("transcribe", str(SPEECH / "ilmoitus.flac"), "-o", str(srt))
    assert result.returncode == 0, result.stderr
    cues = read_captions(srt, load_settings().captions, 1080, load_settings().safe_zone)
    text = " ".join(c.text for c in cues).lower()
    assert cues and "lastensuojeluilmoitu" in text
    assert all(len(c.text.split("\n")) <= 2 for c in cues)
    out = tmp_path / "ilmoitus.json"
    assert sossut("transcribe", str(SPEECH / "ilmoitus.flac"), "-o", str(out)).returncode == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["language"] == "fi" and data["engine"] == "faster-whisper"
    assert all("start" in w and "end" in w for s in data["segments"] for w in s["words"])


def test_openai_whisper_engine_with_a_checkpoint_path(tmp_path: Path) -> None:
    pytest.importorskip("whisper", reason="openai-whisper extra not installed")
    import torch
    import whisper

    from tests.unit.test_transcribe_openai import TINY_DIMS, alignment_heads

    torch.manual_seed(0)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**TINY_DIMS))
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.02)
    checkpoint = tmp_path / "pieni.pt"
    torch.save({"dims": TINY_DIMS, "model_state_dict": model.state_dict(),
                "alignment_heads": alignment_heads(1, 2, [(0, 1)])}, checkpoint)
    out = tmp_path / "t.json"
    result = sossut("transcribe", str(SPEECH / "ilmoitus.flac"), "-o", str(out), "--engine", "openai-whisper",
                    "--model", str(checkpoint))
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["engine"] == "openai-whisper"


@pytest.mark.parametrize(("args", "needle"), [
    (["nope.mp4", "-o", "x.srt"], "file not found"),
    (["tests/fixtures/speech/ilmoitus.flac", "-o", "x.srt", "--model", "/no/such/model"], "model"),
])
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], needle: str) -> None:
    # Bad option values (an unknown caption format for -o) are usage errors: tests/unit/test_cli_options.py.
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    result = sossut("transcribe", *args)
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and needle in errors[0] and "Traceback" not in result.stderr
