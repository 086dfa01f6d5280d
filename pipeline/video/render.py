"""Render stage: `RenderPlan` -> one ffmpeg process, one filtergraph -> MP4, written atomically.

`build_args(plan)` is pure (snapshot-tested); `render(plan)` prepares a work folder, runs ffmpeg
in it and renames the finished temp file onto the output. User text never reaches the
filtergraph: the card is an `-i` input, the captions are copied to the fixed name
`captions.ass` and the caption fonts are linked into `fonts/` inside the work folder (ffmpeg's cwd).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from pipeline.errors import OutputError, RenderError
from pipeline.files import atomic_path, remove_stale_partials
from pipeline.types import VIDEO_SUFFIXES, PartPlan, RenderPlan
from pipeline.video.ffmpeg import ffmpeg_path, run_ffmpeg
from pipeline.video.hdr import hdr_specs, lut_file, lut_spec, shrink_args, tonemap_chain

log = logging.getLogger(__name__)

CAPTIONS_NAME = "captions.ass"
FONTS_NAME = "fonts"


def video_chain(plan: RenderPlan, src: Any, *, focus_y: float = 0.5, keep: str | None = None) -> Any:
    """Source video -> upright, SDR, constant frame rate, reframed to the canvas.

    `focus_y` is the part a `crop` keeps, vertically: 0 the top, 0.5 the middle, 1 the bottom.
    `keep`: a `select` expression of t (numbers only): the frames (on the output rate) that go on
    to be reframed; the others are dropped before the costly scaling (a duet's hidden shots).
    """
    width, height = plan.canvas
    fps = f"{plan.fps.numerator}/{plan.fps.denominator}"
    if keep is not None:
        # the grid starts at 0 (the first frame repeated if the clip's first comes a little
        # later) so that `keep`'s times pick the frames the plan means; hidden frames are
        # dropped before the tone mapping and the scaling
        v = src.video.filter("fps", fps=fps, start_time=0).filter("select", keep)
    else:
        v = src.video.filter("fps", fps=fps)  # first: frames the output drops are never tone-mapped
    if plan.tonemap:
        # HLG/PQ -> BT.709 through the LUT (pipeline.video.hdr), on a picture no larger than
        # the canvas needs: the reframe's own scale, done first, leaves the one below a no-op.
        spec = lut_spec(plan.media.color_transfer, plan.media.color_primaries, plan.tonemap)
        v = tonemap_chain(v, spec, shrink=shrink_args(plan))
    reframe = plan.picture_reframe
    if reframe == "crop":
        v = v.filter("scale", width, height, force_original_aspect_ratio="increase")
        if focus_y == 0.5:
            v = v.filter("crop", width, height)
        else:
            v = v.filter("crop", width, height, "(iw-ow)/2", f"(ih-oh)*{focus_y:g}")
    elif reframe == "fit":
        v = v.filter(
            "scale", width, height, force_original_aspect_ratio="decrease", force_divisible_by=2
        ).filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2", color=plan.background.replace("#", "0x"))
    else:
        # Cheap blur: build the background at 1/N size, blur and dim it there, scale it up.
        # It is refreshed only `blur_fps` times a second: a heavily blurred copy looks the same,
        # and unchanged frames cost the encoder (and the filters) next to nothing.
        small_w = max(16, (width // plan.blur_fraction) // 2 * 2)
        small_h = max(16, (height // plan.blur_fraction) // 2 * 2)
        radius = max(1, min(plan.blur_radius, min(small_w, small_h) // 4 - 1))
        parts = v.filter_multi_output("split")
        background = parts[0]
        if 0 < plan.blur_fps < plan.fps:
            background = background.filter("fps", fps=plan.blur_fps)
        background = (
            background.filter("scale", small_w, small_h, force_original_aspect_ratio="increase",
                              flags="fast_bilinear")
            .filter("crop", small_w, small_h)
            .filter("boxblur", luma_radius=radius, luma_power=2)
        )
        if plan.blur_brightness < 1:
            b = plan.blur_brightness
            background = background.filter(
                "lutyuv", y=f"val*{b}", u=f"128+(val-128)*{b}", v=f"128+(val-128)*{b}"
            )
        if plan.blur_style == "wash":
            # each row's average colour: no change across a row. x264's slower presets pay for
            # a still 2D blur (30 s at medium: about +25 % over black bars), less than half of
            # that for this (about +10 %; `make bench`, blur section)
            background = background.filter("scale", 1, small_h, flags="area")
        background = background.filter("scale", width, height, flags="bilinear")
        if 0 < plan.blur_fps < plan.fps:
            # back to the output rate (repeated frames), and a little past the end so the
            # background never runs out before the picture (-t trims the output)
            background = background.filter("fps", fps=fps).filter("tpad", stop_mode="clone", stop_duration=1)
        foreground = parts[1].filter(
            "scale", width, height, force_original_aspect_ratio="decrease", force_divisible_by=2
        )
        v = background.overlay(foreground, x="(W-w)/2", y="(H-h)/2")
    return v.filter("setsar", 1)


def _still_stream(plan: RenderPlan, image_input: Any) -> Any:
    """A PNG input as a YUVA stream at the video's frame rate, for as long as it is overlaid.

    Converted once, before the loop: `overlay` blends YUVA onto the YUV picture, and an RGBA
    stream would be converted again for every frame (measured: 3 % of a render's CPU).
    """
    fps = f"{plan.fps.numerator}/{plan.fps.denominator}"
    return (
        image_input.filter("format", "yuva420p")
        .filter("loop", loop=-1, size=1, start=0)
        .filter("setpts", f"N/({fps})/TB")
    )


def _overlay_card(plan: RenderPlan, v: Any, card_input: Any) -> Any:
    card = plan.card
    assert card is not None
    stream = _still_stream(plan, card_input)
    if card.pop_in > 0:
        stream = stream.filter("fade", t="in", st=card.start, d=card.pop_in, alpha=1)
    fade_out = 0.2
    if card.end < plan.output_duration - 1e-3 and card.end - card.start > card.pop_in + fade_out:
        stream = stream.filter("fade", t="out", st=card.end - fade_out, d=fade_out, alpha=1)
    if card.pop_in > 0 and card.pop_slide_px:
        # Ease-out slide from pop_slide_px above its place during the pop-in.
        y = f"{card.y}-{card.pop_slide_px}*pow(max(0,1-(t-{card.start})/{card.pop_in}),2)"
    else:
        y = str(card.y)
    return v.overlay(
        stream,
        x=card.x,
        y=y,
        eval="frame",
        enable=f"between(t,{card.start},{card.end})",
        shortest=1,
    )


def _hold_last_frame(plan: RenderPlan, v: Any) -> Any:
    """Cut the picture at the clip's end and hold its last frame under an appended end card."""
    ending = plan.end_card
    assert ending is not None
    return v.filter("trim", duration=f"{plan.duration:.3f}").filter(
        "tpad", stop_mode="clone", stop_duration=f"{ending.length:.3f}"
    )


def _overlay_end_card(plan: RenderPlan, v: Any, card_input: Any) -> Any:
    """The full-canvas end card fades in at its start and stays to the end."""
    ending = plan.end_card
    assert ending is not None
    stream = _still_stream(plan, card_input)
    if ending.fade > 0:
        stream = stream.filter("fade", t="in", st=ending.start, d=ending.fade, alpha=1)
    return v.overlay(stream, x=0, y=0, enable=f"gte(t,{ending.start})", shortest=1)


def _audio_chain(plan: RenderPlan, src: Any) -> Any:
    rate = plan.encoder.audio_rate
    if not plan.audio.has_source_audio:
        return ffmpeg_python.input(f"anullsrc=r={rate}:cl=stereo", f="lavfi").audio
    a = src.audio
    if plan.audio.gain_db is not None:
        a = a.filter("volume", f"{plan.audio.gain_db}dB")
        a = _limiter(plan, a)
    return _audio_end(plan, a)


def _limiter(plan: RenderPlan, a: Any) -> Any:
    """The true-peak ceiling after a loudness gain."""
    limit = 10 ** (plan.audio.limit_db / 20)
    return a.filter("alimiter", limit=round(limit, 4), level="disabled", attack=5, release=50)


def _audio_end(plan: RenderPlan, a: Any) -> Any:
    """The sound's ending: cut under an appended end card, then the output rate and padding."""
    rate = plan.encoder.audio_rate
    if plan.end_card is not None and plan.end_card.style == "card":
        # The clip's sound ends with the clip (a cut must not play the next reply's first words
        # under the card); a short fade avoids a click. Silence (apad) runs under the card.
        fade = min(0.1, plan.duration / 4)
        a = a.filter("atrim", duration=f"{plan.duration:.3f}").filter(
            "afade", t="out", st=f"{plan.duration - fade:.3f}", d=f"{fade:.3f}"
        )
    return a.filter("aresample", rate).filter("apad")


def _part_input(part: PartPlan) -> Any:
    input_opts: dict[str, Any] = {}
    if part.trim_start > 0:
        input_opts["ss"] = f"{part.trim_start:.3f}"
    input_opts["t"] = f"{part.duration + 0.5:.3f}"
    return ffmpeg_python.input(str(part.source.resolve()), **input_opts)


def _part_video(plan: RenderPlan, part: PartPlan) -> Any:
    """One clip of a joined reply made upright, SDR, reframed to the canvas at the output rate,
    exactly `part.duration` long from 0."""
    own = dataclasses.replace(plan, source=part.source, media=part.media, tonemap=part.tonemap,
                              duration=part.duration, trim_start=part.trim_start, parts=())
    # A clip whose last frame comes early is held (tpad) so every part is as long as planned;
    # one pixel format for all, as concat and xfade need.
    return (
        video_chain(own, _part_input(part))
        .filter("tpad", stop_mode="clone", stop_duration=1)
        .filter("trim", duration=f"{part.duration:.6f}")
        .filter("setpts", "PTS-STARTPTS")
        .filter("format", plan.encoder.pix_fmt)
    )


def _part_audio(plan: RenderPlan, part: PartPlan, silence: Iterator[Any]) -> Any:
    """One clip's sound with its own loudness gain (or silence), exactly `part.duration` long."""
    if part.audio.has_source_audio:
        a = _part_input(part).audio
        if part.audio.gain_db is not None:
            a = a.filter("volume", f"{part.audio.gain_db}dB")
    else:  # a clip without sound gets silence of its length
        a = next(silence)
    return fit_audio(plan, a, part.duration)


def fit_audio(plan: RenderPlan, a: Any, duration: float) -> Any:
    """A sound at the output's rate and layout, exactly `duration` long from 0 (padded with
    silence when it ends early): what concat, acrossfade and amix need of their inputs."""
    rate = plan.encoder.audio_rate
    return (
        a.filter("aresample", rate)
        .filter("aformat", sample_fmts="fltp", sample_rates=rate, channel_layouts="stereo")
        .filter("apad")
        .filter("atrim", duration=f"{duration:.6f}")
        .filter("asetpts", "PTS-STARTPTS")
    )


def _fan_out(keys: list[Hashable], make: Callable[[int], Any], split: str) -> list[Any]:
    """One stream for each key, made by `make(index of the key's first use)`.

    ffmpeg-python merges nodes with equal inputs and arguments (the same cut of a clip twice,
    two silences of one length), and a merged node may feed one filter only: equal keys share
    one chain, split into copies.
    """
    uses = {key: keys.count(key) for key in keys}
    made: dict[Hashable, Iterator[Any]] = {}
    out = []
    for index, key in enumerate(keys):
        if key not in made:
            stream = make(index)
            copies = uses[key]
            if copies > 1:
                node = stream.filter_multi_output(split, copies)
                made[key] = iter([node[i] for i in range(copies)])
            else:
                made[key] = iter([stream])
        out.append(next(made[key]))
    return out


def _joined_streams(plan: RenderPlan) -> tuple[Any, Any]:
    """Several clips, each made on its own, joined in order: a cut (concat) or a crossfade."""
    parts = plan.parts
    cut_keys: list[Hashable] = [(p.source, p.trim_start, p.duration) for p in parts]
    videos = _fan_out(cut_keys, lambda i: _part_video(plan, parts[i]), "split")
    sound_keys: list[Hashable] = [key if p.audio.has_source_audio else ("silence", p.duration)
                                  for key, p in zip(cut_keys, parts)]
    silent = len({k for k, p in zip(sound_keys, parts) if not p.audio.has_source_audio})
    rate = plan.encoder.audio_rate
    silence: Iterator[Any] = iter(())
    if silent:
        source = ffmpeg_python.input(f"anullsrc=r={rate}:cl=stereo", f="lavfi").audio
        silence = iter(_fan_out(["silence"] * silent, lambda i: source, "asplit"))
    audios = _fan_out(sound_keys, lambda i: _part_audio(plan, parts[i], silence), "asplit")
    if plan.crossfade > 0:
        v, a = videos[0], audios[0]
        for part, pv, pa in zip(parts[1:], videos[1:], audios[1:]):
            v = ffmpeg_python.filter([v, pv], "xfade", transition="fade", duration=f"{plan.crossfade:.6f}",
                                     offset=f"{part.start:.6f}")
            a = ffmpeg_python.filter([a, pa], "acrossfade", d=f"{plan.crossfade:.6f}")
    else:
        joined = ffmpeg_python.concat(*[s for pair in zip(videos, audios) for s in pair], v=1, a=1).node
        v, a = joined[0], joined[1]
    if any(p.audio.gain_db is not None for p in parts):
        a = _limiter(plan, a)
    return v, _audio_end(plan, a)


def build_args(plan: RenderPlan, output: Path, *, ffmpeg: str = "ffmpeg") -> list[str]:
    """The full ffmpeg argv for a plan, writing to `output` (the temp file).

    Runs in a work folder holding `captions.ass` and `fonts/` when the plan has captions. A plan
    of several clips (`plan.parts`) reads each as its own input and joins them in the graph.
    """
    if plan.duet is not None:
        from pipeline.video.duet import duet_streams  # it builds on video_chain, above

        v, a = duet_streams(plan)
        if any(p.audio.gain_db is not None for p in plan.parts):
            a = _limiter(plan, a)
        a = _audio_end(plan, a)
    elif plan.parts:
        v, a = _joined_streams(plan)
    else:
        input_opts: dict[str, Any] = {}
        if plan.trim_start > 0:
            input_opts["ss"] = f"{plan.trim_start:.3f}"
        input_opts["t"] = f"{plan.duration + 0.5:.3f}"
        # Absolute paths: ffmpeg runs with the work folder as its cwd.
        src = ffmpeg_python.input(str(plan.source.resolve()), **input_opts)
        v = video_chain(plan, src)
        a = _audio_chain(plan, src)
    if plan.end_card is not None and plan.end_card.style == "card":
        v = _hold_last_frame(plan, v)  # before the comment card: it fades out as the end card comes
    if plan.card is not None:
        v = _overlay_card(plan, v, ffmpeg_python.input(str(plan.card.image.path.resolve())))
    if plan.captions is not None:
        v = v.filter("ass", CAPTIONS_NAME, fontsdir=FONTS_NAME)
    if plan.end_card is not None:
        v = _overlay_end_card(plan, v, ffmpeg_python.input(str(plan.end_card.image.path.resolve())))
    # Tag the frames BT.709: ffmpeg takes the stream's colour tags from the frames.
    v = v.filter("format", plan.encoder.pix_fmt).filter(
        "setparams", color_primaries="bt709", color_trc="bt709", colorspace="bt709", range="tv"
    )
    enc = plan.encoder
    out_opts: dict[str, Any] = {
        "vcodec": enc.codec,
        "preset": enc.preset,
        "crf": enc.crf,
        "profile:v": enc.profile,
        "pix_fmt": enc.pix_fmt,
        "colorspace": "bt709",
        "color_primaries": "bt709",
        "color_trc": "bt709",
        "color_range": "tv",
        "acodec": enc.audio_codec,
        "b:a": enc.audio_bitrate,
        "ar": enc.audio_rate,
        "ac": 2,
        "t": f"{plan.output_duration:.3f}",
        "movflags": "+faststart",
        "map_metadata": -1,  # phones store the filming location; never publish it
        "map_chapters": -1,
    }
    if enc.threads:
        out_opts["threads"] = enc.threads
    node = ffmpeg_python.output(v, a, str(output.resolve()), **out_opts)
    global_args = ["-hide_banner", "-nostdin", "-y", "-loglevel", "warning", "-progress", "pipe:1", "-nostats"]
    if enc.filter_threads:
        global_args += ["-filter_complex_threads", str(enc.filter_threads)]
    # Global options go first: ffmpeg ignores options trailing the output file.
    return [ffmpeg, *global_args, *node.compile(cmd=ffmpeg)[1:]]


def check_output_path(output: Path, inputs: list[Path]) -> None:
    """Refuse outputs that would overwrite an input or cannot be an MP4.

    Raises:
        OutputError: the output is an input, has a wrong suffix or is a folder.
    """
    if output.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(f"{output}: the output must end in .mp4 (or .m4v/.mov)")
    if output.is_dir():
        raise OutputError(f"{output}: is a folder; give a file name like reply.mp4")
    target = output.resolve()
    for path in inputs:
        if path is None:
            continue
        same = path.resolve() == target
        if not same and output.exists() and path.exists():
            same = os.path.samefile(path, output)
        if same:
            raise OutputError(f"{output}: the output would overwrite the input {path.name}",
                              hint="choose another output name")


def check_writable(output: Path) -> None:
    """Fail early (before any slow work) when the output folder cannot be made or written.

    Raises:
        OutputError: the folder cannot be created or written.
    """
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{output}: cannot create the folder {output.parent} ({exc.strerror})",
                          hint="choose a folder you can write to") from None
    if not os.access(output.parent, os.W_OK | os.X_OK):
        raise OutputError(f"{output}: the folder {output.parent} is not writable",
                          hint="choose a folder you can write to")


def render(plan: RenderPlan, *, on_progress: Callable[[float], None] | None = None) -> Path:
    """Run the plan: one ffmpeg process; the output appears only when it is complete.

    Temp files of the same output left by a run that was killed (`kill -9`, a power cut) are
    removed first; those of a render still going on in another process are kept.

    Raises:
        OutputError: the output folder cannot be written.
        RenderError: ffmpeg failed.
    """
    output = plan.output
    check_output_path(output, [p.source for p in plan.parts] + [plan.source]
                      + ([plan.card.image.path] if plan.card else [])
                      + ([plan.end_card.image.path] if plan.end_card else []))
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{output}: cannot write here ({exc.strerror})",
                          hint="choose a folder you can write to") from None
    remove_stale_partials(output)
    with atomic_path(output) as tmp:
        with ffmpeg_work_dir(plan) as work_dir:
            argv = build_args(plan, tmp, ffmpeg=ffmpeg_path())
            stderr = run_ffmpeg(argv, duration=plan.output_duration, on_progress=on_progress, cwd=work_dir,
                                what=f"rendering {_sources(plan)}")
        _check_result(plan, tmp, stderr, argv)
    return output


@contextmanager
def ffmpeg_work_dir(plan: RenderPlan, prefix: str = "sossut-") -> Iterator[Path]:
    """A temp folder for ffmpeg's cwd holding the plan's captions as `captions.ass`, the fonts
    as `fonts/` and the HDR tone-mapping LUTs by their fixed names: the filter graph names only
    those fixed names, never a user's path.

    Raises:
        RenderError: a tone-mapping LUT could not be made.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as work:
        work_dir = Path(work)
        if plan.captions is not None:
            shutil.copyfile(plan.captions, work_dir / CAPTIONS_NAME)
            fonts = work_dir / FONTS_NAME
            fonts.mkdir()
            for font in outline_fonts(plan.fonts_dir):
                os.symlink(font, fonts / font.name)
        for spec in hdr_specs(plan):
            os.symlink(lut_file(spec, work_dir), work_dir / spec.work_name)
        yield work_dir


@functools.lru_cache(maxsize=4)
def outline_fonts(fonts_dir: Path) -> tuple[Path, ...]:
    """The fonts in `fonts_dir` libass can draw captions with: TrueType/OpenType files with
    outlines (a `glyf`, `CFF ` or `CFF2` table), not the colour-bitmap emoji font nor the
    licences beside them. libass reads every file of its fonts folder into memory for each
    render (the emoji font is 11 MB) and logs an error for each one it cannot use.
    """
    found = []
    for path in sorted(fonts_dir.iterdir()):
        if path.suffix.lower() in (".ttf", ".otf", ".ttc") and _has_outlines(path):
            found.append(path)
    return tuple(found)


def _has_outlines(path: Path) -> bool:
    """Whether an sfnt font file has outline glyphs (read from its table directory)."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
            if head[:4] == b"ttcf":
                return True  # a collection: libass picks its faces itself
            if len(head) < 12:
                return False
            tables = int.from_bytes(head[4:6], "big")
            directory = f.read(16 * tables)
    except OSError:
        return False
    tags = {directory[i:i + 4] for i in range(0, len(directory) - 15, 16)}
    return bool(tags & {b"glyf", b"CFF ", b"CFF2"})


def _sources(plan: RenderPlan) -> str:
    """The clip's name, or the joined clips' names ("a.mp4 + b.mp4"), for messages."""
    return " + ".join(p.source.name for p in plan.parts) if plan.parts else plan.source.name


def _check_result(plan: RenderPlan, tmp: Path, stderr: str, argv: list[str]) -> None:
    """ffmpeg may exit 0 on a clip that ends early (truncated); the output must be whole."""
    import av

    try:
        with av.open(str(tmp)) as container:
            stream = container.streams.video[0]
            if stream.duration is not None and stream.time_base is not None:
                got = float(stream.duration * stream.time_base)
            else:
                got = (container.duration or 0) / 1e6
    except Exception as exc:  # any failure to read our own output is a render failure
        raise RenderError(f"rendering {_sources(plan)} gave an unreadable file ({exc})", argv=argv,
                          stderr=stderr) from None
    if got < plan.output_duration - 0.25:
        truncated = any(s in stderr for s in ("partial file", "Invalid data", "corrupt", "error while decoding"))
        raise RenderError(
            f"{_sources(plan)}: the video ends at {got:.2f} s instead of {plan.output_duration:.2f} s"
            + (" (the clip is truncated or damaged)" if truncated else ""),
            hint="copy the clip again from the phone" if truncated else "run with --debug to see ffmpeg's messages",
            argv=argv,
            stderr=stderr,
        )
