"""Preflight: any video (ours or not) -> a `CheckReport` against TikTok's upload rules and our own.

In: a video path, `Settings` (`[check]` limits, `[audio]` target, `[captions]` limits) and
optionally captions (a file, the SRT/VTT sidecars beside the video, or cues in memory).
Out: one `Check` per rule, each ok, warn, fail or skip with a short detail that names kinds and
times, never the words of a personal datum. Nothing is printed here (`cli/check.py` prints).

Rules:
- upload: container MP4/MOV, H.264 or HEVC, 9:16, displayed width, frame rate, duration, AAC
  audio present, `moov` before `mdat` (faststart), SDR (HDR only warns), file size;
- sound (one ffmpeg pass, `ebur128`): integrated loudness within `check.loudness_tolerance` LU
  of `audio.loudness`, true peak below `check.max_true_peak`; digital silence at the start;
- captions: personal data said aloud (fail), words TikTok removes videos for (warn), reading
  speed and line length over `[captions]` limits (warn).

`preflight_warnings()` is the cheap subset (no decoding: spec and caption text) that render,
batch and the studio run on what they made. `interface_frame()` gives the frame at a time as
TikTok shows it (upright, fitted on the canvas) for the interface-zones picture of `card/`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import av

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.types import Cue, MediaInfo
from pipeline.video.ffmpeg import ffmpeg_path, run_ffmpeg
from pipeline.video.media import decode_audio, probe

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail", "skip"]
Group = Literal["upload", "sound", "captions"]
_MP4_SUFFIXES = (".mp4", ".mov", ".m4v")
_CODECS = {"h264": "H.264", "hevc": "HEVC"}
_HDR = {"arib-std-b67": "HLG", "smpte2084": "PQ"}
# Categories TikTok removes videos for (its community guidelines: hate, sexual content, violent
# threats). Self-harm and disclosure are what this channel talks about: the end card handles them.
_REMOVED_FOR = ("slur", "insult", "threat", "sexual")
_DIGITAL_SILENCE = 10 ** (-90 / 20)  # below -90 dBFS: nothing was recorded


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one rule."""

    group: Group
    name: str  # "aspect ratio"
    status: Status
    detail: str  # "4:3 (640x480); TikTok shows 9:16 full screen"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every rule's outcome for one video."""

    video: Path
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """No rule failed (warnings allowed)."""
        return not any(c.status == "fail" for c in self.checks)

    def problems(self) -> list[str]:
        """One line per failed or warned rule: "aspect ratio: 4:3 (640x480) ..."."""
        return [f"{c.name}: {c.detail}" for c in self.checks if c.status in ("fail", "warn")]


def check_video(path: Path, settings: Settings, *, captions: Path | None = None,
                cues: Sequence[Cue] | None = None, sound: bool = True) -> CheckReport:
    """Run the checks on one video.

    Args:
        path: any video file.
        settings: limits (`[check]`), loudness target (`[audio]`), caption limits (`[captions]`).
        captions: a caption file (SRT, VTT, JSON, ASS); None: `cues`, else the video's sidecars.
        cues: captions already in memory (render passes what it burnt in).
        sound: also decode the audio (loudness, true peak, silence at the start).

    Raises:
        InputError: not a video, truncated or damaged, or an unreadable caption file.
    """
    media = probe(path)
    checks = upload_checks(media, settings)
    if sound:
        checks += sound_checks(media, settings)
    if cues is None:
        cues = _read_cues(captions or _sidecar(path), settings)
    checks += caption_checks(cues, settings)
    return CheckReport(path, tuple(checks))


def preflight_warnings(path: Path, settings: Settings, cues: Sequence[Cue]) -> list[str]:
    """The cheap checks of a video sossut just made, as warnings ("check: ...").

    Sound is skipped (the render set it) and so is personal data (`make_reply` already said).
    """
    report = check_video(path, settings, cues=cues, sound=False)
    return [f"check: {c.name}: {c.detail}" for c in report.checks
            if c.status in ("warn", "fail") and c.name != "personal data"]


# --- upload spec ----------------------------------------------------------------------------


def upload_checks(media: MediaInfo, settings: Settings) -> list[Check]:
    """Container, codec, shape, rate, length, audio, faststart, HDR and size."""
    lim = settings.check
    out: list[Check] = []

    def add(name: str, ok: bool, detail: str, bad: Status = "fail") -> None:
        out.append(Check("upload", name, "ok" if ok else bad, detail))

    path = media.path
    suffix = path.suffix.lower()
    with av.open(str(path)) as container:
        fmt = container.format.name
        audio = container.streams.audio[0] if container.streams.audio else None
        audio_codec = audio.codec_context.name if audio is not None else ""
    is_mp4 = "mp4" in fmt.split(",") or "mov" in fmt.split(",")
    add("container", is_mp4 and suffix in _MP4_SUFFIXES,
        f"{suffix.lstrip('.').upper() or 'no suffix'}" + ("" if is_mp4 else f" ({fmt}); TikTok takes MP4 or MOV"))
    codec = media.video_codec
    add("video codec", codec in _CODECS, _CODECS.get(codec, f"{codec or 'unknown'}; TikTok takes H.264 or HEVC"))
    width, height = media.display_size
    ratio = Fraction(width, height).limit_denominator(20)
    near = abs(width / height - 9 / 16) <= lim.aspect_tolerance * 9 / 16
    add("aspect ratio", near, f"{ratio.numerator}:{ratio.denominator} ({width}x{height})"
        + ("" if near else "; TikTok shows 9:16 full screen, other shapes with bars"))
    add("width", width >= lim.min_width, f"{width} px" + ("" if width >= lim.min_width else f", under {lim.min_width}"))
    fps = float(media.fps)
    add("frame rate", fps <= lim.max_fps + 0.01, f"{fps:.4g} fps" + ("" if fps <= lim.max_fps + 0.01
                                                                   else f", over {lim.max_fps}"))
    add("duration", media.duration <= lim.max_duration, f"{_clock(media.duration)}"
        + ("" if media.duration <= lim.max_duration else f", over {_clock(lim.max_duration)}"))
    if not media.has_audio:
        add("audio", False, "no audio track; TikTok expects AAC sound")
    else:
        add("audio", audio_codec == "aac", "AAC" if audio_codec == "aac" else f"{audio_codec}; TikTok expects AAC")
    if is_mp4:
        atoms = top_level_atoms(path)
        first = "moov" in atoms and "mdat" in atoms and atoms.index("moov") < atoms.index("mdat")
        add("faststart", first, "moov before mdat" if first
            else "moov after mdat: the upload may stall or be refused (re-encode with -movflags +faststart)")
    hdr = _HDR.get(media.color_transfer)
    add("SDR", hdr is None, "SDR" if hdr is None else
        f"HDR ({hdr}, {media.bit_depth}-bit): TikTok may show it washed out; sossut render tone-maps it",
        bad="warn")
    size_mb = path.stat().st_size / 1e6
    add("file size", size_mb <= lim.max_size_mb, f"{size_mb:.1f} MB"
        + ("" if size_mb <= lim.max_size_mb else f", over {lim.max_size_mb:g} MB"))
    return out


def top_level_atoms(path: Path) -> list[str]:
    """Names of an MP4/MOV's top-level boxes, in file order."""
    names = []
    with open(path, "rb") as fh:
        while True:
            header = fh.read(8)
            if len(header) < 8:
                break
            size = int.from_bytes(header[:4], "big")
            names.append(header[4:8].decode("latin-1"))
            if size == 1:
                size = int.from_bytes(fh.read(8), "big")
                fh.seek(size - 16, 1)
            elif size == 0:
                break
            elif size < 8:
                break  # damaged; the probe has vouched for the file, so stop quietly
            else:
                fh.seek(size - 8, 1)
    return names


# --- sound ----------------------------------------------------------------------------------

_INTEGRATED = re.compile(r"I:\s+(-?inf|-?[\d.]+) LUFS")
_PEAK = re.compile(r"Peak:\s+(-?inf|-?[\d.]+) dBFS")


def measure_sound(path: Path) -> tuple[float, float]:
    """(integrated loudness LUFS, true peak dBTP) of the first audio track, by ffmpeg's ebur128.

    Raises:
        RenderError: ffmpeg failed to read the audio.
    """
    argv = [ffmpeg_path(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info", "-i", str(path),
            "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"]
    stderr = run_ffmpeg(argv, what=f"measuring the sound of {path.name}")
    summary = stderr[stderr.rfind("Summary:"):]
    loud, peak = _INTEGRATED.search(summary), _PEAK.search(summary)
    return (float(loud.group(1)) if loud else float("-inf"), float(peak.group(1)) if peak else float("-inf"))


def start_silence(path: Path, limit: float) -> float:
    """Seconds of digital silence (under -90 dBFS) at the start, looking at `limit` + 1 s."""
    import numpy as np  # here: the checks after every render need no numpy

    samples = decode_audio(path, rate=16000, layout="mono", duration=limit + 1.0)
    loud = np.flatnonzero(np.abs(samples[0]) > _DIGITAL_SILENCE) if samples.size else np.array([])
    return float(loud[0]) / 16000 if loud.size else samples.shape[1] / 16000


def sound_checks(media: MediaInfo, settings: Settings) -> list[Check]:
    """Loudness, true peak and silence at the start (skipped without audio)."""
    if not media.has_audio:
        return [Check("sound", name, "skip", "no audio track") for name in ("loudness", "true peak", "start")]
    lim, target = settings.check, settings.audio.loudness
    loudness, peak = measure_sound(media.path)
    near = abs(loudness - target) <= lim.loudness_tolerance
    out = [Check("sound", "loudness", "ok" if near else "fail",
                 f"{loudness:.1f} LUFS" + ("" if near else f", target {target:g} ± {lim.loudness_tolerance:g} LU"))]
    below = peak < lim.max_true_peak
    out.append(Check("sound", "true peak", "ok" if below else "fail",
                     f"{peak:.1f} dBTP" + ("" if below else f", not below {lim.max_true_peak:g}")))
    silent = start_silence(media.path, lim.max_start_silence)
    short = silent <= lim.max_start_silence
    detail = "sound from the start" if silent < 0.05 else f"{silent:.1f} s of digital silence at the start"
    out.append(Check("sound", "start", "ok" if short else "fail",
                     detail + ("" if short else f", over {lim.max_start_silence:g} s")))
    return out


# --- captions -------------------------------------------------------------------------------


def _sidecar(path: Path) -> Path | None:
    from pipeline.captions import SIDECAR_SUFFIXES

    return next((p for p in (path.with_suffix(s) for s in SIDECAR_SUFFIXES) if p.is_file()), None)


def _read_cues(path: Path | None, settings: Settings) -> list[Cue] | None:
    if path is None:
        return None
    from pipeline.captions import layout_cues, read_caption_source

    source = read_caption_source(path)
    if isinstance(source, list):
        return source
    return layout_cues(source, settings.captions, settings.canvas.width, settings.safe_zone)


def caption_checks(cues: Sequence[Cue] | None, settings: Settings) -> list[Check]:
    """Personal data, words TikTok removes videos for, reading speed and line length."""
    names = ("personal data", "moderation words", "reading speed", "line length")
    if cues is None:
        return [Check("captions", name, "skip", "no captions (give --captions FILE)") for name in names]
    from pipeline.comments import (
        check_comment,
        describe_findings,
        describe_flags,
        find_personal_data_in_cues,
        mask_options,
    )

    options = mask_options(settings.privacy)

    out = []
    found = find_personal_data_in_cues(cues, options=options)
    out.append(Check("captions", "personal data", "fail" if found else "ok",
                     "; ".join(f"{f.cue_start:.1f} s: {describe_findings([f.finding])}" for f in found)
                     + " said aloud" if found else "none found"))
    hits = []
    for cue in cues:
        flags = [f for f in check_comment(cue.text.replace("\n", " "), options=options) if f.category in _REMOVED_FOR]
        if flags:
            hits.append(f"{cue.start:.1f} s: {describe_flags(flags)}")
    out.append(Check("captions", "moderation words", "warn" if hits else "ok",
                     "; ".join(hits) + " (TikTok removes videos for some words)" if hits else "none found"))
    style, slack = settings.captions, settings.check.reading_speed_slack
    fast = [(c, _cps(c)) for c in cues if _cps(c) > style.max_cps + slack]
    out.append(Check("captions", "reading speed", "warn" if fast else "ok",
                     f"{len(fast)} captions over {style.max_cps:g} characters/s (first at {fast[0][0].start:.1f} s: "
                     f"{fast[0][1]:.0f}/s)" if fast else f"at most {style.max_cps:g} characters/s"))
    long = [c for c in cues if any(len(line) > style.max_chars_per_line for line in c.lines)]
    out.append(Check("captions", "line length", "warn" if long else "ok",
                     f"{len(long)} captions with lines over {style.max_chars_per_line} characters "
                     f"(first at {long[0].start:.1f} s)" if long else f"at most {style.max_chars_per_line} characters"))
    return out


def _cps(cue: Cue) -> float:
    chars = len(" ".join(cue.lines).replace("\u00ad", ""))
    return chars / max(cue.end - cue.start, 0.01)


# --- a frame as TikTok shows it ----------------------------------------------------------------


def interface_frame(path: Path, at: float | None, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """The frame shown at `at` seconds (default: the middle), upright and fitted on a black
    canvas of `size` (as TikTok shows a video of another shape: with bars).

    Returns:
        (RGB array of shape (height, width, 3), the time of the frame in seconds).

    Raises:
        InputError: not a video, or `at` is past its end.
    """
    import numpy as np

    media = probe(path)
    when = media.duration / 2 if at is None else at
    if when > media.duration:
        raise InputError(f"{path.name}: --at {when:g} s is after the end ({media.duration:.2f} s)")
    canvas_w, canvas_h = size
    disp_w, disp_h = media.display_size
    scale = min(canvas_w / disp_w, canvas_h / disp_h)
    fit_w, fit_h = max(2, round(disp_w * scale)), max(2, round(disp_h * scale))
    turned = media.rotation in (90, 270)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.time_base and when > 1:
            container.seek(int(when / stream.time_base), stream=stream, backward=True)
        chosen = None
        for frame in container.decode(stream):
            if chosen is not None and frame.time is not None and frame.time > when + 1e-6:
                break
            chosen = frame
        if chosen is None:
            raise InputError(f"{path.name}: no picture at {when:g} s")
        shown = float(chosen.time or 0.0)
        picture = chosen.reformat(width=fit_h if turned else fit_w, height=fit_w if turned else fit_h,
                                  format="rgb24").to_ndarray()
    # `rotation` is how far clockwise the stored picture must turn; rot90 turns counter-clockwise.
    picture = np.rot90(picture, k=-(media.rotation // 90)) if media.rotation else picture
    out = np.zeros((canvas_h, canvas_w, 3), dtype=np.uint8)
    top, left = (canvas_h - picture.shape[0]) // 2, (canvas_w - picture.shape[1]) // 2
    out[top:top + picture.shape[0], left:left + picture.shape[1]] = picture
    return out, shown


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:04.1f}" if minutes else f"{seconds:.1f} s"
