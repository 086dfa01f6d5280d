"""Options shared by the commands, and the checks that run on them before any work starts.

A bad option value is a usage error (exit 2) whose message names the option, raised by Click
while it parses the command line: before the clip is probed, a model loaded or a card drawn.
The checks are cheap on purpose (no speech engine, Pillow or ffmpeg is imported to make them):
the language codes are a copy of Whisper's, which a unit test keeps equal to faster-whisper's.

`check_output_folder` is the one check that is not about an option's value: a folder that can
be neither made nor written is an `OutputError` (exit 1), still found before any work.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from pipeline.config import Settings
from pipeline.errors import ConfigError, OutputError

# Whisper's language codes (faster_whisper.tokenizer._LANGUAGE_CODES, in its order). Copied so
# that checking --language does not import faster-whisper (about 0.4 s); a unit test compares.
WHISPER_LANGUAGES: tuple[str, ...] = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da",
    "de", "el", "en", "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi",
    "hr", "ht", "hu", "hy", "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb",
    "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "nn",
    "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru", "sa", "sd", "si", "sk", "sl", "sn", "so", "sq",
    "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "uk", "ur", "uz", "vi",
    "yi", "yo", "zh", "yue",
)
AUTO_LANGUAGE = "auto"
CAPTION_KEYWORDS = ("auto", "none")  # `render --captions` values that are not files

Callback = Callable[[click.Context, click.Parameter, Any], Any]


def existing_file() -> click.Path:
    """A path option that must name a readable file (Click says which option, exit 2)."""
    return click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)


def either(items: Sequence[str]) -> str:
    """'.json, .srt, .vtt or .ass' for messages."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _unknown_language(value: str) -> str | None:
    """Why `value` is not a language Whisper knows (a short message), or None if it is one."""
    code = value.strip().lower()
    if code == AUTO_LANGUAGE or code in WHISPER_LANGUAGES:
        return None
    close = difflib.get_close_matches(code, WHISPER_LANGUAGES, n=1)
    guess = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown language {value!r}{guess}; use a Whisper language code such as fi, sv or en, or {AUTO_LANGUAGE}"


def check_language(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`--language`: a Whisper language code or `auto`, any case; returned lower-case."""
    if value is None:
        return None
    problem = _unknown_language(value)
    if problem:
        raise click.BadParameter(problem)
    return value.strip().lower()


def check_configured_language(settings: Settings, language: str | None) -> None:
    """The config's transcribe.language, when no --language replaces it, checked as the option is.

    Raises:
        ConfigError: it is not a Whisper language code, `auto` or "" (also auto).
    """
    configured = settings.transcribe.language
    problem = None if language is not None or not configured.strip() else _unknown_language(configured)
    if problem:
        raise ConfigError(f"transcribe.language: {problem}", hint="or give --language")


def check_captions(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """`render --captions`: auto, none, or an existing caption file of a known format."""
    if value in CAPTION_KEYWORDS:
        return value
    from pipeline.captions import SUFFIXES, caption_format

    path = Path(value)
    if path.suffix and caption_format(path) is None:
        raise click.BadParameter(f"{path.name}: unknown caption format; use a {either(SUFFIXES)} file, "
                                 f"or {either(CAPTION_KEYWORDS)}")
    if not path.is_file():
        raise click.BadParameter(f"{value}: no such caption file (or use {either(CAPTION_KEYWORDS)})")
    return value


def check_caption_output(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """`transcribe -o`: a file name whose suffix is a caption format."""
    from pipeline.captions import SUFFIXES, caption_format

    if caption_format(value) is None:
        raise click.BadParameter(f"{value.name}: unknown caption format; use {either(SUFFIXES)}")
    return value


def output_suffix(suffixes: Sequence[str], what: str) -> Callback:
    """A check that an output option's file name ends in one of `suffixes` (any case).

    `what` names the file in the message: "the video" -> "x.avi: the video must end in .mp4".
    """

    def check(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
        if value is not None and value.suffix.lower() not in suffixes:
            raise click.BadParameter(f"{value.name}: {what} must end in {either(suffixes)}")
        return value

    return check


def check_output_folder(output: Path) -> None:
    """Fail before any work when the folder of `output` can be neither made nor written.

    Creates nothing: the folder is made when the output is written.

    Raises:
        OutputError: a part of the folder's path is a file, or the folder that would hold the
            new folders (or the output) is not writable.
    """
    folder = output.parent
    existing = folder
    try:
        while not existing.exists():  # the nearest folder that exists: the rest is made in it
            existing = existing.parent
    except OSError as exc:
        raise OutputError(f"{output}: cannot reach the folder {folder} ({exc.strerror})",
                          hint="choose a folder you can write to") from None
    if not existing.is_dir():
        why = "a file has that name" if existing == folder else f"{existing} is a file"
        raise OutputError(f"{output}: cannot create the folder {folder}: {why}",
                          hint="choose a folder you can write to")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{output}: the folder {existing} is not writable", hint="choose a folder you can write to")


def speech_options(func: click.decorators.FC) -> click.decorators.FC:
    """--language, --model, --engine, --vocabulary (shared by render, transcribe, batch and session)."""
    func = click.option("--vocabulary", type=existing_file(), default=None,
                        help="Extra domain terms, one per line, given to the speech engine.")(func)
    func = click.option("--engine", type=click.Choice(["faster-whisper", "openai-whisper"]), default=None,
                        help="Speech engine (default faster-whisper).")(func)
    func = click.option("--model", default=None,
                        help="Whisper model: 'base' (bundled), a local model folder or .pt file, "
                        "or a name such as large-v3-turbo (downloaded only when online).")(func)
    func = click.option("--language", default=None, callback=check_language,
                        help="Spoken language: a Whisper code such as fi, sv or en, or 'auto' (default fi).")(func)
    return func


END_CARD_MODES = ("auto", "always", "never")


def end_card_option(func: click.decorators.FC) -> click.decorators.FC:
    """--end-card auto|always|never (render and batch; None: config end_card.mode)."""
    return click.option("--end-card", type=click.Choice(END_CARD_MODES), default=None,
                        help="Help-resources end card: auto (when the comment or the captions are flagged "
                        "for self-harm or a disclosure), always or never (default: config end_card.mode).")(func)


Trim = tuple[int, float, float | None]  # clip number (from 1), start, end (None: to the clip's end)


def parse_trim(text: str) -> Trim:
    """`--trim INDEX:START-END`: "2:1.5-4", "1:0:03-0:07,5", "2:3-" (to the end), "1:-10" (from 0).

    The clip is named by its number, never by its file name, so any name is safe; times are
    seconds (decimal point or comma) or mm:ss, as in a batch manifest.

    Raises:
        ValueError: not of that shape, a bad time, or an end not after the start.
    """
    from pipeline.batch import parse_time

    index_text, sep, times = text.strip().partition(":")
    if not sep or not index_text.strip().isdigit() or int(index_text) < 1 or "-" not in times:
        raise ValueError(f"{text!r}: write CLIP:START-END, e.g. 2:1.5-4 (clip 2 from 1.5 s to 4 s), "
                         "2:1.5- (to its end) or 1:-10 (its first 10 s)")
    start_text, _, end_text = times.partition("-")
    start = parse_time(start_text) if start_text.strip() else 0.0
    end = parse_time(end_text) if end_text.strip() else None
    if end is not None and end <= start:
        raise ValueError(f"{text!r}: the end must be after the start")
    return int(index_text), start, end


def check_trims(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[Trim, ...]:
    """`--trim` (repeatable): each parsed; one trim per clip."""
    trims = []
    for value in values:
        try:
            trims.append(parse_trim(value))
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    seen = [t[0] for t in trims]
    twice = sorted({i for i in seen if seen.count(i) > 1})
    if twice:
        raise click.BadParameter(f"clip {twice[0]} is trimmed twice; give one --trim per clip")
    return tuple(trims)


def worker_option(func: click.decorators.FC) -> click.decorators.FC:
    """`--worker NAME`: who answered, for the answered ledger (render, batch)."""
    return click.option("--worker", default=None,
                        help="Your name in the answered ledger (default: config [ledger] worker, "
                        "then your user name).")(func)
