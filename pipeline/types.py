"""Plain data passed between the stages (stdlib only).

Every type here is a frozen dataclass. Types that are cached or hand-edited
(`Transcript`, `Cue`) round-trip through JSON with `to_json()` / `from_json()`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

Reframe = Literal["blur", "crop", "fit"]
REFRAMES: tuple[str, ...] = ("blur", "crop", "fit")
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".m4v", ".mov")  # what a reply video may be written as


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What the probe learned about a clip.

    `width`/`height` are the stored (coded) size; `display_size` applies the rotation.
    """

    path: Path
    duration: float
    width: int
    height: int
    rotation: int  # clockwise degrees the picture must turn to be upright: 0, 90, 180, 270
    fps: Fraction  # average frame rate of the video stream
    has_audio: bool
    audio_rate: int | None = None
    audio_channels: int | None = None
    video_codec: str = ""
    pix_fmt: str = ""
    bit_depth: int = 8
    color_transfer: str = ""  # e.g. "bt709", "arib-std-b67" (HLG), "smpte2084" (PQ)
    color_primaries: str = ""
    variable_frame_rate: bool = False
    nominal_fps: Fraction | None = None  # the stream's declared rate (r_frame_rate); VFR clips differ from fps

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) as the clip is meant to be seen, after rotation."""
        if self.rotation in (90, 270):
            return self.height, self.width
        return self.width, self.height

    @property
    def is_hdr(self) -> bool:
        """True for HLG or PQ transfer (iPhone default recording)."""
        return self.color_transfer in ("arib-std-b67", "smpte2084")


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its times in seconds."""

    word: str  # stripped, punctuation kept: "no,"
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of speech as the engine returned it."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True, slots=True)
class Transcript:
    """Speech of a clip, as in DESIGN.md's transcript JSON."""

    language: str
    duration: float
    segments: tuple[Segment, ...] = ()
    model: str = ""
    engine: str = ""

    @property
    def words(self) -> list[Word]:
        """All words of all segments, in order."""
        return [w for s in self.segments for w in s.words]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def between(self, start: float, end: float) -> Transcript:
        """The speech of [start, end) of a long recording, on the span's own clock (0 = start).

        A word belongs to the span when its middle is inside it; its times are clamped to it.
        """
        length = max(0.0, end - start)
        segments = []
        for seg in self.segments:
            words = tuple(
                Word(w.word, min(max(w.start - start, 0.0), length), min(max(w.end - start, 0.0), length),
                     w.probability)
                for w in seg.words
                if start <= (w.start + w.end) / 2 < end
            )
            if words:
                text = " ".join(w.word for w in words)
                segments.append(Segment(words[0].start, words[-1].end, text, words))
        return Transcript(self.language, length, tuple(segments), self.model, self.engine)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        segments = tuple(
            Segment(
                start=float(s["start"]),
                end=float(s["end"]),
                text=str(s.get("text", "")),
                words=tuple(
                    Word(
                        word=str(w["word"]),
                        start=float(w["start"]),
                        end=float(w["end"]),
                        probability=float(w.get("probability", 1.0)),
                    )
                    for w in s.get("words", ())
                ),
            )
            for s in data.get("segments", ())
        )
        return cls(
            language=str(data.get("language", "")),
            duration=float(data.get("duration", 0.0)),
            segments=segments,
            model=str(data.get("model", "")),
            engine=str(data.get("engine", "")),
        )

    @classmethod
    def from_json(cls, text: str) -> Transcript:
        return cls.from_dict(json.loads(text))


@dataclass(frozen=True, slots=True)
class Cue:
    """One caption on screen: up to a few lines, with the words in it and their times."""

    start: float
    end: float
    lines: tuple[str, ...]
    words: tuple[Word, ...] = ()
    font_scale: float = 1.0  # < 1 when a long compound word needs a smaller font
    speaker: int | None = None  # who says it in a duet (0 = A, 1 = B): its colour; None: the usual colour

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True, slots=True)
class Comment:
    """The viewer comment the video answers."""

    text: str
    user: str = ""
    avatar: Path | None = None


@dataclass(frozen=True, slots=True)
class CardContent:
    """What the card shows, decided by the plan (privacy decides header and avatar)."""

    text: str  # the comment, already masked if it had personal data
    header: str  # grey first line, e.g. "Vastaa käyttäjän @nimi kommenttiin"
    avatar: Path | None = None  # picture for the round avatar; None: a coloured circle
    avatar_letter: str = ""  # letter in the coloured circle; "" = neutral (no letter, grey)


@dataclass(frozen=True, slots=True)
class CardImage:
    """A rendered comment card (RGBA PNG) and its size in pixels."""

    path: Path
    width: int
    height: int
    header: str = ""  # the header line actually drawn (lets tests and the plan check privacy)
    margin: int = 0  # transparent px around the bubble (its shadow); the bubble starts at (margin, margin)


@dataclass(frozen=True, slots=True)
class CardPlacement:
    """Where and when the card is shown on the 1080x1920 canvas."""

    image: CardImage
    x: int
    y: int
    start: float
    end: float
    pop_in: float  # seconds of the pop-in animation (fade + slide)
    pop_slide_px: int


EndCardStyle = Literal["card", "overlay"]


@dataclass(frozen=True, slots=True)
class EndCardPlacement:
    """When the help-resources end card shows; its PNG covers the whole canvas.

    `style="card"`: the clip's last frame is held for `length` seconds after the clip and the
    card fades in over it (the video grows by `length`); `"overlay"`: the card fades in over the
    clip's last `length` seconds (the video keeps its length).
    """

    image: CardImage
    style: EndCardStyle
    start: float  # seconds on the output's clock
    length: float
    fade: float  # seconds of the fade-in


@dataclass(frozen=True, slots=True)
class Encoder:
    """Video and audio encoder settings."""

    codec: str = "libx264"
    preset: str = "veryfast"
    crf: int = 20
    profile: str = "high"
    pix_fmt: str = "yuv420p"
    max_fps: int = 60
    threads: int = 0  # encoder threads; 0: ffmpeg decides
    filter_threads: int = 0  # filtergraph threads; 0: ffmpeg decides
    audio_codec: str = "aac"
    audio_bitrate: str = "160k"
    audio_rate: int = 48000


@dataclass(frozen=True, slots=True)
class AudioPlan:
    """What happens to the sound: source audio (or silence) and a loudness gain."""

    has_source_audio: bool
    gain_db: float | None  # None: loudness normalisation off (or nothing to measure)
    limit_db: float = -1.0  # true-peak ceiling of the limiter after the gain


@dataclass(frozen=True, slots=True)
class PartPlan:
    """One clip of a joined reply: what of it is used and how it is made to match the others.

    Each part is turned upright, tone-mapped and reframed on its own, and gets its own loudness
    gain (so two voices recorded on two phones are equally loud), before the parts are joined.
    """

    source: Path
    media: MediaInfo
    trim_start: float  # seconds into the clip
    duration: float  # seconds of the clip used (a whole number of output frames)
    start: float  # seconds on the output's clock where the part begins (crossfades overlap)
    tonemap: str | None  # HDR -> SDR operator; None: the clip is SDR
    audio: AudioPlan


@dataclass(frozen=True, slots=True)
class Shot:
    """A stretch of a duet with one person speaking (on the duet's clock, seconds)."""

    start: float
    end: float
    speaker: int  # index into the duet's `parts`: 0 = A, 1 = B


@dataclass(frozen=True, slots=True)
class DuetLayout:
    """Two recordings of one conversation shown at once (`parts` A and B, lined up in time).

    `stack`: A above B, each cropped to fill its half of the canvas. `switch`: the whole canvas
    shows whoever is speaking (`shots`). The sound is one part's at a time (both at once would
    echo: each phone also hears the other person): a fixed part's (`sound`), or the speaker's
    own phone's (`sound` None), fading over `ramp` seconds at each change of shot.
    """

    layout: Literal["stack", "switch"]
    focus: float  # which part of each picture the crop keeps, vertically: 0 top, 0.5 middle, 1 bottom
    sound: int | None  # index into `parts` of the recording whose sound is used; None: the speaker's
    shots: tuple[Shot, ...] = ()  # who speaks when, covering the whole duet; empty: A throughout
    ramp: float = 0.1  # seconds the sound fades from one phone to the other at a change of speaker


@dataclass(frozen=True, slots=True)
class RenderPlan:
    """Every choice of one render; `render.build_args(plan)` turns it into argv."""

    source: Path
    output: Path
    media: MediaInfo
    canvas: tuple[int, int]
    fps: Fraction
    duration: float  # seconds of the clip (or cut) used; see `output_duration`
    trim_start: float
    reframe: Reframe
    background: str  # colour of `fit`, as 0xRRGGBB
    blur_fraction: int  # the blurred background is built at 1/N of the canvas size
    blur_radius: int
    blur_fps: float  # how often the blurred background is refreshed; 0: every frame
    blur_brightness: float  # 1.0 = as bright as the clip
    tonemap: str | None  # HDR -> SDR operator (hable, mobius, ...); None: the clip is SDR
    card: CardPlacement | None
    captions: Path | None  # an ASS file written by the project; None: no captions
    fonts_dir: Path
    audio: AudioPlan
    encoder: Encoder = field(default_factory=Encoder)
    end_card: EndCardPlacement | None = None
    blur_style: str = "soft"  # soft: a blurred, enlarged copy | wash: the copy's colours, row by row
    # Several clips joined in order (`source`, `media` are the first's; `duration` the joined
    # length); empty for a reply made of one clip.
    parts: tuple[PartPlan, ...] = ()
    crossfade: float = 0.0  # seconds each join fades over; 0: a straight cut
    duet: DuetLayout | None = None  # `parts` are two recordings shown at once, not joined in order

    @property
    def picture_reframe(self) -> Reframe:
        """How the picture is reframed in fact: `blur` of a clip that fills the canvas (the
        fitted picture within 1 % of it each way, a phone's 9:16) is a `crop`: a background
        nobody would see costs a third of an encode."""
        if self.reframe != "blur":
            return self.reframe
        width, height = self.canvas
        w, h = self.media.display_size
        scale = min(width / w, height / h)
        return "crop" if w * scale >= 0.99 * width and h * scale >= 0.99 * height else "blur"

    @property
    def output_duration(self) -> float:
        """Seconds of the finished video: the clip (or cut), plus an appended end card."""
        if self.end_card is not None and self.end_card.style == "card":
            return self.duration + self.end_card.length
        return self.duration
