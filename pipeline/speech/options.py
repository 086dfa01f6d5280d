"""What a transcription takes and what does it: `TranscribeOptions` and the `Transcriber` protocol.

Shared by `transcribe` (which loads a model and caches transcripts) and `engines` (the
adapters that implement `Transcriber`), so neither imports the other for them. Audio here is
always 16 kHz mono float32 (`SAMPLE_RATE`), as Whisper takes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pipeline.speech.weights import BASE_MODEL_NAME
from pipeline.types import Transcript

SAMPLE_RATE = 16000
ENGINES = ("faster-whisper", "openai-whisper")

Progress = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """How to transcribe: engine, model and decoding choices.

    `language` is an ISO code ("fi") or None to detect it ("auto" and "" become None).
    `vocabulary` holds domain terms given to the engine as a prompt.
    """

    engine: str = "faster-whisper"
    model: str = BASE_MODEL_NAME
    language: str | None = "fi"
    vocabulary: tuple[str, ...] = ()
    compute_type: str = "int8"
    threads: int = 2
    beam_size: int = 5
    vad_filter: bool = True

    def __post_init__(self) -> None:
        language = (self.language or "").strip().lower()
        object.__setattr__(self, "language", None if language in ("", "auto") else language)
        object.__setattr__(self, "vocabulary", tuple(self.vocabulary))


class Transcriber(Protocol):
    """A loaded speech model. Load once with `get_transcriber`, call for many clips."""

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, *, on_progress: Progress | None = None
    ) -> Transcript:
        """The transcript of 16 kHz mono float32 `audio`.

        Args:
            audio: 1-D samples at `SAMPLE_RATE`.
            options: language, vocabulary and decoding choices (engine and model are the
                loaded ones).
            on_progress: called with 0.0 .. 1.0 as the audio is decoded, if the engine can tell.

        Raises:
            TranscribeError: the engine failed.
        """
        ...


# Loads a model for some options; batch workers and the child process of one render call it.
# A module-level function, so it can be pickled by name.
TranscriberFactory = Callable[[TranscribeOptions], Transcriber]
