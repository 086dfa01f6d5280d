"""The clips of a studio job: which, in what order, each one's cut, and how they make a video.

In: a job's `JobData` and what the page asks (add, reorder, cut, remove). Out: a new `JobData`
(pure functions; `jobs.JobStore` saves it). A job's clips are joined one after another
(`kind` "join", `make_reply` with `ClipPart`s) or, exactly two, shown as a duet (`kind` "duet",
`make_duet` with the offset found by `sync_clips` or set by hand).

`job.json` keeps the clips as a list; the first one is also mirrored into the old single-clip
fields (`clip_name`, `clip_file`, `clip_ref`), so older code and older job files still read.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from pipeline.config import allowed_values

if TYPE_CHECKING:
    from pipeline.studio.jobs import JobData

JobKind = Literal["join", "duet"]
JOB_KINDS: tuple[str, ...] = ("join", "duet")
DUET_LAYOUTS: tuple[str, ...] = allowed_values("duet.layout")  # a job may keep any layout the config accepts
# "": not looked for, "found": from the sound, "low": the sound gave no sure offset, "manual": set by hand
DuetSync = Literal["", "found", "low", "manual"]
MAX_CLIPS = 20
MAX_OFFSET = 3600.0  # seconds either way a duet's second recording may start


@dataclass(frozen=True, slots=True)
class JobClip:
    """One clip of a job and the stretch of it used (seconds of the clip)."""

    key: str  # made here, never taken from a request: names the clip in routes ("/clips/<key>")
    name: str  # shown to the person (the uploaded file's name or the studio-folder clip's)
    file: str = ""  # a file in the job folder ("clip.mp4", "clip-<key>.mp4") ...
    ref: str = ""  # ... or the name of a clip in the studio folder
    start: float = 0.0
    end: float | None = None  # None: to the clip's end
    duration: float = 0.0  # seconds, as probed when added (0: not known yet)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobClip:
        end = data.get("end")
        return cls(key=str(data["key"]), name=str(data.get("name", "")), file=str(data.get("file", "")),
                   ref=str(data.get("ref", "")), start=float(data.get("start", 0.0)),
                   end=None if end is None else float(end), duration=float(data.get("duration", 0.0)))


FIRST_KEY = "00000000"  # the clip of a job file from before several clips (stable across loads)


def new_key() -> str:
    return secrets.token_hex(4)


def clips_from_dict(data: dict[str, Any]) -> tuple[JobClip, ...]:
    """The clips of a `job.json`; an older file with one clip (`clip_file`/`clip_ref`) gives that one."""
    items = data.get("clips")
    if isinstance(items, list):  # an entry without its key (a hand-edited file) is left out
        return tuple(JobClip.from_dict(item) for item in items if isinstance(item, dict) and item.get("key"))
    if data.get("clip_file") or data.get("clip_ref"):
        return (JobClip(key=FIRST_KEY, name=str(data.get("clip_name", "")), file=str(data.get("clip_file", "")),
                        ref=str(data.get("clip_ref", ""))),)
    return ()


def with_clips(job: JobData, clips: tuple[JobClip, ...]) -> JobData:
    """The job with these clips, the first mirrored into the single-clip fields."""
    first = clips[0] if clips else JobClip(key="", name="")
    return replace(job, clips=clips, clip_name=first.name, clip_file=first.file, clip_ref=first.ref)


def add(job: JobData, clip: JobClip) -> JobData:
    """Raises: ValueError: the job already has `MAX_CLIPS` clips."""
    if len(job.clips) >= MAX_CLIPS:
        raise ValueError("too many clips")
    return with_clips(job, (*job.clips, clip))


def find(job: JobData, key: str) -> JobClip:
    """Raises: KeyError: no clip of that key in the job."""
    for clip in job.clips:
        if clip.key == key:
            return clip
    raise KeyError(key)


def reorder(job: JobData, keys: Any) -> JobData:
    """The clips in the order of `keys`, which must name each clip of the job once.

    Raises:
        ValueError: any other list.
    """
    if not isinstance(keys, list) or sorted(map(str, keys)) != sorted(c.key for c in job.clips):
        raise ValueError("order must name every clip once")
    by_key = {c.key: c for c in job.clips}
    return with_clips(job, tuple(by_key[str(k)] for k in keys))


def trim(job: JobData, key: str, start: Any, end: Any) -> JobData:
    """Set a clip's cut; `end` None (or past the clip) means to its end.

    Raises:
        KeyError: no such clip. ValueError: not finite non-negative seconds with start < end.
    """
    clip = find(job, key)
    begin = _seconds(start)
    stop = None if end is None else _seconds(end)
    if stop is not None and clip.duration > 0 and stop >= clip.duration - 1e-3:
        stop = None
    if clip.duration > 0 and begin >= clip.duration - 0.1:
        raise ValueError("start past the clip's end")
    if stop is not None and stop <= begin + 0.1:
        raise ValueError("the cut must be longer than 0.1 s")
    changed = replace(clip, start=round(begin, 3), end=None if stop is None else round(stop, 3))
    return with_clips(job, tuple(changed if c.key == key else c for c in job.clips))


def remove(job: JobData, key: str) -> tuple[JobData, JobClip]:
    """The job without the clip, and the clip removed. Raises: KeyError: no such clip."""
    gone = find(job, key)
    return with_clips(job, tuple(c for c in job.clips if c.key != key)), gone


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError("a time must be a number of seconds")
    return float(value)


def check_offset(value: Any) -> float:
    """A duet offset from the page: finite seconds within `MAX_OFFSET`. Raises: ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("offset")
    if abs(value) > MAX_OFFSET:
        raise ValueError("offset")
    return round(float(value), 3)


def is_duet(job: JobData) -> bool:
    return job.kind == "duet" and len(job.clips) == 2


def timeline(job: JobData) -> str:
    """A fingerprint of what sets the video's clock (kind, clips, cuts, offset): captions made for
    another one no longer fit the video."""
    if is_duet(job):
        what: Any = ["duet", [c.file or c.ref for c in job.clips], job.duet_offset]
    else:
        what = ["join", [[c.file or c.ref, c.start, c.end] for c in job.clips]]
    return hashlib.sha256(json.dumps(what).encode()).hexdigest()[:16]


def clips_json(job: JobData) -> list[dict[str, Any]]:
    return [asdict(c) for c in job.clips]
