"""A studio job of several clips: its clock, captions on that clock, the duet's sync, waveforms.

In: a `JobStore`, a job and the studio's `Settings`. Out: the parts and options the core takes
(`ClipPart`s for `make_reply`, an offset for `make_duet`), cues on the video's clock, the offset
found by `sync_clips` saved in `job.json`, and a small envelope of a clip's sound for the page.

Clocks of the captions (what `make_reply` / `make_duet` read from a caption file):
- one clip: the clip's own (a cut keeps the recording's times, as `sossut render --captions`);
- several clips joined: the joined video's, each clip's captions moved to where it starts;
- a duet: the duet video's (0 = where both recordings run), as `make_duet` makes them: with the
  speaker's sound each word from the recording of whoever speaks (`duet_cues`), each cue its speaker.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.studio import cliplist
from pipeline.studio.cliplist import JobClip
from pipeline.studio.jobs import FILE_MODE, JobData, JobStore
from pipeline.types import Cue, Shot, Transcript

log = logging.getLogger(__name__)

WAVE_RATE = 8000  # Hz decoded for the waveform: plenty for an envelope
WAVE_POINTS_PER_SECOND = 200
WAVE_MAX_POINTS = 4000

Progress = Callable[[float], None]


def clip_paths(store: JobStore, job: JobData) -> list[Path]:
    """The job's clips as files, in order.

    Raises:
        InputError: no clip, or a studio-folder clip that is gone (named).
    """
    if not job.clips:
        raise InputError("the job has no clip", hint="add a clip first")
    paths = []
    for index, clip in enumerate(job.clips, 1):
        path = store.path_of(job, clip)
        if path is None:
            raise InputError(f"clip {index} ({clip.name}) is no longer in the studio folder",
                             hint="put it back or remove it from the reply")
        paths.append(path)
    return paths


def parts(store: JobStore, job: JobData) -> list[Any]:
    """The job's clips as `ClipPart`s for `make_reply` (each with its cut)."""
    from pipeline.reply import ClipPart

    return [ClipPart(path, clip.start, clip.end) for path, clip in zip(clip_paths(store, job), job.clips)]


def duet_layouts() -> list[str]:
    """The duet layouts the page offers: those the config accepts for `[duet] layout`."""
    from pipeline.config import allowed_values

    return list(allowed_values("duet.layout"))


def with_durations(store: JobStore, job: JobData) -> JobData:
    """The job with each clip's length known: a job file from before several clips has none (the
    page shows it and plays several clips by it); probed once and saved, not as a change."""
    if all(clip.duration > 0 for clip in job.clips):
        return job
    from pipeline.video import probe

    clips = []
    for clip in job.clips:
        path = store.path_of(job, clip)
        if clip.duration <= 0 and path is not None and path.is_file():
            try:
                clip = replace(clip, duration=round(probe(path).duration, 3))
            except InputError:
                pass  # an unreadable clip says so when it is used
        clips.append(clip)
    return store.save(cliplist.with_clips(job, tuple(clips)), touched=False)


# --- the duet's offset ---------------------------------------------------------------------


def sync(store: JobStore, job: JobData, settings: Settings, on_progress: Progress) -> JobData:
    """Find when clip 2 started after clip 1 from their sound (`sync_clips`) and save it; when the
    sound gives no sure offset (headphones) the job says so ("low") and keeps an offset to adjust.
    """
    from pipeline.video import sync_clips

    a, b = clip_paths(store, job)[:2]
    on_progress(0.0)
    try:
        found = sync_clips(a, b, settings.sync)
    except InputError:
        on_progress(0.5)  # a cancel asked meanwhile wins
        log.info("job %s: no sure offset from the sound", job.id)  # the message names files: not logged
        latest = store.load(job.id)
        return store.save(replace(latest, duet_sync="low", duet_confidence=0.0,
                                  duet_offset=latest.duet_offset if latest.duet_offset is not None else 0.0))
    on_progress(0.99)
    latest = store.load(job.id)
    log.info("job %s: offset %.3f s from the sound (confidence %.1f)", job.id, found.offset_s, found.confidence)
    return store.save(replace(latest, duet_offset=round(found.offset_s, 4), duet_confidence=round(found.confidence, 2),
                              duet_sync="found"))


def duet_offset(store: JobStore, job: JobData, settings: Settings, on_progress: Progress) -> float:
    """The job's offset; found from the sound first when not known yet.

    Raises:
        InputError: the sound gives no sure offset and none was set by hand.
    """
    if job.duet_offset is None:
        job = sync(store, job, settings, on_progress)
    if job.duet_sync == "low" or job.duet_offset is None:  # never a guess: a person sets it first
        raise InputError("the recordings' sound gives no sure offset (headphones?)",
                         hint="set the offset by hand in the duet view")
    return job.duet_offset


# --- captions on the video's clock ---------------------------------------------------------


def timeline_cues(store: JobStore, job: JobData, settings: Settings, transcribe: Callable[[Path, Progress], Transcript],
                  on_progress: Progress) -> list[Cue]:
    """The job's speech laid out as captions on the clock of the video it makes (module docstring).

    Args:
        transcribe: the whole clip's transcript (cached by content), with its progress.

    Raises:
        PipelineError: a clip cannot be read or transcribed, or a duet has no offset.
    """
    from pipeline.captions import layout_cues, shift_cues
    from pipeline.video import join_parts, probe

    width, safe = settings.canvas.width, settings.safe_zone
    paths = clip_paths(store, job)
    if cliplist.is_duet(job):
        return _duet_cues(store, job, settings, transcribe, on_progress)
    if len(paths) == 1:  # the clip's own clock: the player in the page plays the clip itself
        cues = layout_cues(transcribe(paths[0], on_progress), settings.captions, width, safe)
        clip = job.clips[0]
        if clip.start <= 0 and clip.end is None:
            return cues
        return shift_cues(cues, 0.0, clip.start, math.inf if clip.end is None else clip.end)
    medias = [probe(p) for p in paths]
    spans = [_span(clip, media.duration) for clip, media in zip(job.clips, medias)]
    timing = join_parts(medias, spans, settings)
    fade = timing[0].duration - timing[1].start
    done: dict[Path, Transcript] = {}
    cues = []
    for index, (media, span, part) in enumerate(zip(medias, spans, timing)):
        if not media.has_audio:
            continue
        if media.path not in done:
            def progress(fraction: float, index: int = index) -> None:
                on_progress((index + fraction) / len(timing))
            done[media.path] = transcribe(media.path, progress)
        transcript = done[media.path] if span is None else done[media.path].between(*span)
        length = part.duration - (fade if index < len(timing) - 1 else 0.0)
        cues += shift_cues(layout_cues(transcript, settings.captions, width, safe), -part.start, 0.0, length)
    return cues


def still_source(store: JobStore, job: JobData, settings: Settings, at: float
                 ) -> tuple[Path, float, float, tuple[float, float] | None]:
    """Which clip shows the video's frame at `at` (on the captions' clock), and where.

    Returns:
        (the clip, the time in it, how much the video's clock is ahead of the clip's, the stretch
        of the video's clock that clip plays in; None: the whole, one clip).
    """
    from pipeline.video import join_parts, probe

    paths = clip_paths(store, job)
    if len(paths) == 1:
        return paths[0], at, 0.0, None
    if cliplist.is_duet(job):  # not lined up yet (a lined-up duet's still is of its layout): the first as it is
        return paths[0], at, 0.0, None
    medias = [probe(p) for p in paths]
    timing = join_parts(medias, [_span(c, m.duration) for c, m in zip(job.clips, medias)], settings)
    fade = timing[0].duration - timing[1].start
    for index, part in enumerate(timing):
        end = part.start + part.duration - (fade if index < len(timing) - 1 else 0.0)
        if at < end or index == len(timing) - 1:
            shift = part.start - part.trim_start
            return paths[index], at - shift, shift, (part.start, end)
    raise AssertionError("unreachable")


def _duet_cues(store: JobStore, job: JobData, settings: Settings,
               transcribe: Callable[[Path, Progress], Transcript], on_progress: Progress) -> list[Cue]:
    """A duet's captions as `make_duet` makes them (`duet_cues`: each word from the recording of
    whoever speaks, each cue with its speaker), the transcripts cached per clip by `transcribe`."""
    from pipeline.duet import duet_cues
    from pipeline.types import MediaInfo
    from pipeline.video import probe

    offset = duet_offset(store, job, settings, lambda f: on_progress(0.0))
    path_a, path_b = clip_paths(store, job)[:2]
    media_a, media_b = probe(path_a), probe(path_b)
    if not (media_a.has_audio or media_b.has_audio):
        raise InputError(f"{media_a.path.name} and {media_b.path.name} have no audio track",
                         hint="captions need speech")
    heard = 2 if settings.duet.sound == "speaker" and media_a.has_audio and media_b.has_audio else 1
    done: list[Path] = []

    def by_media(media: MediaInfo) -> Transcript:
        count = len(done)
        done.append(media.path)
        return transcribe(media.path, lambda f: on_progress((count + f) / heard))

    shots = duet_shots(store, replace(job, duet_offset=offset), settings)  # the offset just found, if so
    return duet_cues(media_a, media_b, offset, settings, by_media, shots=shots)


def duet_shots(store: JobStore, job: JobData, settings: Settings) -> list[Shot]:
    """Who is shown and heard when in the duet (`pipeline.duet.duet_shots`, as `make_duet` decides),
    on the duet's clock; cached in the job folder for the offset, the two files and the options.

    Raises:
        PipelineError: no offset yet, or a clip cannot be read.
    """
    import json

    from pipeline.duet import duet_shots as find_shots
    from pipeline.files import atomic_write
    from pipeline.video import probe

    if job.duet_offset is None:
        raise InputError("the recordings are not lined up yet", hint="find the offset in the duet view")
    paths = clip_paths(store, job)[:2]
    duet = settings.duet
    stamp = json.dumps([job.duet_offset, [f"{p.stat().st_size}-{p.stat().st_mtime_ns}" for p in paths],
                        duet.layout, duet.sound, list(duet.speaker_colors), duet.min_shot, duet.switch_margin,
                        duet.switch_hold])
    cache = store.file(job.id, "shots.json")
    if cache.is_file():
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            if data.get("stamp") == stamp:
                return [Shot(float(s["start"]), float(s["end"]), int(s["speaker"])) for s in data["shots"]]
        except (ValueError, KeyError, TypeError):
            pass  # a broken cache is made again
    shots = find_shots(probe(paths[0]), probe(paths[1]), job.duet_offset, settings)
    atomic_write(cache, json.dumps({"stamp": stamp, "shots": [
        {"start": round(s.start, 3), "end": round(s.end, 3), "speaker": s.speaker} for s in shots]}), mode=FILE_MODE)
    return shots


def _span(clip: JobClip, duration: float) -> tuple[float, float] | None:
    if clip.start <= 0 and clip.end is None:
        return None
    end = duration if clip.end is None else min(clip.end, duration)
    return (clip.start, end)


# --- waveforms -----------------------------------------------------------------------------


def waveform(store: JobStore, job: JobData, clip: JobClip) -> dict[str, Any]:
    """A clip's sound as an envelope for the page: `{"duration", "rate" (points a second),
    "peaks" (0..1, the loudest point 1)}`, at most `WAVE_MAX_POINTS`; cached in the job folder.

    Raises:
        InputError: the clip is gone or cannot be read. A clip without sound gives no peaks.
    """
    import json

    from pipeline.files import atomic_write
    from pipeline.video import decode_audio, probe

    path = store.path_of(job, clip)
    if path is None:
        raise InputError(f"{clip.name} is no longer in the studio folder")
    cache = store.file(job.id, f"wave-{clip.key}.json")
    stat = path.stat()
    stamp = f"{stat.st_size}-{stat.st_mtime_ns}"
    if cache.is_file():
        data: dict[str, Any] = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("stamp") == stamp:
            return data
    media = probe(path)
    duration = media.duration
    rate = min(float(WAVE_POINTS_PER_SECOND), WAVE_MAX_POINTS / max(duration, 1e-3))
    peaks: list[float] = []
    if media.has_audio:
        samples = decode_audio(path, rate=WAVE_RATE)[0]
        # The sound may run a little past the container's duration: the cap holds all the same.
        step = max(int(round(WAVE_RATE / rate)), math.ceil(samples.size / WAVE_MAX_POINTS))
        peaks = envelope(samples, step)
        rate = WAVE_RATE / step
    data = {"duration": round(duration, 3), "rate": round(rate, 4), "peaks": peaks, "stamp": stamp}
    atomic_write(cache, json.dumps(data), mode=FILE_MODE)
    return data


def envelope(samples: np.ndarray, step: int) -> list[float]:
    """The loudest absolute sample of each `step` samples, scaled so the loudest is 1."""
    step = max(1, step)
    count = math.ceil(samples.size / step)
    if count == 0:
        return []
    padded = np.zeros(count * step, dtype=np.float32)
    padded[:samples.size] = np.abs(samples)
    peaks = padded.reshape(count, step).max(axis=1)
    top = float(peaks.max())
    if top > 0:
        peaks = peaks / top
    return [round(float(x), 3) for x in peaks]
