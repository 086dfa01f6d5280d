"""`sossut check`: every rule against a generated video that passes it and one that fails it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.card import zone_boxes
from pipeline.config import load_settings
from pipeline.errors import InputError
from pipeline.video import check_video
from pipeline.video.check import caption_checks
from tests.conftest import REPO, make_clip, run

pytestmark = pytest.mark.media

SETTINGS = load_settings()
LOUD_DB = 7.8  # ffmpeg's sine (amplitude 1/8, -21.8 LUFS) + 7.8 dB = -14 LUFS


def make(path: Path, size: tuple[int, int] = (720, 1280), seconds: float = 1.0, fps: int = 30,
         gain_db: float | None = LOUD_DB, extra_audio: str = "", faststart: bool = True,
         codec: str = "libx264") -> Path:
    """A small test video with its sound at a chosen loudness (None: no audio track)."""
    w, h = size
    args = ["-f", "lavfi", "-i", f"color=c=0x808080:s={w}x{h}:r={fps}:d={seconds}"]
    if gain_db is not None:
        args += ["-f", "lavfi", "-i", f"sine=f=440:sample_rate=48000:d={seconds}",
                 "-af", f"volume={gain_db}dB" + (f",{extra_audio}" if extra_audio else ""), "-c:a", "aac",
                 "-t", str(seconds)]
    args += ["-c:v", codec, "-pix_fmt", "yuv420p"]
    if codec == "libx264":
        args += ["-preset", "ultrafast"]
    if faststart:
        args += ["-movflags", "+faststart"]
    run(*args, str(path))
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    folder = tmp_path_factory.mktemp("check")
    specs: dict[str, Callable[[Path], Path]] = {
        "good": lambda p: make(p),
        "four_three": lambda p: make(p, size=(640, 480)),
        "fps120": lambda p: make(p, fps=120, seconds=0.5),
        "no_audio": lambda p: make(p, gain_db=None),
        "moov_at_end": lambda p: make(p, faststart=False),
        "quiet": lambda p: make(p, gain_db=LOUD_DB - 16),  # -30 LUFS
        "clipping": lambda p: make(p, gain_db=18.0),
        "late_sound": lambda p: make(p, seconds=3.0, extra_audio="adelay=1800|1800"),
        "mpeg4": lambda p: make(p, codec="mpeg4"),
        "mkv": lambda p: make(p, faststart=False),
        "hdr": lambda p: make_clip(p, size=(360, 640), seconds=0.5, hdr="hlg", audio=False, source="smptehdbars"),
    }
    suffix = {"mkv": ".mkv"}
    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            made[name] = specs[name](folder / f"{name}{suffix.get(name, '.mp4')}")
        return made[name]

    return get


def status(path: Path, name: str, settings=SETTINGS, **kwargs: object) -> str:  # type: ignore[no-untyped-def]
    report = check_video(path, settings, **kwargs)  # type: ignore[arg-type]
    return next(c.status for c in report.checks if c.name == name)


def test_a_good_video_passes_everything(videos: Callable[[str], Path]) -> None:
    report = check_video(videos("good"), SETTINGS)
    assert report.passed, report.problems()
    assert {c.status for c in report.checks} == {"ok", "skip"}  # captions: none given
    assert {c.name for c in report.checks if c.status == "skip"} == {
        "personal data", "moderation words", "reading speed", "line length"}


@pytest.mark.parametrize(("video", "rule", "expected"), [
    ("four_three", "aspect ratio", "fail"),
    ("four_three", "width", "fail"),
    ("fps120", "frame rate", "fail"),
    ("no_audio", "audio", "fail"),
    ("moov_at_end", "faststart", "fail"),
    ("hdr", "SDR", "warn"),
    ("quiet", "loudness", "fail"),
    ("clipping", "true peak", "fail"),
    ("late_sound", "start", "fail"),
    ("mpeg4", "video codec", "fail"),
    ("mkv", "container", "fail"),
])
def test_each_rule_fails_on_its_bad_video_and_passes_on_the_good_one(
        videos: Callable[[str], Path], video: str, rule: str, expected: str) -> None:
    assert status(videos(video), rule) == expected
    assert status(videos("good"), rule) == "ok"


def test_limits_come_from_config(videos: Callable[[str], Path]) -> None:
    strict = SETTINGS.with_values(check={"max_duration": 0.5, "max_size_mb": 0.001})
    assert status(videos("good"), "duration", strict, sound=False) == "fail"  # too long
    assert status(videos("good"), "file size", strict, sound=False) == "fail"
    report = check_video(videos("quiet"), SETTINGS)
    assert not report.passed and any(p.startswith("loudness: -30") or p.startswith("loudness: -29")
                                     for p in report.problems())


def srt(path: Path, *cues: tuple[float, float, str]) -> Path:
    def stamp(t: float) -> str:
        return f"00:00:{int(t):02d},{round((t % 1) * 1000):03d}"

    path.write_text("".join(f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}\n\n" for i, (a, b, text) in enumerate(cues, 1)),
                    encoding="utf-8")
    return path


def test_caption_rules_pass_and_fail(videos: Callable[[str], Path], tmp_path: Path) -> None:
    good = srt(tmp_path / "good.srt", (0.0, 2.0, "Hei kaikki!"), (2.0, 4.0, "Tänään puhutaan tunteista."))
    bad = srt(tmp_path / "bad.srt",
              (0.0, 2.0, "Soita mulle 040 123 4567"),
              (2.0, 2.5, "Tämä lause on aivan liian pitkä luettavaksi"),
              (3.0, 6.0, "tapan sut"))
    ok = {c.name: c.status for c in check_video(videos("good"), SETTINGS, captions=good, sound=False).checks}
    assert [ok[n] for n in ("personal data", "moderation words", "reading speed", "line length")] == ["ok"] * 4
    report = check_video(videos("good"), SETTINGS, captions=bad, sound=False)
    got = {c.name: c for c in report.checks}
    assert got["personal data"].status == "fail" and "phone number" in got["personal data"].detail
    assert "040" not in got["personal data"].detail  # kinds and times, never the value
    assert got["moderation words"].status == "warn" and "threat" in got["moderation words"].detail
    assert got["reading speed"].status == "warn" and got["line length"].status == "warn"
    assert not report.passed


def test_sidecar_captions_are_found_beside_the_video(videos: Callable[[str], Path], tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(videos("good").read_bytes())
    srt(video.with_suffix(".srt"), (0.0, 2.0, "numero on 040 123 4567"))
    assert status(video, "personal data", sound=False) == "fail"


def test_caption_checks_without_captions_are_skipped() -> None:
    assert {c.status for c in caption_checks(None, SETTINGS)} == {"skip"}


def test_not_a_video_is_an_input_error(tmp_path: Path, videos: Callable[[str], Path]) -> None:
    text = tmp_path / "x.mp4"
    text.write_text("ei video")
    with pytest.raises(InputError):
        check_video(text, SETTINGS)
    cut = tmp_path / "cut.mp4"
    data = videos("moov_at_end").read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # truncated: moov lost
    with pytest.raises(InputError):
        check_video(cut, SETTINGS)


def sossut(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", "check", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_cli_exit_codes_table_and_overlay(videos: Callable[[str], Path], tmp_path: Path) -> None:
    good = sossut(str(videos("good")))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "all good" in good.stdout and "aspect ratio" in good.stdout
    bad = sossut(str(videos("four_three")), "--no-sound")
    assert bad.returncode == 1 and "FAIL" in bad.stdout and "4:3" in bad.stdout
    text = tmp_path / "x.mp4"
    text.write_text("ei video")
    broken = sossut(str(text))
    errors = [ln for ln in broken.stderr.splitlines() if ln.startswith("error:")]
    assert broken.returncode == 1 and len(errors) == 1 and "Traceback" not in broken.stderr
    # the overlay: a grey 9:16 video, so the zones' tint is easy to see
    overlay = tmp_path / "zones.png"
    done = sossut(str(videos("good")), "--no-sound", "--overlay", str(overlay), "--at", "0.5")
    assert done.returncode == 0, done.stderr
    picture = np.asarray(Image.open(overlay).convert("RGB")).astype(int)
    assert picture.shape == (1920, 1080, 3)
    grey = picture[960, 540]
    assert abs(grey - 128).max() <= 6  # the safe area is the frame as it is
    for name, (x0, y0, x1, y1) in zone_boxes(SETTINGS).items():
        # a point inside each zone, away from its label: tinted red
        x, y = (x0 + x1) // 2, y0 + (y1 - y0) // 5
        if name in ("left", "right"):
            y = y0 + 12
        r, g, b = picture[y, x]
        assert r > g + 40 and r > b + 20, (name, picture[y, x])
    # and nowhere else: just outside the top zone (past the outline) is grey again
    assert abs(picture[SETTINGS.safe_zone.top + 12, 540] - 128).max() <= 6


def test_preflight_warnings_are_the_cheap_checks_render_and_batch_print(videos: Callable[[str], Path]) -> None:
    from pipeline.types import Cue
    from pipeline.video import preflight_warnings

    cues = [Cue(0.0, 0.5, ("Tämä lause on aivan liian pitkä luettavaksi",)), Cue(0.5, 1.0, ("040 123 4567",))]
    warnings = preflight_warnings(videos("four_three"), SETTINGS, cues)
    assert any(w.startswith("check: aspect ratio: 4:3") for w in warnings)
    assert any(w.startswith("check: reading speed") for w in warnings)
    assert not any("loudness" in w or "personal data" in w for w in warnings)  # no decoding; reply warns itself
    assert preflight_warnings(videos("good"), SETTINGS, []) == []
