"""Errors the pipeline raises. `cli.py` turns them into one line (and a hint) and exit code 1."""

from __future__ import annotations


class PipelineError(Exception):
    """A known failure a user can act on."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(PipelineError):
    """A clip, comment, image or manifest that cannot be used."""


class ConfigError(PipelineError):
    """A config file with unknown keys, wrong types or bad values."""


class RenderError(PipelineError):
    """ffmpeg failed. Keeps the argv and the tail of its stderr."""

    def __init__(self, message: str, hint: str = "", argv: list[str] | None = None, stderr: str = "") -> None:
        super().__init__(message, hint)
        self.argv = argv or []
        self.stderr = stderr


class TranscribeError(PipelineError):
    """The speech engine or its model could not be used."""


class OutputError(PipelineError):
    """The output path cannot be written (or would overwrite an input)."""
