"""Job folders of the studio: one folder per reply under `<studio folder>/jobs/<id>/`.

In: the studio folder and what the page sends. Out: job folders (mode 0700) holding

- `job.json`: the comment, the options (look and end card), the clip's name, the times of the last
  edit and render, and what the last render's checks found (message keys, `studio.report`);
- `clip.<ext>`: the uploaded clip (or a reference to a clip in the studio folder, in `job.json`);
- `transcript.json`: the speech as the engine heard it (DESIGN.md's transcript schema);
- `captions.json`: the edited caption cues (`write_json` format, words in the transcript schema),
  which `sossut render --captions` reads back as they are;
- `render.toml`: the look chosen in the page as a `--config` file for `sossut render`;
- `vastaus.mp4` (+ `.srt`, `.vtt`): the finished video, written atomically by `make_reply`
  (downloaded, and named in the answered ledger, as `vastaus-<first 6 of the id>.mp4`).

Ids are made here (`secrets`), never taken from a request; a string that is not such an id is
"not found". Every path handed out is checked to be inside the studio folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pipeline.files import atomic_write, is_inside
from pipeline.studio import cliplist
from pipeline.studio.cliplist import DUET_LAYOUTS, JOB_KINDS, DuetSync, JobClip, JobKind
from pipeline.types import REFRAMES, VIDEO_SUFFIXES

if TYPE_CHECKING:
    from pipeline.comments import MaskOptions

log = logging.getLogger(__name__)

JobState = Literal["draft", "rendered"]
CaptionSize = Literal["normal", "large"]
CAPTION_SIZES: tuple[str, ...] = ("normal", "large")
# The help-resources end card: "" follows the config's [end_card] mode (the page shows which).
END_CARDS: tuple[str, ...] = ("auto", "always", "never")
CLIP_SUFFIXES: tuple[str, ...] = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".3gp")
OUTPUT_NAME = "vastaus.mp4"
FOLDER_MODE = 0o700
FILE_MODE = 0o600
MAX_COMMENT_CHARS = 5000
MAX_USER_CHARS = 100
_ID = re.compile(r"^[0-9a-f]{16}$")


class NotFound(Exception):
    """No job, clip or file of that name (also: a name that could only point outside)."""


@dataclass(frozen=True, slots=True)
class JobData:
    """What `job.json` holds."""

    id: str
    created: float
    updated: float  # last change a person made (comment, options, clip, captions)
    comment: str = ""
    user: str = ""
    show_user: bool = False
    reframe: str = "blur"
    caption_size: str = "normal"
    end_card: str = ""  # auto | always | never; "": the config's [end_card] mode
    clip_name: str = ""  # the name to show (the uploaded file's name or the studio-folder clip's)
    clip_file: str = ""  # a file in the job folder ("clip.mp4") ...
    clip_ref: str = ""  # ... or the name of a clip in the studio folder
    rendered: float = 0.0  # when the last render finished (0: never)
    notes: list[str] = field(default_factory=list)  # the last render's warnings as make_reply said them
    # What the page says beside the finished video: the end card and the checks after render,
    # as message keys and values (`studio.report`), never English text.
    report: list[dict[str, Any]] = field(default_factory=list)
    # The inbox comments this reply answers ("Vastaa" in Kommentit: the question and the ones
    # grouped with it); recorded in the answered ledger with the card's comment after a render.
    answers: list[str] = field(default_factory=list)
    ledger_worker: str = ""  # the last render was recorded in the ledger under this name ...
    ledger_warning: str = ""  # ... or could not be, and why (the video is made all the same)
    # Several clips (`cliplist`): joined in order, or two as a duet lined up by `duet_offset`.
    clips: tuple[JobClip, ...] = ()
    kind: JobKind = "join"
    duet_layout: str = "stack"
    duet_offset: float | None = None  # seconds after clip 1 that clip 2 started; None: not known yet
    duet_confidence: float = 0.0  # of the offset found from the sound
    duet_sync: DuetSync = ""  # low: the sound gave no sure offset (headphones): set it by hand
    captions_timeline: str = ""  # `cliplist.timeline` when the captions were made ("": unknown)

    def state(self, output_exists: bool) -> JobState:
        """Rendered when the video exists and nothing was changed after it was made."""
        return "rendered" if output_exists and self.rendered >= self.updated else "draft"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobData:
        names = {f for f in cls.__dataclass_fields__} - {"clips"}
        job = cls(**{k: v for k, v in data.items() if k in names})
        return cliplist.with_clips(job, cliplist.clips_from_dict(data))


class JobStore:
    """The jobs under one studio folder; safe to use from the server's threads."""

    def __init__(self, root: Path, privacy: MaskOptions | None = None) -> None:
        """`privacy`: the config's masking choices (`mask_options(settings.privacy)`) for the
        comments the job list shows; None: the defaults."""
        self.root = root.resolve()
        self.privacy = privacy
        self.jobs_dir = self.root / "jobs"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.jobs_dir, FOLDER_MODE)
        self._lock = threading.RLock()

    # --- paths -------------------------------------------------------------------------------

    def folder(self, job_id: str) -> Path:
        """The folder of an existing job.

        Raises:
            NotFound: not an id this store made, or no such job.
        """
        if not _ID.match(job_id):
            raise NotFound(job_id)
        path = self.jobs_dir / job_id
        if not (path / "job.json").is_file() or not is_inside(path, self.jobs_dir):
            raise NotFound(job_id)
        return path

    def file(self, job_id: str, name: str) -> Path:
        """A file of a job's folder by its fixed name (never a name from a request)."""
        path = self.folder(job_id) / name
        if not is_inside(path, self.root):
            raise NotFound(name)
        return path

    def output(self, job_id: str) -> Path:
        return self.file(job_id, OUTPUT_NAME)

    def clip_path(self, job: JobData) -> Path | None:
        """The job's (first) clip: its own copy or the studio-folder clip it refers to."""
        return self.path_of(job, job.clips[0]) if job.clips else None

    def path_of(self, job: JobData, clip: JobClip) -> Path | None:
        """A clip of the job: its own copy or the studio-folder clip it refers to (None: gone)."""
        if clip.file:
            return self.file(job.id, clip.file)
        if clip.ref:
            try:
                return self.studio_clip(clip.ref)
            except NotFound:
                return None
        return None

    def studio_clip(self, name: str) -> Path:
        """A clip lying in the studio folder itself, by its file name.

        Raises:
            NotFound: a name with a folder part, a name that resolves outside the folder, or no such clip.
        """
        if not name or name != Path(name).name or name in (".", ".."):
            raise NotFound(name)
        path = self.root / name
        if not is_inside(path, self.root) or not path.is_file() or path.suffix.lower() not in CLIP_SUFFIXES:
            raise NotFound(name)
        return path

    def studio_clips(self) -> list[str]:
        """Names of the clips in the studio folder (not in job folders), newest first."""
        found = [p for p in self.root.iterdir()
                 if p.is_file() and p.suffix.lower() in CLIP_SUFFIXES and not p.name.startswith(".")]
        found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        return [p.name for p in found]

    # --- jobs --------------------------------------------------------------------------------

    def create(self) -> JobData:
        with self._lock:
            while True:
                job_id = secrets.token_hex(8)
                path = self.jobs_dir / job_id
                if not path.exists():
                    break
            path.mkdir(mode=FOLDER_MODE)
            os.chmod(path, FOLDER_MODE)  # mkdir's mode is reduced by the umask
            now = time.time()
            job = JobData(id=job_id, created=now, updated=now)
            self._write(job)
            return job

    def create_reply(self, comment: str, answers: list[str]) -> JobData:
        """A new draft answering `comment` (and `answers`, the inbox comments it stands for)."""
        with self._lock:
            job = replace(self.create(), comment=comment[:MAX_COMMENT_CHARS],
                          answers=[a[:MAX_COMMENT_CHARS] for a in answers])
            self._write(job)
            return job

    def load(self, job_id: str) -> JobData:
        path = self.folder(job_id) / "job.json"
        try:
            return JobData.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("job %s: unreadable job.json (%s)", job_id, exc.__class__.__name__)
            raise NotFound(job_id) from None

    def save(self, job: JobData, *, touched: bool = True) -> JobData:
        """Write `job.json`; `touched` marks a change by a person (the video is then out of date)."""
        with self._lock:
            self.folder(job.id)
            if touched:
                job = replace(job, updated=max(time.time(), job.rendered + 1e-3))
            self._write(job)
            return job

    def update(self, job_id: str, values: dict[str, Any]) -> JobData:
        """Change the fields a person edits (comment, user, show_user, reframe, caption_size, end_card).

        Raises:
            ValueError: a field that cannot be set or a value out of range.
        """
        with self._lock:
            job = self.load(job_id)
            changes: dict[str, Any] = {}
            for key, value in values.items():
                allowed = {
                    "comment": isinstance(value, str) and len(value) <= MAX_COMMENT_CHARS,
                    "user": isinstance(value, str) and len(value) <= MAX_USER_CHARS,
                    "show_user": isinstance(value, bool),
                    "reframe": value in REFRAMES,
                    "caption_size": value in CAPTION_SIZES,
                    "end_card": value in END_CARDS,
                    "kind": value in JOB_KINDS,
                    "duet_layout": value in DUET_LAYOUTS,
                    "duet_offset": value is None or _offset_ok(value),
                }
                if not allowed.get(key, False):
                    raise ValueError(key)
                if getattr(job, key) != value:
                    changes[key] = value
            if not changes:  # nothing new: the video (if any) stays up to date
                return job
            if "duet_offset" in changes and changes["duet_offset"] is not None:
                changes["duet_offset"] = cliplist.check_offset(changes["duet_offset"])
                changes["duet_sync"] = "manual"
            return self.save(replace(job, **changes))

    def all(self) -> list[JobData]:
        jobs = []
        for path in self.jobs_dir.iterdir():
            if _ID.match(path.name) and (path / "job.json").is_file():
                try:
                    jobs.append(self.load(path.name))
                except NotFound:
                    continue
        jobs.sort(key=lambda j: j.updated, reverse=True)
        return jobs

    def delete(self, job_id: str) -> None:
        with self._lock:
            shutil.rmtree(self.folder(job_id))

    def duplicate(self, job_id: str) -> JobData:
        """A new draft with the same clip, comment, options and captions (not the video)."""
        with self._lock:
            source = self.load(job_id)
            copy = self.create()
            for name in self._copied_files(source):
                src = self.file(source.id, name)
                if src.is_file():
                    dst = self.folder(copy.id) / name
                    try:
                        os.link(src, dst)  # a clip can be gigabytes: share it when the disk allows
                    except OSError:
                        shutil.copy2(src, dst)
            now = time.time()
            data = replace(source, id=copy.id, created=now, updated=now, rendered=0.0, notes=[], report=[],
                           ledger_worker="", ledger_warning="")
            self._write(data)
            return data

    def set_clip(self, job_id: str, *, clip_file: str = "", clip_ref: str = "", clip_name: str,
                 duration: float = 0.0) -> JobData:
        """Point the job at a new (first) clip, in place of the one it had; captions of the old
        clip no longer fit it and are removed."""
        with self._lock:
            job = self.load(job_id)
            folder = self.folder(job_id)
            old = job.clips[0] if job.clips else None
            if old is not None and old.file and old.file != clip_file:
                (folder / old.file).unlink(missing_ok=True)
            for name in ("transcript.json", "captions.json"):
                (folder / name).unlink(missing_ok=True)
            # A new key: the page's copies of the old clip (its frame, its waveform) are not reused.
            clip = JobClip(key=cliplist.new_key(), name=clip_name, file=clip_file, ref=clip_ref, duration=duration)
            job = cliplist.with_clips(job, (clip, *job.clips[1:]))
            return self.save(replace(job, duet_offset=None, duet_sync="", duet_confidence=0.0))

    def add_clip(self, job_id: str, clip: JobClip) -> JobData:
        """One more clip at the end (raises ValueError past `cliplist.MAX_CLIPS`)."""
        with self._lock:
            job = cliplist.add(self.load(job_id), clip)
            return self.save(replace(job, duet_offset=None, duet_sync="", duet_confidence=0.0)
                             if cliplist.is_duet(job) else job)

    def change_clips(self, job_id: str, change: Callable[[JobData], JobData]) -> JobData:
        """Apply a `cliplist` change (reorder, trim) and save it; a new pair forgets the old offset."""
        with self._lock:
            job = self.load(job_id)
            changed = change(job)
            if changed == job:
                return job
            before, after = [c.key for c in job.clips], [c.key for c in changed.clips]
            if after == before[::-1] and cliplist.is_duet(job) and job.duet_offset is not None:
                # The two recordings swapped: the same offset seen from the other one.
                changed = replace(changed, duet_offset=-job.duet_offset)
            elif after != before:
                changed = replace(changed, duet_offset=None, duet_sync="", duet_confidence=0.0)
            return self.save(changed)

    def remove_clip(self, job_id: str, key: str) -> JobData:
        """Remove a clip (its copy in the job folder too). Raises KeyError: no such clip."""
        with self._lock:
            job, gone = cliplist.remove(self.load(job_id), key)
            if gone.file and all(c.file != gone.file for c in job.clips):
                self.file(job_id, gone.file).unlink(missing_ok=True)
            return self.save(replace(job, duet_offset=None, duet_sync="", duet_confidence=0.0))

    def summary(self, job: JobData) -> dict[str, Any]:
        """What the page shows of a job (the comment included: the page is the user's own)."""
        output = self.output(job.id)
        data = asdict(job)
        data["comment_masked"] = masked_comment(job.comment, self.privacy)
        data["state"] = job.state(output.is_file())
        data["has_output"] = output.is_file()
        data["has_captions"] = self.file(job.id, "captions.json").is_file()
        data["has_clip"] = self.clip_path(job) is not None
        data["clips"] = [dict(c, missing=self.path_of(job, job.clips[i]) is None)
                         for i, c in enumerate(cliplist.clips_json(job))]
        data["duet"] = cliplist.is_duet(job)
        data["captions_stale"] = bool(data["has_captions"] and job.captions_timeline
                                      and job.captions_timeline != cliplist.timeline(job))
        return data

    def remove_stale_partials(self) -> None:
        """Remove the half-written videos and uploads a killed studio left in job folders."""
        from pipeline.files import remove_stale_partials

        for path in self.jobs_dir.iterdir():
            if _ID.match(path.name) and path.is_dir():
                remove_stale_partials(path / OUTPUT_NAME)
                remove_stale_partials(path / "preview.png")
                for suffix in {*CLIP_SUFFIXES, ".mp4"}:
                    remove_stale_partials(path / f"clip{suffix}")
                for partial in path.glob(".clip-*"):  # an added clip's upload: .clip-<key>.<pid>...
                    remove_stale_partials(path / (partial.name[1:].split(".")[0] + partial.suffix))

    def _copied_files(self, job: JobData) -> Iterator[str]:
        yield from dict.fromkeys(c.file for c in job.clips if c.file)
        yield from ("transcript.json", "captions.json", "render.toml")

    def _write(self, job: JobData) -> None:
        path = self.jobs_dir / job.id / "job.json"
        atomic_write(path, json.dumps(asdict(job), ensure_ascii=False, indent=1), mode=FILE_MODE)


def _offset_ok(value: Any) -> bool:
    try:
        cliplist.check_offset(value)
    except ValueError:
        return False
    return True


def masked_comment(text: str, options: MaskOptions | None = None) -> str:
    """The comment as the card shows it (personal data masked): what a list may show on a screen
    share without showing a child's phone number. `options`: the config's [privacy] choices."""
    from pipeline.comments import clean_display_text, mask_personal_data

    return mask_personal_data(clean_display_text(text, keep_newlines=False), options=options).text


def download_name(job_id: str) -> str:
    """The finished video's name outside its folder: downloaded, and in the answered ledger."""
    return f"vastaus-{job_id[:6]}.mp4"


def clip_suffix(name: str) -> str:
    """The suffix an uploaded clip is stored with: its own when it is a known video type."""
    suffix = Path(name).suffix.lower()
    return suffix if suffix in CLIP_SUFFIXES else ".mp4"


def display_name(name: str) -> str:
    """A file name from the browser, made safe to show: no folders, no control characters."""
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable())
    return base.strip()[:200] or "video"


__all__ = ["CAPTION_SIZES", "CLIP_SUFFIXES", "END_CARDS", "JobData", "JobStore", "NotFound", "OUTPUT_NAME", "VIDEO_SUFFIXES",
           "clip_suffix", "display_name", "download_name"]
