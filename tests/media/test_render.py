"""Render real clips with the bundled ffmpeg and check the files: probe, pixels, atoms."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psutil
import pytest
from PIL import Image

from pipeline.config import load_settings
from pipeline.errors import RenderError
from pipeline.reply import ReplyJob, make_reply
from pipeline.types import Comment
from pipeline.video.lifetime import Mechanism, mechanism
from pipeline.video.loudness import integrated_loudness
from pipeline.video.media import decode_audio, probe
from pipeline.video.plan import make_plan
from pipeline.video.render import _check_result, render
from tests.conftest import REPO, frame_at, make_clip, poll_until, probe_output, top_level_atoms

pytestmark = pytest.mark.media

SETTINGS = load_settings()
COMMENT = Comment("Mitä tapahtuu lastensuojeluilmoituksen jälkeen? 🤔", "testi_nuori")


def reply(clip: Path, out: Path, reframe: str = "blur", **job: object) -> Path:
    settings = SETTINGS.with_values(reframe={"mode": reframe})
    make_reply(ReplyJob(clip=clip, comment=COMMENT, output=out, **job), settings)  # type: ignore[arg-type]
    return out


def assert_tiktok_spec(out: Path, duration: float, max_fps: float = 60) -> dict:
    info = probe_output(out)
    assert (info["width"], info["height"]) == (1080, 1920)
    assert info["codec"] == "h264"
    assert info["profile"] == "High"
    assert info["pix_fmt"] == "yuv420p"
    assert info["audio_codec"] == "aac" and info["audio_rate"] == 48000
    assert abs(info["duration"] - duration) <= 0.1, info
    assert 0 < float(info["fps"]) <= max_fps + 0.01
    atoms = top_level_atoms(out)
    assert atoms.index("moov") < atoms.index("mdat"), atoms  # faststart
    assert info["color_trc"] == 1 and info["color_primaries"] == 1  # tagged BT.709
    return info


@pytest.mark.parametrize("name", ["landscape", "portrait", "four_three", "square", "odd", "fps60", "vfr", "silent"])
def test_every_shape_becomes_a_tiktok_video(clips, tmp_path: Path, name: str) -> None:
    clip = clips(name)
    out = reply(clip, tmp_path / f"{name}.mp4")
    info = assert_tiktok_spec(out, probe(clip).duration)
    if name == "fps60":
        assert info["fps"] == 60
    if name == "vfr":
        assert float(info["fps"]) in (30.0, 25.0, 24.0) or abs(float(info["fps"]) - 29.97) < 0.01
    assert not list(tmp_path.glob(".*partial*")), "temp file left behind"


def test_frame_rate_is_capped_at_60(clips, tmp_path: Path) -> None:
    out = reply(clips("fps120"), tmp_path / "fast.mp4")
    assert probe_output(out)["fps"] == 60


def test_silent_clip_gets_a_silent_aac_track(clips, tmp_path: Path) -> None:
    out = reply(clips("silent"), tmp_path / "silent.mp4")
    samples = decode_audio(out, 48000, "stereo")
    assert samples.shape[1] > 48000 * 1.8
    assert float(np.abs(samples).max()) < 1e-3


@pytest.mark.parametrize(("name", "rotation"), [("rotated", 90), ("rotated180", 180), ("rotated270", 270)])
def test_rotated_phone_clip_comes_out_upright(clips, tmp_path: Path, name: str, rotation: int) -> None:
    """Stored turned 90/180/270 degrees with a display matrix: the marker shows top-left."""
    clip = clips(name)
    media = probe(clip)
    assert media.rotation == rotation and media.display_size == (360, 640)
    out = reply(clip, tmp_path / "rot.mp4", reframe="crop")
    frame = frame_at(out, 1.0).astype(int)
    corner = frame[10:100, 10:100].reshape(-1, 3).mean(axis=0)  # marker is 1/8 of the picture
    assert corner[0] > 180 and corner[1] < 80 and corner[2] < 80, corner
    other = frame[10:100, -100:-10].reshape(-1, 3).mean(axis=0)
    assert not (other[0] > 180 and other[1] < 80), "marker found in the wrong corner"
    assert probe_output(out)["rotation"] == 0


def test_reframe_modes_differ_as_they_should(clips, tmp_path: Path) -> None:
    clip = clips("landscape")  # 16:9 in a 9:16 frame: a band above and below the picture
    frames = {mode: frame_at(reply(clip, tmp_path / f"{mode}.mp4", reframe=mode), 1.0).astype(int)
              for mode in ("fit", "crop", "blur")}
    band = (slice(1400, 1900), slice(0, 1080))  # below the fitted picture, below the card
    fit_band = frames["fit"][band]
    assert fit_band.std() < 3 and abs(fit_band.mean() - 0x10) < 6  # solid #101010
    blur_band = frames["blur"][band]
    assert blur_band.std() > 10  # coloured, blurred content
    # blurred: neighbouring pixels are close (no sharp edges)
    assert np.abs(np.diff(blur_band, axis=1)).mean() < 3
    # fit and blur show the same fitted picture in the middle; crop shows a zoomed centre
    middle = (slice(700, 1200), slice(0, 1080))
    assert np.abs(frames["fit"][middle] - frames["blur"][middle]).mean() < 4
    assert np.abs(frames["fit"][middle] - frames["crop"][middle]).mean() > 20
    # the marker (top-left of the landscape picture) is cut away by crop, visible in fit
    fit_marker = frames["fit"][660:700, 5:60].reshape(-1, 3).mean(axis=0)
    assert fit_marker[0] > 180 and fit_marker[1] < 80
    crop_corner = frames["crop"][260:300, 5:60].reshape(-1, 3).mean(axis=0)
    assert not (crop_corner[0] > 180 and crop_corner[1] < 80)


def _card_and_frame(clips, tmp_path: Path, reframe: str = "fit") -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    from pipeline.card.draw import write_card
    from pipeline.video.plan import card_content, place_card

    clip = clips("landscape")
    out = reply(clip, tmp_path / "card.mp4", reframe=reframe)
    card = write_card(card_content(COMMENT, SETTINGS), SETTINGS.card, tmp_path / "card.png")
    place = place_card(card, SETTINGS, probe(clip).duration)
    rgba = np.asarray(Image.open(card.path).convert("RGBA")).astype(int)
    return rgba, frame_at(out, 1.0).astype(int), (place.x, place.y)


def test_card_region_matches_the_card_png(clips, tmp_path: Path) -> None:
    rgba, frame, (x, y) = _card_and_frame(clips, tmp_path)
    h, w = rgba.shape[:2]
    region = frame[y:y + h, x:x + w]
    opaque = rgba[..., 3] == 255
    assert opaque.sum() > 0.3 * w * h
    diff = np.abs(region[opaque] - rgba[..., :3][opaque])
    assert diff.mean() < 6, diff.mean()  # compression and YUV rounding only
    # the card is not on the frame outside its place
    assert np.abs(frame[y + h + 60: y + h + 120, x: x + w] - 255).mean() > 40


def test_moviepy_reference_compositor_agrees(clips, tmp_path: Path) -> None:
    """An independent compositor (moviepy) puts the same card on the same fitted clip."""
    from moviepy import ColorClip, CompositeVideoClip, ImageClip, VideoFileClip

    rgba, frame, (x, y) = _card_and_frame(clips, tmp_path)
    clip = clips("landscape")
    source = VideoFileClip(str(clip), audio=False).resized(width=1080)
    card = ImageClip(str(tmp_path / "card.png"), transparent=True).with_position((x, y)).with_duration(source.duration)
    background = ColorClip((1080, 1920), color=(16, 16, 16), duration=source.duration)
    reference = CompositeVideoClip([background, source.with_position(("center", "center")), card], size=(1080, 1920))
    expected = reference.get_frame(1.0).astype(int)
    source.close()
    h, w = rgba.shape[:2]
    card_diff = np.abs(frame[y:y + h, x:x + w] - expected[y:y + h, x:x + w]).mean()
    whole_diff = np.abs(frame - expected).mean()
    assert card_diff < 6, card_diff
    assert whole_diff < 8, whole_diff


def test_card_pops_in(clips, tmp_path: Path) -> None:
    rgba, _, (x, y) = _card_and_frame(clips, tmp_path)
    first = frame_at(tmp_path / "card.mp4", 0.0).astype(int)
    settled = frame_at(tmp_path / "card.mp4", 1.0).astype(int)
    h, w = rgba.shape[:2]
    opaque = rgba[..., 3] == 255
    # at t=0 the card is transparent (fade-in starts), at 1 s it is fully there
    assert np.abs(first[y:y + h, x:x + w][opaque] - 255).mean() > np.abs(settled[y:y + h, x:x + w][opaque] - 255).mean() + 30


def test_loudness_is_normalised(clips, tmp_path: Path) -> None:
    clip = clips("landscape")
    out = reply(clip, tmp_path / "loud.mp4")
    lufs = integrated_loudness(decode_audio(out, 48000, "stereo"), 48000)
    assert abs(lufs - SETTINGS.audio.loudness) < 1.0, lufs
    quiet = SETTINGS.with_values(audio={"normalize": False})
    make_reply(ReplyJob(clips("landscape"), COMMENT, tmp_path / "raw.mp4"), quiet)
    source_lufs = integrated_loudness(decode_audio(clip, 48000, "stereo"), 48000)
    raw_lufs = integrated_loudness(decode_audio(tmp_path / "raw.mp4", 48000, "stereo"), 48000)
    assert abs(raw_lufs - source_lufs) < 1.0


def _saturation(rgb: np.ndarray) -> float:
    mx, mn = rgb.max(axis=-1).astype(float), rgb.min(axis=-1).astype(float)
    return float(np.where(mx > 0, (mx - mn) / np.maximum(mx, 1), 0).mean())


@pytest.mark.parametrize("kind", ["hlg", "pq"])
def test_hdr_clip_is_tone_mapped_to_sdr(clips, tmp_path: Path, kind: str) -> None:
    """An iPhone-like 10-bit HDR clip (SDR bars converted to BT.2020 + HLG/PQ) comes out like the SDR bars."""
    settings = SETTINGS.with_values(reframe={"mode": "crop"}, audio={"normalize": False})
    render(make_plan(probe(clips("sdr_bars")), settings, tmp_path / "sdr.mp4"))
    media = probe(clips(kind))
    assert media.is_hdr and media.bit_depth == 10
    plan = make_plan(media, settings, tmp_path / "hdr.mp4")
    assert plan.tonemap == settings.reframe.tonemap
    render(plan)
    info = probe_output(tmp_path / "hdr.mp4")
    assert info["pix_fmt"] == "yuv420p" and info["color_trc"] == 1 and info["color_primaries"] == 1
    # Shown as BT.709 without tone mapping, the same HDR values look washed out (pale, flat).
    render(dataclasses.replace(plan, tonemap=None, output=tmp_path / "naive.mp4"))
    sdr = frame_at(tmp_path / "sdr.mp4", 0.5).astype(int)
    mapped = frame_at(tmp_path / "hdr.mp4", 0.5).astype(int)
    naive = frame_at(tmp_path / "naive.mp4", 0.5).astype(int)
    assert _saturation(mapped) > 0.9 * _saturation(sdr)
    assert _saturation(naive) < 0.75 * _saturation(sdr)  # the fixture really is HDR
    assert np.abs(mapped - sdr).mean() < 20
    assert np.abs(naive - sdr).mean() > np.abs(mapped - sdr).mean() + 15



def test_output_shorter_than_planned_is_an_error(clips, tmp_path: Path) -> None:
    """ffmpeg exits 0 when the clip ends early; the short video must not become the output."""
    media = probe(clips("silent"))
    plan = make_plan(media, SETTINGS.with_values(reframe={"mode": "crop"}), tmp_path / "short.mp4")
    longer = dataclasses.replace(plan, duration=media.duration + 3)  # as a clip whose data stops early
    with pytest.raises(RenderError, match=r"ends at [\d.]+ s instead of [\d.]+ s") as caught:
        render(longer)
    assert caught.value.argv and "ffmpeg" in caught.value.argv[0]
    assert not plan.output.exists()
    assert not list(tmp_path.glob(".*partial*")), "temp file left behind"
    # What ffmpeg said about the clip decides the hint.
    whole = render(plan)
    with pytest.raises(RenderError, match="truncated or damaged") as caught:
        _check_result(longer, whole, "[mov] stream 0, offset 0x3000: partial file", ["ffmpeg"])
    assert "copy the clip again" in caught.value.hint
    _check_result(plan, whole, "", ["ffmpeg"])  # the whole file passes


def test_hdr_clip_in_the_default_blur_mode(clips, tmp_path: Path) -> None:
    """Default settings (blur): the tone-mapped picture feeds both the blurred background and the
    fitted picture, so the whole frame looks like the same bars shot in SDR."""
    assert SETTINGS.reframe.mode == "blur"
    clip = clips("hlg")
    out = tmp_path / "hdr.mp4"
    make_reply(ReplyJob(clip, COMMENT, out), SETTINGS)
    assert_tiktok_spec(out, probe(clip).duration)
    sdr_out = tmp_path / "sdr.mp4"
    make_reply(ReplyJob(clips("sdr_bars"), COMMENT, sdr_out), SETTINGS)
    sdr, mapped = frame_at(sdr_out, 0.5).astype(int), frame_at(out, 0.5).astype(int)
    assert _saturation(mapped) > 0.9 * _saturation(sdr)
    assert np.abs(mapped - sdr).mean() < 20
    band = (slice(1500, 1900), slice(0, 1080))  # below the picture: the blurred background
    assert _saturation(mapped[band]) > 0.9 * _saturation(sdr[band])
    assert np.abs(mapped[band] - sdr[band]).mean() < 20


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_outputs_get_the_usual_file_mode(clips, tmp_path: Path, umask: int) -> None:
    """The video, the card PNG and the sidecars are made as temp files (mkstemp: 0600) and renamed:
    they must end up with the mode any new file gets under the umask, readable as people expect."""
    from pipeline.reply import comment_card

    captions = tmp_path / "teksti.srt"
    captions.write_text("1\n00:00:00,200 --> 00:00:01,500\nMoi kaikki\n", encoding="utf-8")
    old = os.umask(umask)
    try:
        out = tmp_path / "out" / "vastaus.mp4"
        make_reply(ReplyJob(clips("silent"), COMMENT, out, captions=str(captions), sidecar=True),
                   SETTINGS.with_values(reframe={"mode": "crop"}))
        card, _ = comment_card(COMMENT, SETTINGS, tmp_path / "out" / "kortti.png")
    finally:
        os.umask(old)
    expected = {0o022: 0o644, 0o027: 0o640}[umask]
    written = [out, out.with_suffix(".srt"), out.with_suffix(".vtt"), card.path]
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in written} == {p.name: oct(expected) for p in written}

# --- a killed render --------------------------------------------------------------------------


def _wait_until(done: Callable[[], bool], limit: float, what: str) -> None:
    """Poll `done` until true; fail after about `limit` s of polls (a hang guard, not a speed test)."""
    poll_until(done, what, interval=0.05, polls=int(limit / 0.05))


def _gone(process: psutil.Process) -> bool:
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _ffmpeg_children(pid: int) -> list[psutil.Process]:
    try:
        return [c for c in psutil.Process(pid).children(recursive=True) if "ffmpeg" in c.name()]
    except psutil.NoSuchProcess:
        return []


def _kill_and_watch(started: subprocess.Popen[bytes], ready: Callable[[], bool]) -> list[psutil.Process]:
    """SIGKILL `started` once `ready()` and its ffmpeg runs; wait for all its children to end.

    Returns the children seen before the kill (all gone by then).
    """
    children: list[psutil.Process] = []
    try:
        def running() -> bool:
            if started.poll() is not None:
                pytest.fail(f"ended before it could be killed (exit {started.returncode})")
            return ready() and bool(_ffmpeg_children(started.pid))

        _wait_until(running, 60, "for ffmpeg to start")
        children = psutil.Process(started.pid).children(recursive=True)
        os.kill(started.pid, signal.SIGKILL)
        started.wait()
        _wait_until(lambda: all(_gone(c) for c in children), 10, "ffmpeg outlives its killed parent")
        return children
    finally:  # never leave an orphan encoding, whatever failed
        for child in children:
            if not _gone(child):
                child.kill()
        if started.poll() is None:
            started.kill()
            started.wait()


def test_killed_render_leaves_no_ffmpeg_and_the_next_run_no_partial(clips, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "long.mp4", size=(320, 180), seconds=12)  # renders for seconds
    out = tmp_path / "out" / "reply.mp4"
    out.parent.mkdir()
    log = (tmp_path / "render.log").open("wb")
    started = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "render", str(clip), "-o", str(out), "--comment", "x",
         "--captions", "none"],
        env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=tmp_path, stdout=log, stderr=log,
    )

    def partials() -> list[Path]:
        return list(out.parent.glob(".reply.*.partial.mp4"))

    children = _kill_and_watch(started, lambda: bool(partials()))
    log.close()
    assert any("ffmpeg" in c.name() for c in children)
    assert not out.exists()
    assert [p.name.split(".")[2] for p in partials()] == [str(started.pid)]  # what kill -9 leaves
    # A partial of a render still going on elsewhere is not touched.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = out.parent / f".reply.{other.pid}.abcd1234.partial.mp4"
        live.write_bytes(b"being written")
        render(make_plan(probe(clips("silent")), SETTINGS.with_values(reframe={"mode": "crop"}), out))
        assert partials() == [live]
    finally:
        other.kill()
        other.wait()
    assert_tiktok_spec(out, probe(clips("silent")).duration)


@pytest.mark.parametrize("how", ["pdeathsig", "watcher"])
def test_ffmpeg_ends_with_its_killed_parent(tmp_path: Path, how: Mechanism) -> None:
    """Each way of tying ffmpeg to us, on its own (macOS gets the watcher; Linux pdeathsig)."""
    if how == "pdeathsig" and mechanism() != "pdeathsig":
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    out = tmp_path / "long.mp4"
    script = f"""
import sys
from pipeline.video import lifetime
from pipeline.video.ffmpeg import ffmpeg_path, run_ffmpeg
lifetime.mechanism = lambda: {how!r}
run_ffmpeg([ffmpeg_path(), "-nostdin", "-y", "-loglevel", "error", "-progress", "pipe:1", "-nostats",
            "-f", "lavfi", "-i", "testsrc2=s=1280x720:d=120", "-c:v", "libx264", "-preset", "veryslow",
            sys.argv[1]])
"""
    started = subprocess.Popen([sys.executable, "-c", script, str(out)], env={**os.environ, "PYTHONPATH": str(REPO)},
                               cwd=tmp_path)
    children = _kill_and_watch(started, lambda: out.exists())
    names = [c.name() for c in children]
    assert sum("ffmpeg" in n for n in names) == 1
    assert len(names) == (2 if how == "watcher" else 1), names  # the watcher is a child too
