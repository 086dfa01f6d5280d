"""Media stage: a clip path -> `MediaInfo` (PyAV); decoded audio as float samples.

There is no ffprobe in imageio-ffmpeg's wheel, so everything is read with PyAV.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av

from pipeline.errors import InputError
from pipeline.types import MediaInfo

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# AVColorTransferCharacteristic / AVColorPrimaries values (libavutil/pixfmt.h) we name.
_TRANSFER = {1: "bt709", 6: "smpte170m", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12",
             16: "smpte2084", 18: "arib-std-b67"}
_PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020", 12: "smpte432"}


def probe(path: Path) -> MediaInfo:
    """Read duration, size, rotation, frame rate and audio presence of a clip.

    Raises:
        InputError: missing file, not a media file, no video stream, or unreadable frames.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a video file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path}: not a readable media file ({_reason(exc)})",
            hint="is it a complete video? a recording cut off while copying looks like this",
        ) from None
    with container:
        if not container.streams.video:
            raise InputError(f"{path}: has no video stream", hint="sossut needs a video clip, not audio only")
        vstream = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        try:
            frame = next(container.decode(vstream))
        except (av.error.FFmpegError, StopIteration) as exc:
            raise InputError(f"{path}: no picture can be decoded ({_reason(exc)})",
                             hint="the file looks truncated or damaged") from None
        rotation = int(getattr(frame, "rotation", 0) or 0) % 360
        duration = _duration(container, vstream)
        if duration <= 0:
            raise InputError(f"{path}: the video has no duration (a truncated or damaged file?)")
        avg = vstream.average_rate or vstream.guessed_rate or Fraction(30)
        base = vstream.base_rate or avg
        vfr = bool(avg and base and abs(float(base) - float(avg)) > 0.05 * float(avg))
        ctx = vstream.codec_context
        pix_fmt = frame.format.name
        info = MediaInfo(
            path=path,
            duration=duration,
            width=vstream.width or frame.width,
            height=vstream.height or frame.height,
            rotation=_normalise_rotation(rotation),
            fps=Fraction(avg),
            has_audio=audio is not None,
            audio_rate=audio.rate if audio is not None else None,
            audio_channels=audio.channels if audio is not None else None,
            video_codec=ctx.name,
            pix_fmt=pix_fmt,
            bit_depth=_bit_depth(pix_fmt),
            color_transfer=_TRANSFER.get(int(ctx.color_trc or 0), ""),
            color_primaries=_PRIMARIES.get(int(ctx.color_primaries or 0), ""),
            variable_frame_rate=vfr,
            nominal_fps=Fraction(base) if base else None,
        )
        _check_complete(path, info, container)
    log.debug("probed %s: %s", path.name, info)
    return info


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def _normalise_rotation(degrees: int) -> int:
    return min((0, 90, 180, 270), key=lambda r: min(abs(r - degrees), 360 - abs(r - degrees)))


def _bit_depth(pix_fmt: str) -> int:
    for depth in (16, 12, 10):
        if f"p{depth}" in pix_fmt or pix_fmt.endswith(f"{depth}le") or pix_fmt.endswith(f"{depth}be"):
            return depth
    return 8


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).split(":")[-1].strip() or type(exc).__name__


def _check_complete(path: Path, info: MediaInfo, container: av.container.InputContainer) -> None:
    """A file cut off while copying still opens when its index (moov) came first; catch it here.

    Seek to the last second and demux: a whole file has packets up to its stated duration. The
    probe's own open container is reused (one open and header parse per probe).
    """
    try:
        stream = container.streams.video[0]
        if not stream.time_base:
            return
        target = max(0.0, info.duration - 1.0)
        container.seek(int(target / stream.time_base), stream=stream, any_frame=False, backward=True)
        last = -1.0
        for packet in container.demux(stream):
            if packet.pts is not None and packet.size:
                last = max(last, float(packet.pts * stream.time_base))
    except av.error.FFmpegError as exc:
        raise InputError(f"{path}: the file is truncated or damaged ({_reason(exc)})",
                         hint="copy the clip again from the phone") from None
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    if last - start < target - 0.5:
        raise InputError(
            f"{path}: the file is truncated: its video stops at {max(0.0, last - start):.1f} s "
            f"of {info.duration:.1f} s",
            hint="copy the clip again from the phone",
        )


def decode_audio(path: Path, rate: int = 16000, layout: str = "mono", start: float = 0.0,
                 duration: float | None = None) -> np.ndarray:
    """Decode the first audio stream to float32 samples at `rate`, shape (channels, n).

    Transcription takes 16 kHz mono; loudness takes 48 kHz stereo. `start`/`duration` decode
    only a span (a cut of a long recording).

    Raises:
        InputError: the file cannot be opened, has no audio track, or its audio cannot be decoded.
    """
    import numpy as np  # here: probing (every render) needs no numpy

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise InputError(f"cannot read {path.name}: {_reason(exc)}", hint="is it a video or audio file?") from None
    chunks: list[np.ndarray] = []
    first_time: float | None = None
    with container:
        if not container.streams.audio:
            raise InputError(
                f"{path.name} has no audio track",
                hint="captions need speech; check the phone recorded with sound, or use --captions none",
            )
        stream = container.streams.audio[0]
        try:
            if start > 0:
                container.seek(int(start * av.time_base), any_frame=False, backward=True)
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            for frame in container.decode(stream):
                if first_time is None and frame.time is not None:
                    first_time = float(frame.time)
                chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
                if duration is not None and frame.time is not None and frame.time > start + duration + 1:
                    break
            chunks.extend(out.to_ndarray() for out in resampler.resample(None))
        except av.error.FFmpegError as exc:
            raise InputError(f"cannot decode the audio of {path.name}: {_reason(exc)}") from None
    channels = 1 if layout == "mono" else 2
    if not chunks:
        return np.zeros((channels, 0), dtype=np.float32)
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    if start > 0 and first_time is not None:
        samples = samples[:, int(round(max(0.0, start - first_time) * rate)):]
    if duration is not None:
        samples = samples[:, : int(round(duration * rate))]
    return samples
