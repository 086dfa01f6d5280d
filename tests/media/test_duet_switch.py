"""`sossut duet --layout switch` and the speaker's sound, on a generated pair with known truth.

Two festival voices take turns (A, B, A). Recording A (a red clip, 30 fps) hears voice A loud and
voice B quietly through a phone speaker, with 50 Hz hum room noise; recording B (a blue clip,
25 fps, stored turned 90 degrees) the reverse, with 60 Hz hum; B starts 1.234 s after A.
Checked: the offset found, the picture on whoever speaks (outside 0.5 s around each change),
the sound from the speaker's own phone, its loudness, and the captions' speaker colours.
"""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pysubs2
import pytest

from pipeline.config import load_settings
from pipeline.duet import DuetJob, make_duet
from pipeline.types import Comment, MediaInfo, Segment, Transcript, Word
from pipeline.video import decode_audio, integrated_loudness
from tests.conftest import REPO, make_clip, run
from tests.unit.test_sync import RATE, _phone_speaker, _room_noise, _voice

pytestmark = pytest.mark.media

SPEECH = REPO / "tests" / "fixtures" / "speech"
LEAD = 1.234  # B starts this long after A
GAP = 0.4
RED, BLUE = (192, 0, 0), (0, 0, 192)
# (fixture, seconds used): A speaks, B answers, A again
TURNS = (("ilmoitus", 0, 4.2), ("huostaanotto", 1, 4.6), ("paivystys", 0, 4.0))


@dataclass(frozen=True)
class Pair:
    a: Path
    b: Path
    track_a: np.ndarray  # 16 kHz mono, A's clock
    track_b: np.ndarray  # 16 kHz mono, B's clock
    changes: tuple[float, ...]  # true changes of speaker on the duet clock (where the next voice starts)
    turns: tuple[tuple[float, float, int], ...]  # (start, end, speaker) of each voice, duet clock
    words: dict[int, list[Word]]  # each voice's words on its recording's own clock
    duration: float  # of the duet (the time both recordings cover)


def _onset(voice: np.ndarray) -> float:
    hop = RATE // 50
    rms = np.sqrt(np.mean(voice[: voice.size // hop * hop].reshape(-1, hop) ** 2, axis=1))
    return float(np.flatnonzero(rms > 0.02 * rms.max())[0]) * 0.02


def _wav(path: Path, x: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _with_sound(video: Path, sound: Path, path: Path) -> Path:
    run("-i", str(video), "-i", str(sound), "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac",
        "-b:a", "192k", "-shortest", str(path))
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Pair:
    folder = tmp_path_factory.mktemp("switch-pair")
    voices: list[list[np.ndarray]] = [[], []]
    words: dict[int, list[Word]] = {0: [], 1: []}
    turns, changes = [], []
    t = GAP
    for name, speaker, seconds in TURNS:
        piece = _voice(name)[: int(seconds * RATE)]
        on = t + _onset(piece)
        if turns and turns[-1][2] != speaker:
            changes.append(on - LEAD)
        turns.append((on - LEAD, t + seconds - LEAD, speaker))
        for item in json.loads((SPEECH / f"{name}.json").read_text())["words"]:
            if item["end"] <= seconds:
                words[speaker].append(Word(item["word"], t + item["start"], t + item["end"]))
        for k in (0, 1):
            voices[k].append(piece if k == speaker else np.zeros(piece.size))
            voices[k].append(np.zeros(int(GAP * RATE)))
        t += seconds + GAP
    voice_a, voice_b = (np.concatenate([np.zeros(int(GAP * RATE)), *v]) for v in voices)
    n = voice_a.size
    track_a = 0.7 * voice_a + 0.1 * _phone_speaker(voice_b) + _room_noise(n, 11, 50)
    track_b = 0.7 * voice_b + 0.1 * _phone_speaker(voice_a) + _room_noise(n, 12, 60)
    track_b = track_b[int(round(LEAD * RATE)):]  # B's recording starts LEAD later
    seconds_a, seconds_b = n / RATE, track_b.size / RATE
    a = make_clip(folder / "a.v.mp4", size=(360, 640), seconds=seconds_a, audio=False, source="color=c=0xc00000:")
    b = make_clip(folder / "b.v.mp4", size=(640, 360), seconds=seconds_b, fps="25", rotation=90, audio=False,
                  source="color=c=0x0000c0:")
    # B's words move to B's clock
    words[1] = [Word(w.word, w.start - LEAD, w.end - LEAD) for w in words[1]]
    return Pair(_with_sound(a, _wav(folder / "a.wav", track_a), folder / "a.mp4"),
                _with_sound(b, _wav(folder / "b.wav", track_b), folder / "b.mp4"),
                track_a, track_b, tuple(changes), tuple(turns), words, seconds_b)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("switch-config") / "fast.toml"
    path.write_text('[encoder]\npreset = "ultrafast"\n')
    return path


@pytest.fixture(scope="module")
def switched(pair: Pair, config: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("switch-out") / "vuorot.mp4"
    done = subprocess.run([sys.executable, "-m", "pipeline", "duet", str(pair.a), str(pair.b), "-o", str(out),
                           "--comment", "Kuka puhuu milloinkin?", "--captions", "none", "--layout", "switch",
                           "--config", str(config)], capture_output=True, text=True, cwd=REPO, timeout=600)
    return {"out": out, "proc": done}


def _pixels(path: Path, times: list[float], at: tuple[int, int]) -> list[np.ndarray]:
    """The RGB pixel at (y, x) of the frame shown at each time, decoding the video once."""
    out: list[np.ndarray] = []
    wanted = sorted(times)
    last = None
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.video[0]):
            while wanted and frame.time is not None and frame.time > wanted[0] + 1e-6:
                assert last is not None
                out.append(last)
                wanted.pop(0)
            if not wanted:
                break
            last = frame.to_ndarray(format="rgb24")[at]
    while wanted and last is not None:
        out.append(last)
        wanted.pop(0)
    return out


def _near(pixel: Any, colour: tuple[int, int, int]) -> bool:
    return bool(np.abs(np.asarray(pixel, dtype=int) - np.asarray(colour)).max() < 40)


def test_the_offset_is_found_within_10_ms(switched: dict[str, Any]) -> None:
    done = switched["proc"]
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("offset"))
    assert abs(float(line.split()[1]) - LEAD) < 0.010, line


def test_switch_shows_whoever_speaks(pair: Pair, switched: dict[str, Any]) -> None:
    done = switched["proc"]
    assert done.returncode == 0, done.stderr
    assert "switch: 3 shots (A 0.00s, B " in done.stderr, done.stderr
    times = [t for t in np.arange(0.1, pair.duration - 0.1, 0.25).tolist()
             if all(abs(t - c) > 0.5 for c in pair.changes)]
    truth = [0 if sum(1 for c in pair.changes if c <= t) % 2 == 0 else 1 for t in times]
    seen = _pixels(switched["out"], times, (1000, 40))  # left of the card, above the captions
    wrong = [(round(t, 2), s, p.tolist()) for t, s, p in zip(times, truth, seen)
             if not _near(p, RED if s == 0 else BLUE)]
    assert len(times) > 30 and not wrong, wrong


def test_each_cut_is_on_its_planned_frame(switched: dict[str, Any]) -> None:
    line = next(x for x in switched["proc"].stderr.splitlines() if x.startswith("switch:"))
    cuts = [float(item.split()[1].rstrip("s),")) for item in line.split("(")[1].split(", ")[1:]]
    assert len(cuts) == 2
    frame = 1 / 30  # the output rate: the higher of 30 and 25 fps
    cuts = [c + 0.006 for c in cuts]  # printed to 0.01 s: just after the planned frame's time
    before, after = _pixels(switched["out"], [c - frame for c in cuts], (1000, 40)), \
        _pixels(switched["out"], cuts, (1000, 40))
    assert _near(before[0], RED) and _near(after[0], BLUE), (cuts, before, after)
    assert _near(before[1], BLUE) and _near(after[1], RED), (cuts, before, after)


def _output_sound(path: Path) -> np.ndarray:
    return decode_audio(path, RATE)[0].astype(np.float64)


def _likeness(x: np.ndarray, y: np.ndarray) -> float:
    """Largest normalised correlation of x and y within +-30 ms (AAC delays a little)."""
    best = 0.0
    for lag in range(-480, 481, 8):
        a, b = (x[lag:], y[: y.size - lag]) if lag >= 0 else (x[:lag], y[-lag:])
        best = max(best, float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12)))
    return best


def test_the_sound_comes_from_the_speakers_own_phone(pair: Pair, switched: dict[str, Any]) -> None:
    sound = _output_sound(switched["out"])
    first = int(round(LEAD * RATE))
    on_a, on_b = pair.track_a[first: first + sound.size], pair.track_b[: sound.size]
    for start, end, speaker in pair.turns:
        lo, hi = int(max(start, 0.0) * RATE) + RATE // 2, int(end * RATE) - RATE // 2
        like_a, like_b = _likeness(sound[lo:hi], on_a[lo:hi]), _likeness(sound[lo:hi], on_b[lo:hi])
        own, other = (like_a, like_b) if speaker == 0 else (like_b, like_a)
        assert own > 0.9 and own > other + 0.2, (start, speaker, like_a, like_b)


def test_the_sound_is_minus_14_lufs(switched: dict[str, Any]) -> None:
    samples = decode_audio(switched["out"], 48000, layout="stereo")
    assert integrated_loudness(samples, 48000) == pytest.approx(-14.0, abs=1.0)


# --- stack with captions in speaker colours -------------------------------------------------

A_COLOR, B_COLOR = "#ffffff", "#ffe14d"


@pytest.fixture(scope="module")
def coloured(pair: Pair, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A stack duet with captions (a fake recogniser on the true words), A's white, B's yellow."""
    asked: list[Path] = []

    def transcribe(media: MediaInfo) -> Transcript:  # on the recording's own clock
        asked.append(media.path)
        mine = 0 if media.path == pair.a else 1
        # The recogniser also catches a word of the other voice, heard quietly through the phone.
        shift = LEAD if mine == 0 else -LEAD
        leak = [Word("VUOTO", w.start + shift, w.end + shift) for w in pair.words[1 - mine][2:3]]
        words = tuple(sorted(pair.words[mine] + leak, key=lambda w: w.start))
        return Transcript("fi", media.duration, (Segment(words[0].start, words[-1].end, "", words),))

    folder = tmp_path_factory.mktemp("switch-colours")
    settings = load_settings().with_values(encoder={"preset": "ultrafast"}, captions={"highlight": "none"},
                                           duet={"speaker_colors": [A_COLOR, B_COLOR], "layout": "stack"})
    kept: dict[str, Any] = {}
    import pipeline.duet as duet_module

    original = duet_module.end_card_and_captions

    def spy(*args: Any, **kwargs: Any) -> Any:  # the real one; keeps its cues and a copy of the ASS
        cues, end_card, path = original(*args, **kwargs)
        kept["cues"], kept["ass"] = cues, path.read_text() if path else ""
        return cues, end_card, path

    duet_module.end_card_and_captions = spy  # type: ignore[assignment]
    try:
        result = make_duet(DuetJob(pair.a, pair.b, Comment("Hei"), folder / "värit.mp4", captions="auto"),
                           settings, transcribe=transcribe)
    finally:
        duet_module.end_card_and_captions = original  # type: ignore[assignment]
    return {"result": result, "asked": asked, **kept}


def test_captions_take_each_word_from_the_speakers_recording(pair: Pair, coloured: dict[str, Any]) -> None:
    assert sorted(coloured["asked"]) == sorted([pair.a, pair.b])
    cues = coloured["cues"]
    text = " ".join(" ".join(c.lines) for c in cues)
    assert "VUOTO" not in text  # the other voice heard quietly is not captioned
    assert "Lastensuojeluilmoituksen" in text or "Lastensuojelu-" in text
    assert cues and all(c.speaker in (0, 1) for c in cues)
    changes = [c.start for prev, c in zip(cues, cues[1:]) if prev.speaker != c.speaker]
    assert len(changes) == 2  # A, then B, then A: no cue holds words of both
    for cue in cues:  # every word of a cue is said in a turn of the cue's speaker
        turns = [(start, end) for start, end, who in pair.turns if who == cue.speaker]
        for word in cue.words:
            middle = (word.start + word.end) / 2
            assert any(start - 0.1 <= middle <= end + 0.1 for start, end in turns), (cue, word)


def test_speaker_colours_are_in_the_ass_file(coloured: dict[str, Any]) -> None:
    subs = pysubs2.SSAFile.from_string(coloured["ass"])
    assert (subs.styles["Caption0"].primarycolor.r, subs.styles["Caption0"].primarycolor.g,
            subs.styles["Caption0"].primarycolor.b) == (255, 255, 255)
    assert (subs.styles["Caption1"].primarycolor.r, subs.styles["Caption1"].primarycolor.g,
            subs.styles["Caption1"].primarycolor.b) == (255, 0xE1, 0x4D)
    by_style = {e.style for e in subs.events}
    assert by_style == {"Caption0", "Caption1"}
    speakers = [c.speaker for c in coloured["cues"]]
    assert [e.style for e in subs.events] == [f"Caption{s}" for s in speakers]


def test_a_burned_caption_has_its_speakers_colour(pair: Pair, coloured: dict[str, Any]) -> None:
    from tests.conftest import frame_at

    out = coloured["result"].output
    for cue in coloured["cues"][:4]:
        frame = frame_at(out, (cue.start + cue.end) / 2)[1000:1700].astype(int)
        yellow = np.all(np.abs(frame - np.array([255, 0xE1, 0x4D])) < 30, axis=2).sum()
        white = np.all(frame > 225, axis=2).sum()
        if cue.speaker == 1:
            assert yellow > 500 and white < yellow / 10, (cue, yellow, white)
        else:
            assert white > 500 and yellow < white / 10, (cue, yellow, white)


def test_a_recording_without_sound_gives_the_sound_to_the_other(pair: Pair, config: Path, tmp_path: Path) -> None:
    silent_b = pair.b.parent / "b.v.mp4"  # B's picture, no audio track
    out = tmp_path / "yksi ääni.mp4"
    done = subprocess.run([sys.executable, "-m", "pipeline", "duet", str(pair.a), str(silent_b), "-o", str(out),
                           "--comment", "Hei", "--captions", "none", "--layout", "switch", "--offset", str(LEAD),
                           "--config", str(config)], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "only one recording has sound" in done.stderr
    sound = _output_sound(out)
    first = int(round(LEAD * RATE))
    lo, hi = 5 * RATE, 8 * RATE  # B's turn: still A's phone (B's voice heard quietly through it)
    assert _likeness(sound[lo:hi], pair.track_a[first + lo: first + hi]) > 0.9
    assert all(_near(p, RED) for p in _pixels(out, [1.0, 6.0, 11.0], (1000, 40)))
