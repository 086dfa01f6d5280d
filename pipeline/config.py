"""Settings: `config/default.toml`, then a user's `--config FILE.toml` over it.

`default.toml` is both the defaults and the schema: a user file may only set keys that exist
there, with a value of the same type (an int is accepted where a float is expected). Each
section becomes a frozen dataclass below, so the rest of the code reads `settings.card.width`.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
ASSETS_DIR = PROJECT_ROOT / "assets"
FONTS_DIR = ASSETS_DIR / "fonts"
DEFAULT_CONFIG = CONFIG_DIR / "default.toml"

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class CanvasSettings:
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class SafeZone:
    top: int
    bottom: int
    right: int
    left: int


@dataclass(frozen=True, slots=True)
class ReframeSettings:
    mode: str
    background: str
    blur_fraction: int
    blur_radius: int
    blur_fps: float
    blur_brightness: float
    blur_style: str
    tonemap: str


@dataclass(frozen=True, slots=True)
class CardSettings:
    width: int
    top: int
    header_template: str
    anonymous_header: str
    show_user: bool
    max_lines: int
    max_chars: int
    font: str
    header_font: str
    font_size: int
    header_size: int
    avatar_size: int
    padding: int
    radius: int
    shadow_blur: int
    shadow_opacity: float
    background: str
    text_color: str
    header_color: str
    duration: float
    pop_in: float
    pop_slide: int


@dataclass(frozen=True, slots=True)
class HelpResource:
    """One place to get help, as the end card lists it."""

    name: str  # "Lasten ja nuorten puhelin (MLL)"
    contact: str  # a phone number or an address: "116 111", "sekasin.fi"
    hours: str = ""  # opening hours or a short note; "" = none shown


@dataclass(frozen=True, slots=True)
class EndCardSettings:
    """The help-resources end card (`[end_card]`)."""

    mode: str  # auto (flagged self-harm or disclosure) | always | never
    style: str  # card: appended after the clip | overlay: over the clip's last seconds
    duration: float  # seconds on screen
    fade: float  # seconds of the fade-in
    title: str
    subtitle: str
    scrim_color: str  # behind the card, over the clip's (last) frame
    scrim_opacity: float
    contact_color: str
    title_size: int
    name_size: int
    contact_size: int
    hours_size: int
    resources: tuple[HelpResource, ...]


@dataclass(frozen=True, slots=True)
class CheckSettings:
    """Limits of `sossut check` (`[check]`)."""

    min_width: int  # px, displayed width
    max_fps: int
    max_duration: float  # seconds
    max_size_mb: float
    aspect_tolerance: float  # how far width/height may be from 9:16 (0.02 = 2 %)
    loudness_tolerance: float  # LU around audio.loudness
    max_true_peak: float  # dBTP
    max_start_silence: float  # seconds of digital silence at the start
    reading_speed_slack: float  # characters a second over captions.max_cps


@dataclass(frozen=True, slots=True)
class AudioSettings:
    normalize: bool
    loudness: float
    true_peak: float


@dataclass(frozen=True, slots=True)
class JoinSettings:
    crossfade: float  # seconds each join of several clips fades over (picture and sound); 0: a cut


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """How two recordings of one conversation are lined up by their sound (`[sync]`)."""

    min_confidence: float  # peak-to-sidelobe ratio below which the offset is refused (no shared sound)
    max_offset: float  # seconds either way the second recording may start; 0 = any
    max_call_delay: float  # seconds a video call may delay the other voice, one way
    second_peak: float  # a second peak this confident (fraction of the first's), within the call delay, is the call's other voice


@dataclass(frozen=True, slots=True)
class DuetSettings:
    """How `sossut duet` lays out two recordings of one conversation (`[duet]`)."""

    layout: str  # "stack": A above B, each cropped to fill its half; "switch": whoever is speaking, full frame
    focus: float  # which part of each picture a crop keeps, vertically: 0 top, 0.5 middle, 1 bottom
    sound: str  # "speaker": from the speaking person's own phone; "a" or "b": always that recording's
    min_shot: float = 1.5  # seconds: no shot (one speaker on screen or heard) is shorter
    switch_margin: float = 6.0  # dB the other phone's own voice must lead by to take over
    switch_hold: float = 0.3  # seconds it must lead for (a short "mm" or a click does not switch)
    sound_ramp: float = 0.1  # seconds the sound fades from one phone to the other
    speaker_colors: list[str] = dataclasses.field(default_factory=list)  # caption colour of A, B; [] = one colour


@dataclass(frozen=True, slots=True)
class EncoderSettings:
    codec: str
    preset: str
    crf: int
    profile: str
    pix_fmt: str
    max_fps: int
    threads: int
    audio_codec: str
    audio_bitrate: str
    audio_rate: int


@dataclass(frozen=True, slots=True)
class CaptionSettings:
    font: str
    font_size: int
    bold: bool
    primary_color: str
    highlight_color: str
    outline_color: str
    outline: float
    shadow: float
    highlight: str
    max_lines: int
    max_chars_per_line: int
    max_cps: float
    min_duration: float
    max_duration: float
    pause_break: float
    min_font_scale: float
    bottom: int


@dataclass(frozen=True, slots=True)
class TranscribeSettings:
    engine: str
    model: str
    language: str
    compute_type: str
    threads: int
    beam_size: int
    vad_filter: bool
    vocabulary: bool


@dataclass(frozen=True, slots=True)
class PrivacySettings:
    mask_personal_data: bool
    mask_captions: bool
    moderation_lists: str  # a directory of *.txt or one .txt file; "" = built-in lists only
    mask_first_names: bool  # a lone first name ("mun kaveri jenna"); full names are always masked
    mask_towns: bool  # every town; false: only a town next to a school or a street address
    worker_names: list[str]  # the workers' own names: never masked ("kiitos Sanna")


@dataclass(frozen=True, slots=True)
class BatchSettings:
    jobs: int  # worker processes; 0 = what the machine affords (max(2, cores // 2), cores, free RAM / memory_per_job)
    memory_per_job: float  # GB one job needs, for jobs = 0
    max_tasks_per_child: int  # restart a worker after this many rows; 0 = never


@dataclass(frozen=True, slots=True)
class StudioSettings:
    folder: str  # the studio folder; "" = platformdirs' user videos (else documents) folder / "sossut"
    max_upload_mb: int  # largest clip accepted, checked before sending and while streaming
    large_caption_scale: float  # caption size preset "large": captions.font_size times this


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    folder: str  # where answered comments are recorded; "" = platformdirs' user data folder / "ledger"
    worker: str  # the name written with each answer; "" = the computer's user name


@dataclass(frozen=True, slots=True)
class Settings:
    canvas: CanvasSettings
    safe_zone: SafeZone
    reframe: ReframeSettings
    card: CardSettings
    end_card: EndCardSettings
    check: CheckSettings
    audio: AudioSettings
    join: JoinSettings
    sync: SyncSettings
    duet: DuetSettings
    encoder: EncoderSettings
    captions: CaptionSettings
    transcribe: TranscribeSettings
    privacy: PrivacySettings
    batch: BatchSettings
    studio: StudioSettings
    ledger: LedgerSettings

    def with_values(self, **sections: dict[str, Any]) -> Settings:
        """A copy with some keys changed, e.g. `with_values(reframe={"mode": "crop"})`.

        The values are checked like a config file's.
        """
        data = self.to_dict()
        _merge(data, sections, source="option")
        return _build(data)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {f.name: dataclasses.asdict(getattr(self, f.name)) for f in dataclasses.fields(self)}


_SECTION_TYPES: dict[str, type[Any]] = {
    "canvas": CanvasSettings,
    "safe_zone": SafeZone,
    "reframe": ReframeSettings,
    "card": CardSettings,
    "end_card": EndCardSettings,
    "check": CheckSettings,
    "audio": AudioSettings,
    "join": JoinSettings,
    "sync": SyncSettings,
    "duet": DuetSettings,
    "encoder": EncoderSettings,
    "captions": CaptionSettings,
    "transcribe": TranscribeSettings,
    "privacy": PrivacySettings,
    "batch": BatchSettings,
    "studio": StudioSettings,
    "ledger": LedgerSettings,
}

# Values with a closed set of choices or a range; checked after merging.
_CHOICES: dict[str, tuple[str, ...]] = {
    "reframe.mode": ("blur", "crop", "fit"),
    "reframe.blur_style": ("soft", "wash"),
    "reframe.tonemap": ("hable", "mobius", "reinhard", "clip"),
    "captions.highlight": ("color", "box", "none"),
    "end_card.mode": ("auto", "always", "never"),
    "end_card.style": ("card", "overlay"),
    "duet.layout": ("stack", "switch"),
    "duet.sound": ("speaker", "a", "b"),
    "transcribe.engine": ("faster-whisper", "openai-whisper"),
    "encoder.preset": (
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
    ),
}
_POSITIVE = (
    "canvas.width", "canvas.height", "card.width", "card.max_lines", "card.font_size",
    "card.header_size", "card.avatar_size", "card.max_chars", "reframe.blur_fraction",
    "encoder.max_fps", "encoder.audio_rate", "captions.font_size", "captions.max_lines",
    "captions.max_chars_per_line", "captions.max_cps", "captions.max_duration", "transcribe.beam_size",
    "studio.max_upload_mb", "studio.large_caption_scale", "end_card.duration", "end_card.title_size",
    "end_card.name_size", "end_card.contact_size", "end_card.hours_size", "check.min_width", "check.max_fps",
    "check.max_duration", "check.max_size_mb",
)
_NON_NEGATIVE = (
    "safe_zone.top", "safe_zone.bottom", "safe_zone.left", "safe_zone.right", "card.top",
    "card.padding", "card.radius", "card.shadow_blur", "card.duration", "card.pop_in",
    "card.pop_slide", "reframe.blur_radius", "reframe.blur_fps", "encoder.threads", "captions.outline",
    "captions.shadow", "captions.min_duration", "captions.pause_break", "captions.bottom",
    "transcribe.threads", "end_card.fade", "check.aspect_tolerance", "check.loudness_tolerance",
    "check.max_start_silence", "check.reading_speed_slack", "join.crossfade",
    "sync.min_confidence", "sync.max_offset", "sync.max_call_delay", "sync.second_peak",
    "duet.min_shot", "duet.switch_margin", "duet.switch_hold", "duet.sound_ramp",
)


def load_settings(user_config: Path | None = None) -> Settings:
    """Read the defaults and, if given, a user's TOML file over them.

    Raises:
        ConfigError: the file is missing, not TOML, or has an unknown key or a wrong type.
    """
    data = _read_toml(DEFAULT_CONFIG)
    if user_config is not None:
        _merge(data, _read_toml(user_config), source=str(user_config))
    return _build(data)


def allowed_values(key: str) -> tuple[str, ...]:
    """The values a setting with a closed set of choices may take, e.g. `allowed_values("duet.layout")`.

    Raises:
        KeyError: the setting has no closed set of choices.
    """
    return _CHOICES[key]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None


def _merge(base: dict[str, Any], override: dict[str, Any], source: str) -> None:
    for section, values in override.items():
        if section not in base:
            raise ConfigError(
                f"{source}: unknown config section [{section}]",
                hint=f"known sections: {', '.join(base)}",
            )
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{section}] must be a table of keys")
        for key, value in values.items():
            name = f"{section}.{key}"
            if key not in base[section]:
                raise ConfigError(
                    f"{source}: unknown config key {name}",
                    hint=f"keys of [{section}]: {', '.join(base[section])}",
                )
            base[section][key] = _check_type(name, base[section][key], value, source)


def _check_type(name: str, default: Any, value: Any, source: str) -> Any:
    expected = type(default)
    if expected in (list, tuple) and type(value) in (list, tuple):
        return list(value)  # a list of tables (end_card.resources): its items are checked in _build
    if expected is float and type(value) is int:
        return float(value)
    if type(value) is not expected:
        raise ConfigError(
            f"{source}: {name} must be {_type_name(expected)}, not {_type_name(type(value))} ({value!r})"
        )
    return value


def _type_name(t: type) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "a string",
            list: "a list", tuple: "a list"}.get(t, t.__name__)


def _build(data: dict[str, Any]) -> Settings:
    _check_values(data)
    data = {**data, "end_card": {**data["end_card"], "resources": _resources(data["end_card"]["resources"])}}
    sections = {name: _SECTION_TYPES[name](**values) for name, values in data.items()}
    return Settings(**sections)


def _resources(items: Any) -> tuple[HelpResource, ...]:
    """end_card.resources: tables of name, contact and (optional) hours, all strings."""
    out = []
    fields = {f.name for f in dataclasses.fields(HelpResource)}
    for number, item in enumerate(items, 1):
        if isinstance(item, HelpResource):
            out.append(item)
            continue
        if not isinstance(item, dict):
            raise ConfigError(f"end_card.resources item {number} must be a table "
                              '{ name = "...", contact = "...", hours = "..." }')
        unknown = sorted(set(item) - fields)
        if unknown:
            raise ConfigError(f"end_card.resources item {number}: unknown key {unknown[0]}",
                              hint="keys: name, contact, hours")
        if not all(isinstance(v, str) for v in item.values()) or not str(item.get("name", "")).strip() \
                or not str(item.get("contact", "")).strip():
            raise ConfigError(f"end_card.resources item {number} needs a name and a contact (text)")
        out.append(HelpResource(**item))
    if not out:
        raise ConfigError("end_card.resources is empty", hint='set end_card.mode = "never" to show no end card')
    return tuple(out)


def _check_values(data: dict[str, Any]) -> None:
    def get(name: str) -> Any:
        section, key = name.split(".")
        return data[section][key]

    for name, choices in _CHOICES.items():
        if get(name) not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {get(name)!r}")
    for name in _POSITIVE:
        if get(name) <= 0:
            raise ConfigError(f"{name} must be greater than 0, not {get(name)!r}")
    for name in _NON_NEGATIVE:
        if get(name) < 0:
            raise ConfigError(f"{name} must not be negative, not {get(name)!r}")
    for section, values in data.items():
        for key, value in values.items():
            is_color = (key.endswith("color") or key == "background") and isinstance(value, str)
            if is_color and not _COLOR.match(value):
                raise ConfigError(f"{section}.{key} must be a colour like #ff8800, not {value!r}")
    if any(ch in get("captions.font") for ch in ",\n\r{}\\"):
        # the family name goes into the ASS style line, where commas separate fields
        raise ConfigError(f"captions.font must be a plain font family name, not {get('captions.font')!r}")
    if not 0.0 < get("reframe.blur_brightness") <= 1.0:
        raise ConfigError("reframe.blur_brightness must be between 0 and 1")
    if not 0.0 <= get("end_card.scrim_opacity") <= 1.0:
        raise ConfigError("end_card.scrim_opacity must be between 0 and 1")
    if not 0.0 <= get("card.shadow_opacity") <= 1.0:
        raise ConfigError("card.shadow_opacity must be between 0 and 1")
    if get("join.crossfade") > 2.0:
        raise ConfigError("join.crossfade must be 2 seconds or less (a short fade between clips; 0 = a cut)")
    if not 0.0 <= get("duet.focus") <= 1.0:
        raise ConfigError("duet.focus must be between 0 (top) and 1 (bottom)")
    colors = get("duet.speaker_colors")
    if not all(isinstance(c, str) and _COLOR.match(c) for c in colors) or len(colors) not in (0, 2):
        raise ConfigError("duet.speaker_colors must be two colours like [\"#ffffff\", \"#ffe14d\"] (A, B), "
                          f"or [] for one colour, not {colors!r}")
    if get("duet.sound_ramp") > 1.0:
        raise ConfigError("duet.sound_ramp must be 1 second or less (the fade between two phones' sound)")
    if not 0.0 < get("captions.min_font_scale") <= 1.0:
        raise ConfigError("captions.min_font_scale must be between 0 and 1")
    if not all(isinstance(name, str) for name in get("privacy.worker_names")):
        raise ConfigError("privacy.worker_names must be a list of strings, like [\"Sanna\", \"Mikko\"]")
    if get("captions.min_duration") > get("captions.max_duration"):
        raise ConfigError("captions.min_duration must not exceed captions.max_duration")
    safe = data["safe_zone"]
    canvas = data["canvas"]
    if safe["left"] + safe["right"] >= canvas["width"] or safe["top"] + safe["bottom"] >= canvas["height"]:
        raise ConfigError("safe_zone margins leave no room on the canvas")
    if canvas["width"] % 2 or canvas["height"] % 2:
        raise ConfigError("canvas.width and canvas.height must be even (yuv420p)")
