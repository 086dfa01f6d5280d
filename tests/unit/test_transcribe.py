"""The speech stage without a model: options, vocabulary prompt, audio decoding, transcript cache."""

from __future__ import annotations

import dataclasses
import pickle
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline.config import load_settings
from pipeline.errors import InputError
from pipeline.speech import transcribe, vocabulary
from pipeline.speech.options import Progress, TranscribeOptions
from pipeline.speech.transcribe import load_audio, options_from_settings, transcribe_file, transcript_cache_path
from pipeline.speech.vocabulary import read_vocabulary, vocabulary_prompt
from pipeline.types import Segment, Transcript, Word


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(folder))
    return folder


def write_wav(path: Path, audio: np.ndarray, rate: int = 16000, channels: int = 1) -> Path:
    pcm = np.clip(audio * 32767, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def tone(seconds: float, rate: int = 16000, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


class CountingTranscriber:
    """A fake engine: returns one fixed Finnish segment and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, *, on_progress: Progress | None = None
    ) -> Transcript:
        self.calls += 1
        words = (Word("Hei", 0.1, 0.4, 0.9), Word("kaikki!", 0.5, 0.9, 0.8))
        return Transcript(
            language=options.language or "fi",
            duration=len(audio) / 16000,
            segments=(Segment(0.1, 0.9, "Hei kaikki!", words),),
            model=options.model,
            engine="fake",
        )


# --- options ---------------------------------------------------------------------------------


def test_language_auto_means_detect() -> None:
    assert TranscribeOptions(language="auto").language is None
    assert TranscribeOptions(language="").language is None
    assert TranscribeOptions(language=" FI ").language == "fi"
    assert dataclasses.replace(TranscribeOptions(), language="auto").language is None


def test_options_pickle_for_batch_workers() -> None:
    options = TranscribeOptions(vocabulary=("huostaanotto",), language="auto")
    assert pickle.loads(pickle.dumps(options)) == options


def test_options_from_settings_defaults() -> None:
    options = options_from_settings(load_settings().transcribe)
    assert options.engine == "faster-whisper"
    assert options.model == "base"
    assert options.language == "fi"
    assert options.compute_type == "int8"
    assert options.vad_filter is True
    assert "lastensuojeluilmoitus" in options.vocabulary
    assert "kiireellinen sijoitus" in options.vocabulary


def test_options_overrides_and_none_means_not_given() -> None:
    settings = load_settings().transcribe
    options = options_from_settings(settings, model="/x/model", language="auto", engine=None, threads=1)
    assert options.model == "/x/model"
    assert options.language is None
    assert options.engine == "faster-whisper"
    assert options.threads == 1
    with pytest.raises(TypeError, match="temperature"):
        options_from_settings(settings, temperature=0.2)


def test_user_vocabulary_first_and_without_builtin(tmp_path: Path) -> None:
    extra = tmp_path / "sanat.txt"
    extra.write_text("\ufeff# oma sanasto\nperhesosiaalityö\n\nhuostaanotto  # jo listalla\nLape-keskus\n", "utf-8")
    settings = load_settings().transcribe
    options = options_from_settings(settings, vocabulary_file=extra)
    assert options.vocabulary[:3] == ("perhesosiaalityö", "huostaanotto", "Lape-keskus")
    assert options.vocabulary.count("huostaanotto") == 1
    only_user = options_from_settings(dataclasses.replace(settings, vocabulary=False), vocabulary_file=extra)
    assert only_user.vocabulary == ("perhesosiaalityö", "huostaanotto", "Lape-keskus")
    assert options_from_settings(dataclasses.replace(settings, vocabulary=False)).vocabulary == ()


def test_missing_vocabulary_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="vocabulary"):
        read_vocabulary(tmp_path / "puuttuu.txt")


def test_builtin_vocabulary_file_is_clean() -> None:
    terms = read_vocabulary(vocabulary.DEFAULT_VOCABULARY)
    assert len(terms) == len(set(terms)) >= 16
    assert all(t == t.strip() and "#" not in t for t in terms)
    # The whole built-in list fits in the prompt.
    assert vocabulary_prompt(terms) == ", ".join(terms)


# --- vocabulary prompt -----------------------------------------------------------------------


def test_prompt_is_a_plain_term_list() -> None:
    prompt = vocabulary_prompt(["huostaanotto", "lapsen  etu", "Huostaanotto", " ", "sijaisperhe"])
    assert prompt == "huostaanotto, lapsen etu, sijaisperhe"
    assert not prompt.endswith(".")


def test_prompt_empty_is_none() -> None:
    assert vocabulary_prompt([]) is None
    assert vocabulary_prompt(["", "  "]) is None


def test_prompt_keeps_first_terms_within_limit() -> None:
    terms = [f"sana{i:03d}" for i in range(200)]
    prompt = vocabulary_prompt(terms, max_chars=100)
    assert prompt is not None and len(prompt) <= 100
    assert prompt.startswith("sana000, sana001")
    assert len(vocabulary_prompt(terms) or "") <= vocabulary.PROMPT_MAX_CHARS


# --- audio -----------------------------------------------------------------------------------


def test_load_audio_resamples_to_16k_mono_float(tmp_path: Path) -> None:
    stereo = np.repeat(tone(1.0, rate=44100)[:, None], 2, axis=1).reshape(-1)
    path = write_wav(tmp_path / "ääni.wav", stereo, rate=44100, channels=2)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 16000) <= 64
    # ffmpeg's stereo -> mono mix keeps each channel at -3 dB: in-phase 0.3 sines give rms 0.3.
    assert 0.2 < float(np.sqrt(np.mean(audio**2))) < 0.32


def test_load_audio_without_audio_track_is_input_error(tmp_path: Path) -> None:
    path = tmp_path / "mykkä.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(InputError, match="no audio track") as err:
        load_audio(path)
    assert err.value.hint


def test_load_audio_not_media_is_input_error(tmp_path: Path) -> None:
    path = tmp_path / "teksti.mp4"
    path.write_text("ei videota")
    with pytest.raises(InputError, match="teksti.mp4"):
        load_audio(path)


# --- transcript cache ------------------------------------------------------------------------


def test_same_clip_twice_runs_the_engine_once(tmp_path: Path, cache_dir: Path) -> None:
    clip = write_wav(tmp_path / "klippi.wav", tone(1.0))
    fake = CountingTranscriber()
    options = TranscribeOptions(vocabulary=("huostaanotto",))
    first = transcribe_file(clip, options, transcriber=fake)
    second = transcribe_file(clip, options, transcriber=fake)
    assert fake.calls == 1
    assert second == first
    assert second.words[1].word == "kaikki!"
    assert len(list((cache_dir / "transcripts").glob("*.json"))) == 1


def test_cache_follows_content_not_name(tmp_path: Path) -> None:
    a = write_wav(tmp_path / "a.wav", tone(1.0))
    b = write_wav(tmp_path / "b.wav", tone(1.0))
    c = write_wav(tmp_path / "c.wav", tone(1.0, freq=300.0))
    fake = CountingTranscriber()
    for clip in (a, b, c):
        transcribe_file(clip, TranscribeOptions(), transcriber=fake)
    assert fake.calls == 2


@pytest.mark.parametrize(
    "change",
    [
        {"language": "auto"},
        {"engine": "openai-whisper"},
        {"model": "small"},
        {"vocabulary": ("huostaanotto",)},
        {"beam_size": 1},
        {"vad_filter": False},
        {"compute_type": "float32"},
    ],
)
def test_cache_key_changes_with_options(change: dict[str, object]) -> None:
    audio = tone(0.5)
    base = TranscribeOptions()
    assert transcript_cache_path(audio, base) == transcript_cache_path(audio.copy(), TranscribeOptions())
    assert transcript_cache_path(audio, base) != transcript_cache_path(audio, dataclasses.replace(base, **change))


def test_cache_key_ignores_threads() -> None:
    audio = tone(0.5)
    assert transcript_cache_path(audio, TranscribeOptions(threads=1)) == transcript_cache_path(
        audio, TranscribeOptions(threads=8)
    )


def test_cache_key_follows_model_file_content(tmp_path: Path) -> None:
    model_dir = tmp_path / "oma-malli"
    model_dir.mkdir()
    (model_dir / "config.json").write_text("{}")
    (model_dir / "model.bin").write_bytes(b"weights v1")
    options = TranscribeOptions(model=str(model_dir))
    before = transcript_cache_path(tone(0.5), options)
    (model_dir / "model.bin").write_bytes(b"weights v2, longer")
    assert transcript_cache_path(tone(0.5), options) != before


def test_cache_off_runs_every_time_and_writes_nothing(tmp_path: Path, cache_dir: Path) -> None:
    clip = write_wav(tmp_path / "klippi.wav", tone(1.0))
    fake = CountingTranscriber()
    transcribe_file(clip, TranscribeOptions(), transcriber=fake, cache=False)
    transcribe_file(clip, TranscribeOptions(), transcriber=fake, cache=False)
    assert fake.calls == 2
    assert not (cache_dir / "transcripts").exists()


def test_broken_cache_file_is_recomputed(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "klippi.wav", tone(1.0))
    fake = CountingTranscriber()
    transcribe_file(clip, TranscribeOptions(), transcriber=fake)
    cached = transcript_cache_path(load_audio(clip), TranscribeOptions())
    cached.write_text('{"segments": [{"start": ')
    again = transcribe_file(clip, TranscribeOptions(), transcriber=fake)
    assert fake.calls == 2
    assert again.text == "Hei kaikki!"
    assert Transcript.from_json(cached.read_text()) == again


def test_cache_write_leaves_no_temp_files(tmp_path: Path, cache_dir: Path) -> None:
    clip = write_wav(tmp_path / "klippi.wav", tone(1.0))
    transcribe_file(clip, TranscribeOptions(), transcriber=CountingTranscriber())
    assert [p.suffix for p in (cache_dir / "transcripts").iterdir()] == [".json"]


def test_progress_reported_from_zero_to_one(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "klippi.wav", tone(1.0))
    seen: list[float] = []
    transcribe_file(clip, TranscribeOptions(), transcriber=CountingTranscriber(), on_progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    seen.clear()
    transcribe_file(clip, TranscribeOptions(), transcriber=CountingTranscriber(), on_progress=seen.append)
    assert seen == [0.0, 1.0]  # from the cache


def test_clip_without_audio_fails_before_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "rikki.wav"
    path.write_bytes(b"RIFF....WAVEfmt ")
    fake = CountingTranscriber()
    with pytest.raises(InputError):
        transcribe_file(path, TranscribeOptions(), transcriber=fake)
    assert fake.calls == 0


def test_unknown_engine_is_transcribe_error() -> None:
    from pipeline.errors import TranscribeError

    with pytest.raises(TranscribeError, match="unknown speech engine"):
        transcribe.get_transcriber(TranscribeOptions(engine="kaldi"))
