"""The openai-whisper adapter on a tiny random-weight checkpoint (no real model, no network).

Skipped when the optional `openai-whisper` extra (torch + openai-whisper) is not installed.
"""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import TranscribeError
from pipeline.speech import weights as model_store
from pipeline.speech.options import TranscribeOptions
from pipeline.types import Transcript
from tests.conftest import without_hanging

torch = pytest.importorskip("torch", reason="openai-whisper extra not installed")
whisper = pytest.importorskip("whisper", reason="openai-whisper extra not installed")

from pipeline.speech.engines import OpenAIWhisperTranscriber  # noqa: E402

TINY_DIMS = {
    "n_mels": 80,
    "n_audio_ctx": 1500,  # fixed by Whisper's 30 s window
    "n_audio_state": 32,
    "n_audio_head": 2,
    "n_audio_layer": 1,
    "n_vocab": 51865,  # the multilingual tokenizer
    "n_text_ctx": 64,  # short: random weights never stop early, so this caps decoding at 32 tokens
    "n_text_state": 32,
    "n_text_head": 2,
    "n_text_layer": 1,
}


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "cache"


def alignment_heads(layers: int, heads: int, on: list[tuple[int, int]]) -> bytes:
    """openai-whisper's encoding: base85 of gzip of a bool (layers, heads) array."""
    mask = np.zeros((layers, heads), dtype=bool)
    for layer, head in on:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = whisper.model.Whisper(whisper.model.ModelDimensions(**TINY_DIMS))
    with torch.no_grad():  # some parameters start as torch.empty (garbage, even NaN)
        for param in model.parameters():
            param.normal_(0.0, 0.02)
    path = tmp_path / "pieni.pt"
    torch.save(
        {"dims": TINY_DIMS, "model_state_dict": model.state_dict(), "alignment_heads": alignment_heads(1, 2, [(0, 1)])},
        path,
    )
    return path


def test_tiny_checkpoint_loads_and_transcribes(tiny_checkpoint: Path) -> None:
    transcriber = OpenAIWhisperTranscriber(str(tiny_checkpoint), threads=1)
    # The checkpoint's alignment heads were set (not Whisper's default: all upper-layer heads).
    heads = transcriber._model.alignment_heads.to_dense().numpy()
    assert heads.tolist() == [[False, True]]
    t = np.arange(16000 * 2) / 16000
    audio = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    options = TranscribeOptions(engine="openai-whisper", model=str(tiny_checkpoint), beam_size=1, vad_filter=False)
    result = transcriber.transcribe(audio, options)
    assert isinstance(result, Transcript)
    assert result.engine == "openai-whisper"
    assert result.language == "fi"
    assert result.duration == pytest.approx(2.0)
    for word in result.words:
        assert 0.0 <= word.start <= word.end <= result.duration
        assert word.word == word.word.strip()


def test_silence_with_vad_skips_decoding(tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    transcriber = OpenAIWhisperTranscriber(str(tiny_checkpoint), threads=1)
    monkeypatch.setattr(whisper, "transcribe", lambda *a, **k: pytest.fail("decoded silence"))
    options = TranscribeOptions(engine="openai-whisper", model=str(tiny_checkpoint))
    result = transcriber.transcribe(np.zeros(16000 * 3, dtype=np.float32), options)
    assert result.segments == ()


def test_not_a_checkpoint_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "rikki.pt"
    bad.write_bytes(b"not torch")
    with pytest.raises(TranscribeError, match="not an openai-whisper checkpoint"):
        OpenAIWhisperTranscriber(str(bad))


def test_missing_checkpoint_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TranscribeError, match="not found") as err:
        OpenAIWhisperTranscriber(str(tmp_path / "puuttuu.pt"))
    assert "PATH.pt" in err.value.hint


def test_official_name_offline_fails_fast_with_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_store, "network_reachable", lambda *a, **k: False)
    with pytest.raises(TranscribeError, match="cannot be downloaded") as err:
        without_hanging(lambda: OpenAIWhisperTranscriber("base"))
    assert "--model PATH.pt" in err.value.hint
