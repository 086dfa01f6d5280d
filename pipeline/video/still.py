"""Still stage: `RenderPlan` + a time -> one PNG of the 9:16 frame as the render would burn it.

The same reframe chain as `render` (`video_chain`; a duet's layout, `duet_picture_at`), the card
at its place and the captions through the same `ass` filter and fonts, for one frame: the clip
is seeked to the time (`-ss` before the input, accurate), its timestamps are put back on the
output's clock so the captions shown are the ones of that moment, and `-frames:v 1` ends ffmpeg after the first frame. The card is drawn at its
resting place whenever it is on screen at that time (its pop-in is motion, not layout).
"""

from __future__ import annotations

from pathlib import Path

import ffmpeg as ffmpeg_python

from pipeline.files import atomic_path
from pipeline.types import RenderPlan
from pipeline.video.ffmpeg import ffmpeg_path, run_ffmpeg
from pipeline.video.render import CAPTIONS_NAME, FONTS_NAME, ffmpeg_work_dir, video_chain


def still_args(plan: RenderPlan, at: float, output: Path, *, width: int = 540, ffmpeg: str = "ffmpeg") -> list[str]:
    """The ffmpeg argv for the frame at `at` seconds (on the output's clock) of `plan`, as a PNG.

    Args:
        plan: the render plan (its output path is not touched).
        at: seconds from the start of the output video; clamped into it.
        output: the PNG to write.
        width: the PNG's width in pixels (the canvas scaled down, aspect kept); 0: full size.
        ffmpeg: the binary.
    """
    frame = 1 / float(plan.fps) if plan.fps else 1 / 30
    at = min(max(at, 0.0), max(plan.duration - frame, 0.0))
    length = max(4 * frame, 0.5)
    if plan.duet is not None:  # both recordings stacked, or the one of whoever speaks then
        from pipeline.video.duet import duet_picture_at

        v = duet_picture_at(plan, at, min(length, plan.duration - at))
    else:
        seek = plan.trim_start + at
        v = video_chain(plan, ffmpeg_python.input(str(plan.source.resolve()), ss=f"{seek:.3f}", t=f"{length:.3f}"))
    # Timestamps back on the output's clock: the captions of that moment, and the card's window.
    v = v.filter("setpts", f"PTS-STARTPTS+{at:.3f}/TB")
    card = plan.card
    if card is not None and card.start <= at <= card.end:
        image = ffmpeg_python.input(str(card.image.path.resolve())).filter("format", "rgba")
        v = v.overlay(image, x=card.x, y=card.y)
    if plan.captions is not None:
        v = v.filter("ass", CAPTIONS_NAME, fontsdir=FONTS_NAME)
    v = v.filter("format", plan.encoder.pix_fmt)  # the chroma the video will have
    if width:
        v = v.filter("scale", width, -2, flags="bicubic")
    node = ffmpeg_python.output(v, str(output.resolve()), **{"frames:v": 1, "update": 1})
    global_args = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]
    return [ffmpeg, *global_args, *node.compile(cmd=ffmpeg)[1:]]


def render_still(plan: RenderPlan, at: float, output: Path, *, width: int = 540) -> Path:
    """Write the frame at `at` seconds of `plan` to `output` (PNG, written atomically).

    Args:
        plan: the render plan, as `make_plan` made it for the video.
        at: seconds from the start of the output video.
        output: the PNG path.
        width: the PNG's width (0: the full canvas).

    Returns:
        `output`.

    Raises:
        RenderError: ffmpeg failed.
    """
    with atomic_path(output) as tmp, ffmpeg_work_dir(plan, prefix="sossut-still-") as work_dir:
        argv = still_args(plan, at, tmp, width=width, ffmpeg=ffmpeg_path())
        run_ffmpeg(argv, cwd=work_dir, what=f"a still of {plan.source.name}")
    return output


__all__ = ["render_still", "still_args"]
