"""Two recordings of one conversation (`sossut duet`): lined up by their shared sound (or
--offset), cut to the time both cover, A above B, each cropped to its half; a pair that shares
no sound (headphones) is refused with a clear error and no output, and --offset then works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.config import load_settings
from pipeline.duet import DuetJob, make_duet
from pipeline.types import Comment, MediaInfo, Segment, Transcript, Word
from tests.conftest import REPO, frame_at, make_clip, probe_output, run

pytestmark = pytest.mark.media

RED, BLUE = (192, 0, 0), (0, 0, 192)
LEAD = 0.7  # B starts this long after A
A_SECONDS, B_SECONDS = 3.0, 2.5


def _with_sound(video: Path, audio: str, path: Path) -> Path:
    """The clip's picture (display rotation kept) with the lavfi sound `audio` instead."""
    run("-i", str(video), "-f", "lavfi", "-i", audio, "-map", "0:v", "-map", "1:a", "-c:v", "copy",
        "-c:a", "aac", "-shortest", str(path))
    return path


def _pair(folder: Path, sound_a: str, sound_b: str) -> tuple[Path, Path]:
    """A: red 360x640 portrait at 30 fps; B: blue 640x360 stored turned 90 degrees, 25 fps."""
    a = make_clip(folder / "a.v.mp4", size=(360, 640), seconds=A_SECONDS, audio=False, source="color=c=0xc00000:")
    b = make_clip(folder / "b.v.mp4", size=(640, 360), seconds=B_SECONDS, fps="25", rotation=90, audio=False,
                  source="color=c=0x0000c0:")
    return _with_sound(a, sound_a, folder / "a.mp4"), _with_sound(b, sound_b, folder / "b.mp4")


# One room: both phones hear the same (noise) sound; B's recording starts LEAD later.
NOISE = "anoisesrc=d=4:c=pink:r=48000:seed=7:a=0.3"


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("duet-room")
    return _pair(folder, f"{NOISE},atrim=0:{A_SECONDS}",
                 f"{NOISE},atrim={LEAD}:{LEAD + B_SECONDS},asetpts=PTS-STARTPTS")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("duet-config") / "fast.toml"
    path.write_text('[encoder]\npreset = "ultrafast"\n')
    return path


def _duet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", "duet", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def _near(pixel: Any, colour: tuple[int, int, int]) -> bool:
    return bool(np.abs(np.asarray(pixel, dtype=int) - np.asarray(colour)).max() < 40)


@pytest.fixture(scope="module")
def synced(room: tuple[Path, Path], config: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("duet-out") / "vastaus.mp4"
    done = _duet(str(room[0]), str(room[1]), "-o", str(out), "--comment", "Kaksi puhelinta, yksi keskustelu",
                 "--captions", "none", "--config", str(config))
    return {"out": out, "proc": done}


def test_duet_finds_the_offset_and_prints_it(synced: dict[str, Any]) -> None:
    done = synced["proc"]
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if x.startswith("offset"))
    offset = float(line.split()[1])
    assert abs(offset - LEAD) < 0.01, line
    assert "confidence" in line


def test_duet_is_1080x1920_and_as_long_as_both_recordings_run(synced: dict[str, Any]) -> None:
    info = probe_output(synced["out"])
    assert (info["width"], info["height"]) == (1080, 1920)
    assert info["audio_rate"] == 48000
    assert abs(info["duration"] - min(A_SECONDS, LEAD + B_SECONDS) + LEAD) < 0.1  # 2.3 s


def test_duet_stacks_a_above_b(synced: dict[str, Any]) -> None:
    frame = frame_at(synced["out"], 1.0)
    assert _near(frame[480, 40], RED), frame[480, 40]  # left of the card
    assert _near(frame[1440, 540], BLUE), frame[1440, 540]
    assert _near(frame[1900, 40], BLUE), frame[1900, 40]


def test_offset_given_by_hand_is_used(room: tuple[Path, Path], config: Path, tmp_path: Path) -> None:
    out = tmp_path / "käsin.mp4"
    done = _duet(str(room[0]), str(room[1]), "-o", str(out), "--comment", "Hei", "--captions", "none",
                 "--offset", "1.2", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "offset +1.200 s (given)" in done.stderr
    assert abs(probe_output(out)["duration"] - (A_SECONDS - 1.2)) < 0.1


def test_headphone_pair_is_refused_then_offset_works(config: Path, tmp_path: Path) -> None:
    # Each phone hears only its own side: unrelated sounds. (Two bare sine tones are not used: the
    # sync lines up their hard starts and ends, which real recordings do not have.)
    a, b = _pair(tmp_path, f"anoisesrc=d={A_SECONDS}:c=pink:r=48000:seed=1:a=0.3",
                 f"anoisesrc=d={B_SECONDS}:c=brown:r=48000:seed=99:a=0.3")
    out = tmp_path / "out" / "vastaus.mp4"
    done = _duet(str(a), str(b), "-o", str(out), "--comment", "Hei", "--captions", "none", "--config", str(config))
    assert done.returncode == 1, done.stderr
    assert "error: cannot line up the two recordings" in done.stderr
    assert "--offset" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []
    done = _duet(str(a), str(b), "-o", str(out), "--comment", "Hei", "--captions", "none", "--offset", "0.5",
                 "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert abs(probe_output(out)["duration"] - (A_SECONDS - 0.5)) < 0.1


def test_captions_come_from_the_chosen_sound_on_the_duet_clock(room: tuple[Path, Path], tmp_path: Path) -> None:
    """With a fixed sound (`--sound a`), only that recording is transcribed."""
    asked: list[Path] = []

    def transcribe(media: MediaInfo) -> Transcript:  # on the recording's own clock
        asked.append(media.path)
        words = (Word("Moikka", 0.2, 0.5), Word("kaikki", 1.0, 1.4))  # the first is before B starts
        return Transcript("fi", media.duration, (Segment(0.2, 1.4, "Moikka kaikki", words),))

    settings = load_settings().with_values(encoder={"preset": "ultrafast"}, duet={"sound": "a"})
    out = tmp_path / "tekstit.mp4"
    result = make_duet(DuetJob(room[0], room[1], Comment("Hei"), out, offset=LEAD, captions="auto"), settings,
                       transcribe=transcribe)
    assert asked == [room[0]]  # A's sound, as asked
    assert result.cues == 1 and result.sync is None
    assert abs(result.duration - (A_SECONDS - LEAD)) < 0.1


def test_sidecar_writes_the_captions_burned_in_on_the_duet_clock(room: tuple[Path, Path], config: Path,
                                                                   tmp_path: Path) -> None:
    """`sossut duet --sidecar` with a caption file: the .srt and .vtt beside the video hold its
    cues, cut to the time both recordings cover."""
    from pipeline.captions import read_caption_source

    srt = tmp_path / "tekstit.srt"
    srt.write_text("1\n00:00:00,200 --> 00:00:01,000\nMoikka kaikki\n\n"
                   "2\n00:00:01,200 --> 00:00:09,000\nTämä jatkuu yli lopun\n", encoding="utf-8")
    out = tmp_path / "sivu.mp4"
    done = _duet(str(room[0]), str(room[1]), "-o", str(out), "--comment", "Hei", "--captions", str(srt),
                 "--offset", str(LEAD), "--sidecar", "--config", str(config))
    assert done.returncode == 0, done.stderr
    for suffix in (".srt", ".vtt"):
        cues = read_caption_source(out.with_suffix(suffix))
        assert isinstance(cues, list) and [c.text for c in cues] == ["Moikka kaikki", "Tämä jatkuu yli lopun"]
        assert cues[0].start == pytest.approx(0.2, abs=0.01)
        assert cues[-1].end <= A_SECONDS - LEAD + 0.05  # not past the duet's end
