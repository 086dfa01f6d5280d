"""One transcription in a child process, and a render that starts after the model is gone.

The engine is a fake (the model is not the point); it runs in the real child process that
`transcribe_file_in_child` starts. The fakes are module-level: the child imports them by name.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import av
import numpy as np
import psutil
import pytest

from pipeline.config import load_settings
from pipeline.errors import InputError, TranscribeError
from pipeline.reply import ReplyJob, make_reply, transcriber_for
from pipeline.speech.child import transcribe_file_in_child, transcribe_files_in_child
from pipeline.speech.options import Progress, TranscribeOptions
from pipeline.types import Comment, RenderPlan, Segment, Transcript, Word
from tests.unit.test_transcribe import tone, write_wav

PID_FILE = "SOSSUT_TEST_MODEL_PID_FILE"  # where the fake model writes the id of its process


class PidTranscriber:
    """A fake model that tells which process it ran in (a file named by $SOSSUT_TEST_MODEL_PID_FILE)."""

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, *, on_progress: Progress | None = None
    ) -> Transcript:
        Path(os.environ[PID_FILE]).write_text(str(os.getpid()))
        logging.getLogger("pipeline.speech.fake").warning("fake model in process %d", os.getpid())
        if on_progress:
            on_progress(0.5)
        words = (Word("Hei", 0.1, 0.4, 0.9), Word("kaikki!", 0.5, 0.9, 0.8))
        return Transcript("fi", len(audio) / 16000, (Segment(0.1, 0.9, "Hei kaikki!", words),), "fake", "fake")


def pid_transcriber(options: TranscribeOptions) -> PidTranscriber:
    return PidTranscriber()


def counted_transcriber(options: TranscribeOptions) -> PidTranscriber:
    """`pid_transcriber` that also adds a line to $SOSSUT_TEST_MODEL_PID_FILE.loads per model load."""
    with open(os.environ[PID_FILE] + ".loads", "a") as loads:
        loads.write(f"{os.getpid()}\n")
    return PidTranscriber()


def failing_transcriber(options: TranscribeOptions) -> PidTranscriber:
    raise TranscribeError("cannot load speech model fake", hint="try --model base")


def dying_transcriber(options: TranscribeOptions) -> PidTranscriber:
    os._exit(3)  # as if the system ended the process (out of memory)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def pid_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "model.pid"
    monkeypatch.setenv(PID_FILE, str(path))  # the child inherits the environment
    return path


def ended(pid: int) -> bool:
    """True if `pid` is no longer a process of ours (it ran, ended and was reaped)."""
    ours = {p.pid for p in psutil.Process().children(recursive=True)}
    return pid != os.getpid() and pid not in ours and not psutil.pid_exists(pid)


def speech_children() -> list[psutil.Process]:
    """Our child processes that run a transcription (other tests may leave e.g. a resource tracker)."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "pipeline.speech.child" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:  # ended meanwhile
            pass
    return found


def test_the_child_transcribes_and_has_ended_when_it_returns(tmp_path: Path, pid_file: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    clip = write_wav(tmp_path / "ääni.wav", tone(1.0))
    seen: list[float] = []
    with caplog.at_level(logging.INFO):
        transcript = transcribe_file_in_child(clip, TranscribeOptions(), on_progress=seen.append,
                                              transcriber_factory=pid_transcriber)
    assert transcript.text == "Hei kaikki!" and transcript.duration == pytest.approx(1.0, abs=0.01)
    model_pid = int(pid_file.read_text())
    assert ended(model_pid)
    assert seen == [0.0, 0.5, 1.0]  # the child's progress, passed on here
    # The child's log records reach this process's handlers.
    assert f"fake model in process {model_pid}" in caplog.messages
    assert any(m.startswith("transcribed ääni.wav: 2 words") for m in caplog.messages)


def test_several_files_share_one_child_and_one_model_load(tmp_path: Path, pid_file: Path) -> None:
    """A duet's two recordings (or a joined reply's clips): one child, the model loaded once."""
    first = write_wav(tmp_path / "a.wav", tone(1.0))
    second = write_wav(tmp_path / "b.wav", tone(2.0))
    seen: list[float] = []
    found = transcribe_files_in_child([first, second], TranscribeOptions(), on_progress=seen.append,
                                      transcriber_factory=counted_transcriber)
    assert [t.duration for t in found] == [pytest.approx(1.0, abs=0.01), pytest.approx(2.0, abs=0.01)]
    loads = Path(str(pid_file) + ".loads").read_text().split()
    assert len(loads) == 1 and ended(int(loads[0]))
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0 and 0.5 in seen  # over both files


def test_transcriber_for_prepares_recordings_together(tmp_path: Path, pid_file: Path) -> None:
    from pipeline.reply import prepare_transcripts
    from pipeline.video.media import probe

    medias = [probe(write_clip(tmp_path / f"{name}.mp4")) for name in ("a", "b")]
    run = transcriber_for(load_settings(), transcriber_factory=counted_transcriber)
    prepare_transcripts(run, medias + medias[:1])  # the same recording twice: once
    loads = Path(str(pid_file) + ".loads")
    assert len(loads.read_text().split()) == 1
    assert run(medias[0]).text == run(medias[1]).text == "Hei kaikki!"
    assert len(loads.read_text().split()) == 1  # no second child
    prepare_transcripts(lambda media: run(media), medias)  # a plain callable: nothing done ahead


def test_errors_in_the_child_are_raised_here_with_their_hint(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "ääni.wav", tone(1.0))
    with pytest.raises(TranscribeError, match="cannot load speech model fake") as err:
        transcribe_file_in_child(clip, TranscribeOptions(), transcriber_factory=failing_transcriber)
    assert err.value.hint == "try --model base"
    assert any("in the speech process" in note for note in err.value.__notes__)
    not_media = tmp_path / "teksti.mp4"
    not_media.write_text("ei videota")
    with pytest.raises(InputError, match="teksti.mp4"):
        transcribe_file_in_child(not_media, TranscribeOptions(), transcriber_factory=pid_transcriber)


def test_a_child_that_dies_is_a_transcribe_error(tmp_path: Path) -> None:
    clip = write_wav(tmp_path / "ääni.wav", tone(1.0))
    with pytest.raises(TranscribeError, match="exit code 3") as err:
        transcribe_file_in_child(clip, TranscribeOptions(), transcriber_factory=dying_transcriber)
    assert "memory" in err.value.hint
    assert speech_children() == []


def test_the_cache_is_shared_with_this_process(tmp_path: Path, pid_file: Path, cache_dir: Path) -> None:
    clip = write_wav(tmp_path / "ääni.wav", tone(1.0))
    first = transcribe_file_in_child(clip, TranscribeOptions(), transcriber_factory=pid_transcriber)
    assert len(list((cache_dir / "transcripts").glob("*.json"))) == 1
    pid_file.unlink()
    assert transcribe_file_in_child(clip, TranscribeOptions()) == first  # from the cache: no model
    assert not pid_file.exists()


def write_clip(path: Path, seconds: float = 1.0) -> Path:
    """A tiny MP4 (MPEG-4 video + AAC tone) written with PyAV, so no ffmpeg binary is needed."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        audio = out.add_stream("aac", rate=48000)
        audio.layout = "mono"
        for i in range(int(seconds * 10)):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        samples = tone(seconds, rate=48000)
        for start in range(0, len(samples), 1024):
            chunk = samples[start:start + 1024]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            frame.sample_rate, frame.pts = 48000, start
            out.mux(audio.encode(frame))
        out.mux(audio.encode(None))
    return path


def test_the_model_is_gone_when_the_render_starts(tmp_path: Path, pid_file: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`sossut render --captions auto`: transcribed in a child that has ended before the encode."""
    stages: list[str] = []
    at_render: dict[str, object] = {}

    def fake_render(plan: RenderPlan, on_progress: object = None) -> None:  # ffmpeg is not the point
        at_render["model_pid"] = int(pid_file.read_text())
        at_render["children"] = speech_children()
        at_render["captions"] = plan.captions is not None and plan.captions.is_file()

    monkeypatch.setattr("pipeline.reply.render", fake_render)
    monkeypatch.setattr("pipeline.reply.preflight_warnings", lambda *a, **k: [])  # there is no video to check
    settings = load_settings()
    job = ReplyJob(write_clip(tmp_path / "klippi.mp4"), Comment("Mitä kuuluu?"), tmp_path / "vastaus.mp4",
                   captions="auto")
    result = make_reply(job, settings, transcribe=transcriber_for(settings, transcriber_factory=pid_transcriber),
                        on_stage=stages.append)
    assert stages.index("transcribe") < stages.index("render")
    assert at_render["captions"] and result.cues == 1
    model_pid = at_render["model_pid"]
    assert isinstance(model_pid, int) and model_pid != os.getpid()
    assert at_render["children"] == []  # nothing holds a model while the render runs
    assert ended(model_pid)
