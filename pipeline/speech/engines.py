"""The speech engines behind `pipeline.speech.options.Transcriber`: faster-whisper and openai-whisper.

The only module that imports a speech engine (faster-whisper here, openai-whisper and torch
lazily inside their adapter). Each adapter takes 16 kHz mono float32 audio and
`TranscribeOptions` and gives back our `Transcript`; engine objects never leave this module.
Segments that are not speech are dropped by `pipeline.speech.hallucinations`.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from pipeline.errors import TranscribeError
from pipeline.speech import weights
from pipeline.speech.hallucinations import SegmentStats, drop_non_speech
from pipeline.speech.options import SAMPLE_RATE, Progress, TranscribeOptions
from pipeline.speech.vocabulary import vocabulary_prompt
from pipeline.types import Segment, Transcript, Word

log = logging.getLogger(__name__)

_OFFLINE_VALUES = ("1", "true", "yes", "on")


class EngineTranscriber:
    """Shared shape of the two adapters (each a `Transcriber`): build our Transcript from engine segments."""

    engine = ""

    def __init__(self, model: str) -> None:
        # A path is named by its last part: transcripts should not carry a user's folders.
        self.model_name = Path(model).name if weights.looks_like_path(model) else model

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, *, on_progress: Progress | None = None
    ) -> Transcript:
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        duration = len(audio) / SAMPLE_RATE
        if duration == 0:
            return Transcript(options.language or "", 0.0, (), self.model_name, self.engine)
        language, raw, speech_spans = self._run(audio, options, duration, on_progress)
        kept = drop_non_speech(raw, audio, SAMPLE_RATE, speech_spans)
        return Transcript(
            language=language,
            duration=round(duration, 3),
            segments=tuple(kept),
            model=self.model_name,
            engine=self.engine,
        )

    def _run(
        self, audio: np.ndarray, options: TranscribeOptions, duration: float, on_progress: Progress | None
    ) -> tuple[str, list[tuple[Segment, SegmentStats]], list[tuple[float, float]] | None]:
        """Run the engine: (language, segments with statistics, speech spans or None)."""
        raise NotImplementedError


def _make_segment(
    start: float, end: float, text: str, words: Iterable[tuple[str, float, float, float]], duration: float
) -> Segment:
    def clamp(t: float) -> float:
        return round(min(max(float(t), 0.0), duration), 3)

    ours = []
    for word, w_start, w_end, prob in words:
        word = word.strip()
        if word:
            s = clamp(w_start)
            ours.append(Word(word, s, max(s, clamp(w_end)), round(float(prob), 3)))
    s = clamp(start)
    return Segment(s, max(s, clamp(end)), text.strip(), tuple(ours))


class FasterWhisperTranscriber(EngineTranscriber):
    """faster-whisper (CTranslate2) on the CPU."""

    engine = "faster-whisper"

    def __init__(self, model: str, *, compute_type: str = "int8", threads: int = 2) -> None:
        super().__init__(model)
        try:
            from faster_whisper import WhisperModel
        except ImportError:
            raise TranscribeError(
                "faster-whisper is not installed", hint="reinstall sossut: pip install -e ."
            ) from None
        model_dir = _ct2_model_dir(model)
        try:
            self._model = WhisperModel(
                model_dir, device="cpu", compute_type=compute_type, cpu_threads=threads, local_files_only=True
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise TranscribeError(
                f"cannot load speech model {model}: {exc}",
                hint="check the model directory (model.bin, config.json, tokenizer.json) or try --model base",
            ) from None

    def _run(
        self, audio: np.ndarray, options: TranscribeOptions, duration: float, on_progress: Progress | None
    ) -> tuple[str, list[tuple[Segment, SegmentStats]], list[tuple[float, float]] | None]:
        prompt = vocabulary_prompt(options.vocabulary)
        try:
            segments, info = self._model.transcribe(
                audio,
                language=options.language,
                beam_size=options.beam_size,
                word_timestamps=True,
                vad_filter=options.vad_filter,
                # The term list as hotwords is in the prompt of every 30 s window; as
                # initial_prompt it would fade out after the first. The previous window's text
                # is not added: hotwords + 223 tokens of it overflow Whisper's 448-token context
                # on long speech and the model starts repeating the list. Measured on 3.6 min
                # of the fixtures: WER 0.36 plain, 0.30 hotwords, 0.23 hotwords without previous
                # text (0.68 / 0.31 with a 444-character list).
                hotwords=prompt,
                condition_on_previous_text=False,
            )
            raw = []
            # faster-whisper returns a lazy generator; list it here so timing and errors happen here.
            for seg in segments:
                words = [(w.word, w.start, w.end, w.probability) for w in seg.words or ()]
                stats = SegmentStats(seg.no_speech_prob, seg.avg_logprob, seg.compression_ratio)
                raw.append((_make_segment(seg.start, seg.end, seg.text, words, duration), stats))
                if on_progress:
                    on_progress(min(seg.end / duration, 1.0))
        except (RuntimeError, ValueError) as exc:
            raise TranscribeError(f"speech recognition failed: {exc}") from None
        # With vad_filter the engine decoded only the speech, so no spans are needed here.
        return options.language or info.language, raw, None


class OpenAIWhisperTranscriber(EngineTranscriber):
    """openai-whisper (PyTorch) on the CPU: a `.pt` checkpoint or an official model name."""

    engine = "openai-whisper"

    def __init__(self, model: str, *, threads: int = 2) -> None:
        super().__init__(model)
        try:
            import torch
            import whisper
        except ImportError:
            raise TranscribeError(
                "the openai-whisper engine is not installed",
                hint="pip install 'sossut[openai-whisper]', or use --engine faster-whisper",
            ) from None
        if threads > 0:
            torch.set_num_threads(threads)
        self._whisper = whisper
        self._model = self._load(model, whisper, torch)

    @staticmethod
    def _load(model: str, whisper: Any, torch: Any) -> Any:
        path = Path(model).expanduser()
        if path.is_file():
            try:
                checkpoint = torch.load(path, map_location="cpu", weights_only=True)
                net = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
                net.load_state_dict(checkpoint["model_state_dict"])
            except Exception as exc:  # torch raises many kinds for a bad file
                raise TranscribeError(
                    f"{path.name} is not an openai-whisper checkpoint: {exc}",
                    hint='a checkpoint is a torch file {"dims": ..., "model_state_dict": ...}',
                ) from None
            # whisper.load_model(path) sets no alignment heads for a file; without them word
            # times use all upper-layer heads and drift. Our checkpoints carry them.
            if checkpoint.get("alignment_heads"):
                net.set_alignment_heads(checkpoint["alignment_heads"])
            return net.eval()
        hint = (
            "pass --model PATH.pt with an openai-whisper checkpoint (e.g. base.pt), "
            "or use --engine faster-whisper, which has the embedded base model"
        )
        if weights.looks_like_path(model) or model not in whisper.available_models():
            raise TranscribeError(f"openai-whisper model {model!r} not found", hint=hint)
        root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper"
        url = whisper._MODELS[model]
        cached = root / os.path.basename(url)
        if not cached.is_file() and not weights.network_reachable(urlparse(url).hostname or ""):
            raise TranscribeError(
                f"openai-whisper model {model!r} is not on this machine and cannot be downloaded (no network)",
                hint=hint,
            )
        try:
            return whisper.load_model(model, device="cpu", download_root=str(root))
        except Exception as exc:  # urllib, checksum or torch errors
            raise TranscribeError(f"cannot load openai-whisper model {model!r}: {exc}", hint=hint) from None

    def _run(
        self, audio: np.ndarray, options: TranscribeOptions, duration: float, on_progress: Progress | None
    ) -> tuple[str, list[tuple[Segment, SegmentStats]], list[tuple[float, float]] | None]:
        spans = _speech_spans(audio) if options.vad_filter else None
        if spans is not None and not spans:
            # openai-whisper has no VAD of its own and invents text on silence; skip decoding.
            return options.language or "", [], spans
        prompt = vocabulary_prompt(options.vocabulary)
        extra: dict[str, Any] = {}
        if prompt is not None and "carry_initial_prompt" in inspect.signature(self._whisper.transcribe).parameters:
            # The terms in every 30 s window, as faster-whisper's hotwords (20250625+).
            extra["carry_initial_prompt"] = True
        try:
            result = self._whisper.transcribe(
                self._model,
                audio,
                language=options.language,
                task="transcribe",
                beam_size=options.beam_size,
                best_of=5,
                word_timestamps=True,
                initial_prompt=prompt,
                condition_on_previous_text=False,  # as faster-whisper above
                fp16=False,
                verbose=None,
                **extra,
            )
        except (RuntimeError, ValueError) as exc:
            raise TranscribeError(f"speech recognition failed: {exc}") from None
        raw = []
        for seg in result["segments"]:
            words = [(w["word"], w["start"], w["end"], w["probability"]) for w in seg.get("words", ())]
            stats = SegmentStats(seg["no_speech_prob"], seg["avg_logprob"], seg["compression_ratio"])
            raw.append((_make_segment(seg["start"], seg["end"], seg["text"], words, duration), stats))
        return options.language or str(result.get("language", "")), raw, spans


def _speech_spans(audio: np.ndarray) -> list[tuple[float, float]]:
    """Where Silero VAD (shipped with faster-whisper) hears speech, in seconds."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(audio, VadOptions(), sampling_rate=SAMPLE_RATE)
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]


def _ct2_model_dir(model: str) -> str:
    """A local CTranslate2 directory for `model`: "base", a directory, or a name to fetch."""
    if model == weights.BASE_MODEL_NAME:
        return str(weights.embedded_base_model())
    path = Path(model).expanduser()
    if weights.looks_like_path(model):
        if weights.is_ct2_model_dir(path):
            return str(path)
        raise TranscribeError(
            f"{model} is not a CTranslate2 Whisper model directory",
            hint="it needs model.bin and config.json; for a .pt checkpoint use --engine openai-whisper",
        )
    from faster_whisper.utils import available_models, download_model

    if "/" not in model and model not in available_models():
        raise TranscribeError(
            f"unknown speech model {model!r}",
            hint=f"use base (embedded), a local model directory, or one of: {', '.join(available_models())}",
        )
    hf_cache = str(weights.models_dir() / "huggingface")
    try:
        return str(download_model(model, local_files_only=True, cache_dir=hf_cache))
    except Exception:  # huggingface_hub: not in the local cache
        pass
    hint = "connect once to download it, or pass --model with a local CTranslate2 directory, or use --model base"
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _OFFLINE_VALUES
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    if offline or not weights.network_reachable(endpoint.hostname or "", port):
        raise TranscribeError(
            f"speech model {model!r} is not on this machine and cannot be downloaded (offline)", hint=hint
        )
    log.info("downloading speech model %s to %s", model, hf_cache)
    try:
        return str(download_model(model, cache_dir=hf_cache))
    except Exception as exc:  # network or hub errors of many kinds
        raise TranscribeError(f"cannot download speech model {model!r}: {exc}", hint=hint) from None

