"""Two recordings of one conversation -> one reply video over the time both cover: A above B
(`stack`) or the whole picture on whoever is speaking (`switch`).

`make_duet` wires the stages as `make_reply` does for one clip: probe -> sync (unless the offset
is given) -> who speaks when -> card -> captions (each word from the recording heard at that
moment) -> loudness (each recording's own) -> plan -> render. The sound is one recording's at a
time: each phone also hears the other person, so mixing both would echo. By default
(`[duet] sound = "speaker"`) it is the speaking person's own phone, the clean microphone.

`duet_shots` (who is shown and heard when) and `duet_cues` (the captions on the duet's clock) are
public so the studio shows and captions a duet as this makes it, without a copy of the logic.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.config import Settings
from pipeline.errors import InputError
from pipeline.reply import (
    Stage,
    Transcribe,
    comment_card,
    end_card_and_captions,
    keep_inside,
    measure_loudness,
    prepare_transcripts,
    transcriber_for,
    write_sidecars,
)
from pipeline.types import Comment, Cue, MediaInfo, Segment, Shot, Transcript, Word
from pipeline.video import (
    SYNC_RATE,
    SyncResult,
    TurnOptions,
    check_output_path,
    check_writable,
    common_span,
    decode_audio,
    estimate_offset,
    find_turns,
    integrated_loudness,
    make_duet_plan,
    place_card,
    preflight_warnings,
    probe,
    render,
    speaker_at,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DuetJob:
    """Two recordings of one conversation (A shown on top) and what to make of them."""

    clip_a: Path
    clip_b: Path
    comment: Comment
    output: Path
    offset: float | None = None  # seconds after A that B started; None: found from their sound
    captions: str = "none"  # "auto" (transcribe the sound heard), "none", or a file on the duet's clock
    show_user: bool | None = None
    keep_personal_data: bool = False
    mask_captions: bool | None = None
    end_card: str | None = None
    sidecar: bool = False  # also write OUTPUT.srt and OUTPUT.vtt: the captions burned in, on the video's clock


@dataclass(frozen=True, slots=True)
class DuetResult:
    output: Path
    offset: float  # seconds after A that B started
    sync: SyncResult | None  # None: the offset was given
    cues: int = 0
    duration: float = 0.0
    warnings: tuple[str, ...] = field(default_factory=tuple)
    shots: tuple[Shot, ...] = ()  # who was shown (switch) and heard (sound "speaker") when


def make_duet(
    job: DuetJob,
    settings: Settings,
    *,
    transcribe: Transcribe | None = None,
    on_stage: Stage | None = None,
    on_sync: Callable[[SyncResult], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
    threads: int | None = None,
) -> DuetResult:
    """Make one duet reply video.

    Args:
        job: the two recordings, comment, output and options.
        settings: [sync] and [duet] with the usual style and encoder values.
        transcribe: for `captions="auto"`: the whole clip's Transcript; default `transcriber_for`.
        on_stage: told the name of each stage as it starts.
        on_sync: told the offset found from the sound (not called when the job gives one).
        on_progress: fraction of the encode done.
        threads: ffmpeg threads.

    Raises:
        PipelineError: any stage failed, or the sound gives no confident offset (give one by
            hand); nothing is left at the output path.
    """
    stage = on_stage or (lambda name: None)
    warnings: list[str] = []
    stage("probe")
    medias = []
    for name, path in (("A", job.clip_a), ("B", job.clip_b)):
        try:
            medias.append(probe(path))
        except InputError as exc:
            raise InputError(f"recording {name}: {exc.message}", hint=exc.hint) from None
    media_a, media_b = medias
    check_output_path(job.output, [job.clip_a, job.clip_b] + ([job.comment.avatar] if job.comment.avatar else []))
    check_writable(job.output)
    sync = None
    offset = job.offset
    tracks: list[npt.NDArray[np.float32] | None] = [None, None]  # 16 kHz mono, decoded once for sync and turns
    if offset is None:
        stage("sync")
        track_a, track_b = decode_audio(job.clip_a, SYNC_RATE)[0], decode_audio(job.clip_b, SYNC_RATE)[0]
        tracks = [track_a, track_b]
        sync = estimate_offset(track_a, track_b, SYNC_RATE, settings.sync)
        offset = sync.offset_s
        if on_sync is not None:
            on_sync(sync)
    span = common_span(media_a.duration, media_b.duration, offset)
    sound = _fixed_sound(settings.duet.sound, media_a, media_b)
    if _needs_turns(settings, sound):
        stage("turns")
    shots = duet_shots(media_a, media_b, offset, settings, tracks=(tracks[0], tracks[1]), warnings=warnings)

    with tempfile.TemporaryDirectory(prefix="sossut-duet-") as work:
        work_dir = Path(work)
        stage("card")
        card, notes = comment_card(job.comment, settings, work_dir / "card.png", show_user=job.show_user,
                                   keep_personal_data=job.keep_personal_data)
        warnings.extend(notes)
        placement = place_card(card, settings, span.duration)
        cues: list[Cue] = []
        if job.captions != "none":
            stage("transcribe" if job.captions == "auto" else "captions")
            from pipeline.captions import read_captions

            if job.captions == "auto":
                cues = duet_cues(media_a, media_b, offset, settings, transcribe or transcriber_for(settings),
                                 shots=shots, warnings=warnings)
            else:  # a caption file is on the duet video's clock (0 = where both recordings run)
                cues = [replace(cue, speaker=speaker_at(shots, (cue.start + cue.end) / 2))
                        for cue in read_captions(Path(job.captions), settings.captions, settings.canvas.width,
                                                 settings.safe_zone)]
            cues = keep_inside(cues, span.duration, settings, job.mask_captions, warnings)
        cues, end_card, captions_file = end_card_and_captions(
            job.end_card, job.comment.text, cues, span.duration, card, placement, settings, work_dir, warnings)
        stage("loudness")
        loudness = tuple(
            _heard_loudness(media, start, span.duration, shots if sound is None else [], index)
            if settings.audio.normalize and (sound is None or sound == index) else None
            for index, (media, start) in enumerate(((media_a, span.start_a), (media_b, span.start_b))))
        plan = make_duet_plan(media_a, media_b, offset, settings, job.output, card=card, captions=captions_file,
                              loudness=(loudness[0], loudness[1]), shots=shots, threads=threads, end_card=end_card)
        stage("render")
        render(plan, on_progress=on_progress)
        warnings.extend(preflight_warnings(job.output, settings, cues))
        if job.sidecar:
            write_sidecars(cues, job.output)
    shown = plan.duet.shots if plan.duet is not None else ()
    return DuetResult(output=job.output, offset=offset, sync=sync, cues=len(cues),
                      duration=round(plan.output_duration, 3), warnings=tuple(warnings), shots=tuple(shown))


def _heard_loudness(media: MediaInfo, start: float, length: float, shots: list[Shot], index: int) -> float | None:
    """Integrated loudness of a recording where it is heard: its own shots when the sound follows
    the speaker (its other stretches are the other person, quiet), else the whole span."""
    own = [(shot.start, shot.end) for shot in shots if shot.speaker == index]
    if not own:
        return measure_loudness(media, (start, start + length))
    if not media.has_audio:
        return None
    samples = decode_audio(media.path, rate=48000, layout="stereo", start=start, duration=length)
    pieces = [samples[:, int(a * 48000): int(b * 48000)] for a, b in own]
    heard = np.concatenate(pieces, axis=1)
    return integrated_loudness(heard, 48000) if heard.shape[1] else None


def _fixed_sound(choice: str, media_a: MediaInfo, media_b: MediaInfo) -> int | None:
    """The one recording whose sound (and captions) is used, or None: the speaker's."""
    if not media_b.has_audio:
        return 0
    if not media_a.has_audio:
        return 1
    return {"a": 0, "b": 1}.get(choice)


def _who_speaks(medias: tuple[MediaInfo, MediaInfo], starts: tuple[float, float], length: float,
                settings: Settings, tracks: list[npt.NDArray[np.float32] | None], warnings: list[str]) -> list[Shot]:
    """Shots of who speaks when over the common span, from the two tracks' voice energy."""
    if not all(media.has_audio for media in medias):
        warnings.append("only one recording has sound: who speaks when cannot be told, A is shown throughout")
        return [Shot(0.0, length, 0)]
    spans = []
    for index, (media, start) in enumerate(zip(medias, starts)):
        track = tracks[index]
        if track is None:  # the offset was given: decode only the span
            spans.append(decode_audio(media.path, SYNC_RATE, start=start, duration=length)[0])
        else:
            first = int(round(start * SYNC_RATE))
            spans.append(track[first: first + int(round(length * SYNC_RATE))])
    duet = settings.duet
    options = TurnOptions(min_shot=duet.min_shot, margin_db=duet.switch_margin, hold=duet.switch_hold)
    shots = find_turns(spans[0], spans[1], SYNC_RATE, length, options)
    log.info("duet: %d shots (%s)", len(shots), ", ".join(f"{'AB'[s.speaker]} {s.start:.1f}" for s in shots))
    return shots


def duet_shots(media_a: MediaInfo, media_b: MediaInfo, offset: float, settings: Settings, *,
               tracks: tuple[npt.NDArray[np.float32] | None, npt.NDArray[np.float32] | None] = (None, None),
               warnings: list[str] | None = None) -> list[Shot]:
    """Who is shown (`switch`) and heard (sound "speaker") when, on the duet's clock, as `make_duet`
    decides it: from the two recordings' voice energy when the layout, the sound or the speaker
    colours need it, else A throughout.

    Args:
        media_a, media_b: the two recordings, probed.
        offset: seconds after A that B started.
        settings: [duet] (layout, sound, turn options).
        tracks: each recording's whole sound at `SYNC_RATE` if already decoded (for the sync).
        warnings: told when who speaks cannot be told (one recording has no sound).

    Raises:
        InputError: the recordings do not overlap with this offset, or a sound cannot be decoded.
    """
    span = common_span(media_a.duration, media_b.duration, offset)
    if not _needs_turns(settings, _fixed_sound(settings.duet.sound, media_a, media_b)):
        return [Shot(0.0, span.duration, 0)]
    return _who_speaks((media_a, media_b), (span.start_a, span.start_b), span.duration, settings,
                       list(tracks), warnings if warnings is not None else [])


def duet_cues(media_a: MediaInfo, media_b: MediaInfo, offset: float, settings: Settings,
              transcribe: Transcribe, *, shots: list[Shot] | None = None,
              warnings: list[str] | None = None) -> list[Cue]:
    """The speech heard in a duet as captions on the duet's clock (0 = where both recordings run),
    each cue of one speaker (`Cue.speaker`), as `make_duet` burns them (before masking).

    With the speaker's sound, both recordings are transcribed and each word is taken from the
    recording heard at its middle (the clean one); a cue never runs over a change of speaker.
    With one recording's sound (`[duet] sound = "a"|"b"`, or only one has sound), its words only.

    Args:
        media_a, media_b: the two recordings, probed.
        offset: seconds after A that B started.
        settings: [duet], [captions] and the canvas.
        transcribe: a recording's whole transcript (cached by the caller as it likes).
        shots: `duet_shots` if already known (found here otherwise).
        warnings: told when no recording has sound (no cues then).

    Raises:
        PipelineError: a recording cannot be read or transcribed, or they do not overlap.
    """
    notes = warnings if warnings is not None else []
    medias = (media_a, media_b)
    span = common_span(media_a.duration, media_b.duration, offset)
    starts, length = (span.start_a, span.start_b), span.duration
    sound = _fixed_sound(settings.duet.sound, media_a, media_b)
    if shots is None:
        shots = duet_shots(media_a, media_b, offset, settings, warnings=notes)
    heard = [index for index in (0, 1) if (sound is None or sound == index) and medias[index].has_audio]
    if not heard:
        notes.append(f"{medias[sound or 0].path.name} has no audio track: rendered without captions")
        return []
    words: list[tuple[Word, int, bool]] = []  # (word, who says it, ends a segment)
    language = ""
    prepare_transcripts(transcribe, [medias[index] for index in heard])
    for index in heard:
        transcript = transcribe(medias[index]).between(starts[index], starts[index] + length)
        language = transcript.language
        for segment in transcript.segments:
            for k, word in enumerate(segment.words):
                speaker = speaker_at(shots, (word.start + word.end) / 2)
                if sound is not None or speaker == index:
                    words.append((word, speaker, k == len(segment.words) - 1))
    words.sort(key=lambda item: item[0].start)
    return _speaker_cues(words, length, settings, language)


def _needs_turns(settings: Settings, sound: int | None) -> bool:
    return settings.duet.layout == "switch" or sound is None or bool(settings.duet.speaker_colors)


def _speaker_cues(words: list[tuple[Word, int, bool]], length: float, settings: Settings,
                  language: str) -> list[Cue]:
    """Cues laid out per run of one speaker's words, so no cue straddles a change of speaker
    (the recogniser's segment ends are kept as the layout's preferred breaks)."""
    from pipeline.captions import layout_cues

    runs: list[tuple[int, list[tuple[Word, bool]]]] = []
    for word, speaker, ends in words:
        if runs and runs[-1][0] == speaker:
            runs[-1][1].append((word, ends))
        else:
            runs.append((speaker, [(word, ends)]))
    cues: list[Cue] = []
    for k, (speaker, run) in enumerate(runs):
        until = runs[k + 1][1][0][0].start if k + 1 < len(runs) else length
        segments, current = [], []
        for word, ends in run:
            current.append(word)
            if ends or word is run[-1][0]:
                segments.append(Segment(current[0].start, current[-1].end, " ".join(w.word for w in current),
                                        tuple(current)))
                current = []
        transcript = Transcript(language, until, tuple(segments))
        laid = layout_cues(transcript, settings.captions, settings.canvas.width, settings.safe_zone)
        cues.extend(replace(cue, end=min(cue.end, until), speaker=speaker) for cue in laid)
    return cues
