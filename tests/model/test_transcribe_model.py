"""The real bundled Whisper base model on the Finnish speech fixtures (festival voices).

The fixtures (tests/fixtures/speech, made by scripts/make_speech_fixtures.py) carry the text
and festival's true word times. Checked here: word error rate, word start times, silence gives
no segments, the vocabulary prompt helps, and openai-whisper on the same weights agrees.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import pytest

from pipeline.config import load_settings
from pipeline.speech import weights as model_store
from pipeline.speech.options import TranscribeOptions, Transcriber
from pipeline.speech.transcribe import get_transcriber, load_audio, options_from_settings, transcribe_file
from pipeline.types import Transcript

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
SPEECH = REPO / "tests" / "fixtures" / "speech"
SILENT = "hiljaisuus"
# CI runs in a fresh clone with shared/ beside it.
SHARED_CHECKPOINT = REPO.parent / "shared" / "models" / "whisper-base.pt"

MAX_WER = 0.40
MAX_MEDIAN_START_ERROR = 0.15
MAX_ENGINE_DIFFERENCE = 0.10


@dataclass(frozen=True)
class Fixture:
    name: str
    path: Path
    text: str
    words: list[dict[str, Any]]


def fixtures() -> list[Fixture]:
    found = []
    for meta_path in sorted(SPEECH.glob("*.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        found.append(Fixture(meta_path.stem, meta_path.with_suffix(".flac"), meta["text"], meta["words"]))
    return found


SPOKEN = [f for f in fixtures() if f.text]

# --- text normalisation for WER: lower case, no punctuation, numbers as Finnish words ---------

_ONES = ["nolla", "yksi", "kaksi", "kolme", "neljä", "viisi", "kuusi", "seitsemän", "kahdeksan", "yhdeksän"]


def finnish_number(n: int) -> str:
    """0..999999 as one written Finnish word (compounds are written together)."""
    if n < 10:
        return _ONES[n]
    if n == 10:
        return "kymmenen"
    if n < 20:
        return _ONES[n - 10] + "toista"
    if n < 100:
        tens, ones = divmod(n, 10)
        return _ONES[tens] + "kymmentä" + (_ONES[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = "sata" if hundreds == 1 else _ONES[hundreds] + "sataa"
        return head + (finnish_number(rest) if rest else "")
    thousands, rest = divmod(n, 1000)
    head = "tuhat" if thousands == 1 else finnish_number(thousands) + "tuhatta"
    return head + (finnish_number(rest) if rest else "")


def normalise(text: str, numbers: bool = True) -> str:
    words = re.sub(r"[^\w\s]", " ", text.lower()).split()
    if numbers:
        words = [finnish_number(int(w)) if w.isdigit() and int(w) < 10**6 else w for w in words]
    return " ".join(words)


def wer(refs: list[str], hyps: list[str], numbers: bool = True) -> float:
    return float(jiwer.wer([normalise(r, numbers) for r in refs], [normalise(h, numbers) for h in hyps]))


def start_errors(fixture: Fixture, transcript: Transcript) -> list[float]:
    """|recognised start - festival start| of the words the alignment matches."""
    ref = [normalise(w["word"]) for w in fixture.words]
    hyp_words = transcript.words
    hyp = [normalise(w.word) for w in hyp_words]
    errors = []
    for block in difflib.SequenceMatcher(None, ref, hyp, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            errors.append(abs(fixture.words[block.a + k]["start"] - hyp_words[block.b + k].start))
    return errors


def report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n  {line}", end="")


# --- faster-whisper with the embedded base model -----------------------------------------------


@pytest.fixture(scope="module")
def default_options() -> TranscribeOptions:
    return options_from_settings(load_settings().transcribe)


@pytest.fixture(scope="module")
def base_model(default_options: TranscribeOptions) -> Transcriber:
    return get_transcriber(default_options)


@pytest.fixture(scope="module")
def base_results(base_model: Transcriber, default_options: TranscribeOptions) -> dict[str, Transcript]:
    """Every fixture with the default options (vocabulary on)."""
    return {f.name: base_model.transcribe(load_audio(f.path), default_options) for f in fixtures()}


@pytest.fixture(scope="module")
def base_results_no_vocabulary(
    base_model: Transcriber, default_options: TranscribeOptions
) -> dict[str, Transcript]:
    options = dataclasses.replace(default_options, vocabulary=())
    return {f.name: base_model.transcribe(load_audio(f.path), options) for f in SPOKEN}


def test_fixtures_are_there() -> None:
    assert len(SPOKEN) >= 4
    assert any(not f.text for f in fixtures())
    assert sum(f.path.stat().st_size for f in fixtures()) < 1_000_000


def test_embedded_model_assembles_to_its_hash(tmp_path: Path) -> None:
    target = model_store.embedded_base_model(tmp_path / "whisper-base-ct2")
    assert model_store.sha256_file(target / "model.bin") == model_store.BASE_MODEL_SHA256
    assert {"config.json", "tokenizer.json", "vocabulary.txt"} <= {p.name for p in target.iterdir()}


def test_word_error_rate(
    base_results: dict[str, Transcript],
    base_results_no_vocabulary: dict[str, Transcript],
    capsys: pytest.CaptureFixture[str],
) -> None:
    refs = [f.text for f in SPOKEN]
    with_vocabulary = [base_results[f.name].text for f in SPOKEN]
    without = [base_results_no_vocabulary[f.name].text for f in SPOKEN]
    scores = {
        "vocabulary": wer(refs, with_vocabulary),
        "no vocabulary": wer(refs, without),
        "vocabulary, digits as errors": wer(refs, with_vocabulary, numbers=False),
        "no vocabulary, digits as errors": wer(refs, without, numbers=False),
    }
    report(capsys, "base int8 WER: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    assert scores["vocabulary"] <= MAX_WER, with_vocabulary
    assert scores["vocabulary"] <= scores["no vocabulary"]


def test_vocabulary_spells_the_domain_compounds(base_results: dict[str, Transcript]) -> None:
    # Without the vocabulary the base model splits these: "Lasten suojelujmoituksen",
    # "huostaa noittot", "Jalki huolto".
    words = normalise(" ".join(t.text for t in base_results.values())).split()
    for term in ("lastensuojeluilmoituksen", "huostaanotto", "jälkihuolto", "asiakassuunnitelma"):
        assert term in words, words


def test_word_start_times(base_results: dict[str, Transcript], capsys: pytest.CaptureFixture[str]) -> None:
    errors = [e for f in SPOKEN for e in start_errors(f, base_results[f.name])]
    reference_words = sum(len(f.words) for f in SPOKEN)
    median = statistics.median(errors)
    report(capsys, f"word starts: median error {median:.3f} s over {len(errors)}/{reference_words} matched words")
    assert len(errors) >= reference_words / 2
    assert median <= MAX_MEDIAN_START_ERROR


def test_words_are_clean_and_ordered(base_results: dict[str, Transcript]) -> None:
    for transcript in base_results.values():
        assert transcript.engine == "faster-whisper" and transcript.model == "base"
        assert transcript.language == "fi"
        previous = 0.0
        for word in transcript.words:
            assert word.word and word.word == word.word.strip()
            assert previous - 0.05 <= word.start <= word.end <= transcript.duration
            assert 0.0 <= word.probability <= 1.0
            previous = word.start
    # punctuation stays on its word
    assert any(w.word.endswith(",") for t in base_results.values() for w in t.words)


def test_long_speech_keeps_its_accuracy(
    base_model: Transcriber, default_options: TranscribeOptions, capsys: pytest.CaptureFixture[str]
) -> None:
    """Several 30 s windows: the vocabulary prompt must not crowd out the text (it once did:
    the list plus the previous window's text overflowed the context and the model repeated
    the list)."""
    gap = np.zeros(6400, dtype=np.float32)
    order = SPOKEN * 2  # ~1 min 45 s
    audio = np.concatenate([part for f in order for part in (load_audio(f.path), gap)])
    transcript = base_model.transcribe(audio, default_options)
    score = wer([" ".join(f.text for f in order)], [transcript.text])
    report(capsys, f"{len(audio) / 16000:.0f} s of speech in one clip: WER {score:.3f}")
    assert score <= MAX_WER
    assert transcript.words[-1].end > len(audio) / 16000 - 5


def test_silent_clip_has_no_segments(base_results: dict[str, Transcript]) -> None:
    silent = base_results[SILENT]
    assert silent.segments == ()
    assert silent.duration == pytest.approx(3.0, abs=0.05)


def test_language_detection(base_model: Transcriber, default_options: TranscribeOptions) -> None:
    fixture = SPOKEN[0]
    options = dataclasses.replace(default_options, language="auto")
    assert base_model.transcribe(load_audio(fixture.path), options).language == "fi"


def test_transcribe_file_caches_the_real_result(
    base_model: Transcriber, default_options: TranscribeOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(tmp_path))
    calls = []

    class Counting:
        def transcribe(self, audio: Any, options: TranscribeOptions, *, on_progress: Any = None) -> Transcript:
            calls.append(1)
            return base_model.transcribe(audio, options, on_progress=on_progress)

    clip = SPOKEN[0].path
    first = transcribe_file(clip, default_options, transcriber=Counting())
    second = transcribe_file(clip, default_options, transcriber=Counting())
    assert len(calls) == 1
    assert second == first
    assert Transcript.from_json(first.to_json()) == first


# --- openai-whisper on the same weights ------------------------------------------------------


def openai_checkpoint() -> Path | None:
    env = os.environ.get("SOSSUT_OPENAI_WHISPER_CHECKPOINT")
    path = Path(env) if env else SHARED_CHECKPOINT
    return path if path.is_file() else None


@pytest.fixture(scope="module")
def openai_results(default_options: TranscribeOptions) -> dict[str, Transcript]:
    pytest.importorskip("whisper", reason="openai-whisper extra not installed")
    checkpoint = openai_checkpoint()
    if checkpoint is None:
        pytest.skip(f"no openai-whisper checkpoint ($SOSSUT_OPENAI_WHISPER_CHECKPOINT or {SHARED_CHECKPOINT})")
    options = dataclasses.replace(default_options, engine="openai-whisper", model=str(checkpoint))
    transcriber = get_transcriber(options)
    return {f.name: transcriber.transcribe(load_audio(f.path), options) for f in fixtures()}


def test_openai_whisper_agrees_with_faster_whisper(
    openai_results: dict[str, Transcript], base_results: dict[str, Transcript], capsys: pytest.CaptureFixture[str]
) -> None:
    faster = [base_results[f.name].text for f in SPOKEN]
    openai = [openai_results[f.name].text for f in SPOKEN]
    difference = wer(faster, openai)
    own = wer([f.text for f in SPOKEN], openai)
    report(capsys, f"openai-whisper: WER {own:.3f}, WER against faster-whisper {difference:.3f}")
    assert difference <= MAX_ENGINE_DIFFERENCE, list(zip(faster, openai, strict=True))
    assert own <= MAX_WER


def test_openai_whisper_word_times_and_silence(openai_results: dict[str, Transcript]) -> None:
    assert openai_results[SILENT].segments == ()
    errors = [e for f in SPOKEN for e in start_errors(f, openai_results[f.name])]
    assert statistics.median(errors) <= MAX_MEDIAN_START_ERROR
    assert all(t.engine == "openai-whisper" for t in openai_results.values())
