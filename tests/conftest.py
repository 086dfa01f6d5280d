"""Shared test helpers: clips generated with ffmpeg's lavfi sources, probing and frame grabs."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np
import pytest

from pipeline.video.ffmpeg import ffmpeg_path

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")


@pytest.fixture(autouse=True, scope="session")
def _ledger_outside_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Renders and batches record answers in the ledger under the user data folder; tests (and
    the sossut processes they start) use a temp one instead, never the tester's own."""
    import os

    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))


def without_hanging(call: Callable[[], T], limit: float = 60.0) -> T:
    """Run `call` in a thread and return what it returns (or raise what it raises).

    A guard against hangs (offline model look-ups must never wait on a network), not a speed
    test: the limit is far above any normal run; speed is measured by `make bench`.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the test thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        pytest.fail(f"still waiting after {limit:.0f} s: it hangs")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def poll_until(done: Callable[[], object], what: str, *, interval: float = 0.1, polls: int = 200) -> None:
    """Check `done` every `interval` s until it is true; fail after `polls` checks.

    A guard against hangs (a page that never loads, a process that never starts), not a speed
    test: the bound is a number of polls far above any normal wait; speed is `make bench`'s.
    """
    for _ in range(polls):
        if done():
            return
        time.sleep(interval)
    if not done():
        pytest.fail(f"still waiting after {polls} polls: {what}")


def run(*args: str) -> None:
    subprocess.run([ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_clip(
    path: Path,
    size: tuple[int, int] = (1920, 1080),
    seconds: float = 2.0,
    fps: str = "30",
    audio: bool = True,
    marker: bool = False,
    rotation: int = 0,
    hdr: str | None = None,
    vfr: bool = False,
    source: str = "testsrc2",
    faststart: bool = True,
) -> Path:
    """A test clip: `testsrc2` picture (+ a red marker in the top-left) and a sine tone.

    With `rotation=90`, `180` or `270` the picture is stored turned that many degrees clockwise,
    with a display matrix that turns it back (counter-clockwise), as phones store clips filmed
    sideways or upside down: the *displayed* picture is `size` with the marker top-left.
    `hdr="hlg"|"pq"` writes 10-bit HEVC tagged BT.2020 + HLG/PQ, like an iPhone.
    """
    w, h = size
    vf = []
    if marker:
        vf.append(f"drawbox=x=0:y=0:w={max(8, w // 8)}:h={max(8, h // 8)}:color=red:t=fill")
    # stored turned `rotation` degrees clockwise; `-display_rotation` (counter-clockwise) undoes it
    turns = {0: [], 90: ["transpose=clock"], 180: ["hflip", "vflip"], 270: ["transpose=cclock"]}
    if rotation not in turns:
        raise ValueError(f"rotation must be one of {sorted(turns)}, not {rotation}")
    vf += turns[rotation]
    if vfr:
        # drop frames unevenly so the timestamps are irregular
        vf.append("select='not(eq(mod(n,5),2)+eq(mod(n,7),3))'")
    sep = "" if source.endswith(":") else "="  # "color=c=red:" already has its options started
    args: list[str] = ["-f", "lavfi", "-i", f"{source}{sep}s={w}x{h}:r={fps}:d={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:sample_rate=44100:d={seconds}"]
    if vfr:
        args += ["-fps_mode", "vfr"]
    if hdr:
        trc = {"hlg": "arib-std-b67", "pq": "smpte2084"}[hdr]
        # Real HDR signal: the SDR picture converted to BT.2020 + HLG/PQ (not just tagged).
        vf.append(f"zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t={trc}:m=bt2020nc:p=bt2020:r=tv:npl=203,"
                  "format=yuv420p10le")
        args += ["-c:v", "libx265", "-pix_fmt", "yuv420p10le", "-tag:v", "hvc1",
                 "-x265-params", f"log-level=error:colorprim=bt2020:transfer={trc}:colormatrix=bt2020nc",
                 "-color_primaries", "bt2020", "-color_trc", trc, "-colorspace", "bt2020nc"]
    else:
        args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if vf:
        args += ["-vf", ",".join(vf)]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    if faststart:
        args += ["-movflags", "+faststart"]
    if rotation:
        tmp = path.with_name(path.stem + ".norot" + path.suffix)
        run(*args, str(tmp))
        run("-display_rotation:v:0", str(rotation), "-i", str(tmp), "-c", "copy", str(path))
        tmp.unlink()
    else:
        run(*args, str(path))
    return path


def probe_output(path: Path) -> dict[str, Any]:
    """What tests check of a rendered file."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0] if c.streams.audio else None
        first = next(c.decode(v))
        return {
            "width": v.width,
            "height": v.height,
            "codec": v.codec_context.name,
            "profile": v.codec_context.profile,
            "pix_fmt": v.codec_context.pix_fmt or first.format.name,
            "fps": Fraction(v.average_rate) if v.average_rate else None,
            "duration": float(v.duration * v.time_base) if v.duration else c.duration / 1e6,
            "audio_codec": a.codec_context.name if a else None,
            "audio_rate": a.rate if a else None,
            "color_trc": int(v.codec_context.color_trc or 0),
            "color_primaries": int(v.codec_context.color_primaries or 0),
            "rotation": int(getattr(first, "rotation", 0) or 0),
        }


def frame_at(path: Path, t: float) -> np.ndarray:
    """The RGB frame shown at time `t` (H, W, 3 uint8)."""
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        c.seek(0)
        best = None
        for frame in c.decode(stream):
            if frame.time is not None and frame.time > t + 1e-6:
                break
            best = frame
        assert best is not None
        return best.to_ndarray(format="rgb24")


def top_level_atoms(path: Path) -> list[str]:
    """Names of the MP4's top-level boxes, in file order."""
    names = []
    with open(path, "rb") as fh:
        while True:
            header = fh.read(8)
            if len(header) < 8:
                break
            size = int.from_bytes(header[:4], "big")
            name = header[4:8].decode("latin-1")
            if size == 1:
                size = int.from_bytes(fh.read(8), "big")
                fh.seek(size - 16, 1)
            elif size == 0:
                names.append(name)
                break
            else:
                fh.seek(size - 8, 1)
            names.append(name)
    return names


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Generated clips, made once per session on first use: `clips("landscape")`."""
    folder = tmp_path_factory.mktemp("clips")
    specs: dict[str, dict[str, Any]] = {
        "landscape": dict(size=(1920, 1080), marker=True),
        "portrait": dict(size=(1080, 1920), marker=True),
        "rotated": dict(size=(360, 640), marker=True, rotation=90),
        "rotated180": dict(size=(360, 640), marker=True, rotation=180),
        "rotated270": dict(size=(360, 640), marker=True, rotation=270),
        "four_three": dict(size=(640, 480), marker=True),
        "square": dict(size=(720, 720)),
        "odd": dict(size=(721, 1281)),
        "fps60": dict(size=(640, 360), fps="60"),
        "fps120": dict(size=(320, 180), fps="120", seconds=1.0),
        "vfr": dict(size=(640, 360), vfr=True),
        "silent": dict(size=(640, 360), audio=False),
        "hlg": dict(size=(640, 360), hdr="hlg", audio=False, source="smptehdbars"),
        "pq": dict(size=(640, 360), hdr="pq", audio=False, source="smptehdbars"),
        "sdr_bars": dict(size=(640, 360), audio=False, source="smptehdbars"),
    }
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = make_clip(folder / f"{name}.mp4", **specs[name])
        return made[name]

    return get
