"""Speech to text: a clip or 16 kHz mono audio + `TranscribeOptions` -> `Transcript`.

Two engines sit behind one `Transcriber` protocol (`pipeline.speech.options`): faster-whisper
(default; CTranslate2, int8 on CPU, the embedded "base" model) and openai-whisper (optional
extra). Their adapters live in `pipeline.speech.engines`, the only module that imports a speech
engine; engine objects never leave it.

- `transcribe_file(path, options)`: decode the clip once, then return a cached transcript or
  run the engine and cache the result (keyed by the decoded audio, model and options).
- `get_transcriber(options)`: load a model once and reuse it for many clips (batch workers).
- Segments that are not speech (Whisper's well-known hallucinations on silence, such as
  "Kiitos katsomisesta") are dropped by `pipeline.speech.hallucinations`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import TranscribeSettings
from pipeline.errors import TranscribeError
from pipeline.files import atomic_write
from pipeline.speech import weights
from pipeline.speech.options import ENGINES, SAMPLE_RATE, Progress, TranscribeOptions, Transcriber
from pipeline.speech.vocabulary import DEFAULT_VOCABULARY, read_vocabulary
from pipeline.types import Transcript
from pipeline.video import decode_audio

log = logging.getLogger(__name__)

# Bump when the engines' output handling or the filter changes, so old cache entries are ignored.
_CACHE_VERSION = 1


def options_from_settings(
    settings: TranscribeSettings, *, vocabulary_file: Path | None = None, **overrides: Any
) -> TranscribeOptions:
    """Options from the [transcribe] settings, a user vocabulary file and CLI overrides.

    Args:
        settings: the [transcribe] section.
        vocabulary_file: extra terms (`--vocabulary FILE`), put before the built-in ones;
            used even when `settings.vocabulary` turns the built-in list off.
        **overrides: option values (e.g. `model=`, `language="auto"`); None means "not given".

    Raises:
        TypeError: an override names no option.
        InputError: the vocabulary file cannot be read.
    """
    terms: list[str] = []
    if vocabulary_file is not None:
        terms += read_vocabulary(vocabulary_file)
    if settings.vocabulary and DEFAULT_VOCABULARY.is_file():
        terms += read_vocabulary(DEFAULT_VOCABULARY)
    values: dict[str, Any] = {
        "engine": settings.engine,
        "model": settings.model,
        "language": settings.language,
        "vocabulary": tuple(dict.fromkeys(terms)),
        "compute_type": settings.compute_type,
        "threads": settings.threads,
        "beam_size": settings.beam_size,
        "vad_filter": settings.vad_filter,
    }
    for key, value in overrides.items():
        if key not in values:
            raise TypeError(f"options_from_settings() got an unknown option {key!r}")
        if value is not None:
            values[key] = tuple(value) if key == "vocabulary" else value
    return TranscribeOptions(**values)


def load_audio(path: Path) -> np.ndarray:
    """Decode a clip's first audio stream once, to 16 kHz mono float32 (1-D).

    Raises:
        InputError: the file cannot be opened or has no audio track.
    """
    return np.ascontiguousarray(decode_audio(path, rate=SAMPLE_RATE, layout="mono")[0])


def get_transcriber(options: TranscribeOptions) -> Transcriber:
    """Load the model named by `options` (once per process and model) and return it.

    Raises:
        TranscribeError: unknown engine, engine not installed, or the model cannot be found.
    """
    return _load(options.engine, options.model, options.compute_type, options.threads)


@lru_cache(maxsize=2)
def _load(engine: str, model: str, compute_type: str, threads: int) -> Transcriber:
    # Imported here: the engines pull in ctranslate2 (or torch), which `sossut card` never needs.
    from pipeline.speech.engines import FasterWhisperTranscriber, OpenAIWhisperTranscriber

    started = time.monotonic()
    transcriber: Transcriber
    if engine == "faster-whisper":
        transcriber = FasterWhisperTranscriber(model, compute_type=compute_type, threads=threads)
    elif engine == "openai-whisper":
        transcriber = OpenAIWhisperTranscriber(model, threads=threads)
    else:
        raise TranscribeError(f"unknown speech engine {engine!r}", hint=f"use one of: {', '.join(ENGINES)}")
    log.info("loaded %s model %s in %.1fs", engine, model, time.monotonic() - started)
    return transcriber


def transcribe_file(
    path: Path,
    options: TranscribeOptions,
    *,
    transcriber: Transcriber | None = None,
    cache: bool = True,
    on_progress: Progress | None = None,
) -> Transcript:
    """Transcribe a clip, reusing a cached transcript of the same audio and options.

    Args:
        path: a video or audio file.
        options: engine, model, language, vocabulary.
        transcriber: a loaded model to use (batch workers keep one); default `get_transcriber`.
        cache: read and write `<cache>/transcripts/`.
        on_progress: called with 0.0 .. 1.0.

    Raises:
        InputError: the clip cannot be read or has no audio.
        TranscribeError: the engine or model failed.
    """
    if on_progress:
        on_progress(0.0)
    audio = load_audio(path)
    cache_file = transcript_cache_path(audio, options)
    if cache:
        cached = _read_cached(cache_file)
        if cached is not None:
            log.info("transcript of %s from cache %s", path.name, cache_file.name)
            if on_progress:
                on_progress(1.0)
            return cached
    started = time.monotonic()
    transcriber = transcriber or get_transcriber(options)
    transcript = transcriber.transcribe(audio, options, on_progress=on_progress)
    log.info(
        "transcribed %s: %d words in %.1fs", path.name, len(transcript.words), time.monotonic() - started
    )
    if cache:
        # Private: transcripts are speech about people.
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(cache_file, transcript.to_json(), mode=0o600)
    if on_progress:
        on_progress(1.0)
    return transcript


def transcript_cache_path(audio: np.ndarray, options: TranscribeOptions) -> Path:
    """Where the transcript of `audio` with `options` is cached (a content hash, no clip name)."""
    key = {
        "version": _CACHE_VERSION,
        "audio": hashlib.sha256(np.ascontiguousarray(audio, dtype="<f4").tobytes()).hexdigest(),
        "model": weights.model_identity(options.model),
        "engine": options.engine,
        "language": options.language,
        "vocabulary": list(options.vocabulary),
        "compute_type": options.compute_type,
        "beam_size": options.beam_size,
        "vad_filter": options.vad_filter,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()
    return weights.cache_dir() / "transcripts" / f"{digest}.json"


def _read_cached(path: Path) -> Transcript | None:
    try:
        return Transcript.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable cached transcript %s: %s", path, exc)
        return None
