"""`sossut transcribe`: speech to an editable transcript or caption file."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.main import App, command_options
from pipeline.cli.options import (
    check_caption_output,
    check_configured_language,
    check_output_folder,
    speech_options,
)
from pipeline.errors import InputError, OutputError


@click.command()
@click.argument("clip", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              callback=check_caption_output,
              help="X.json (transcript with word times), X.srt, X.vtt or X.ass (captions as they will be burned in).")
@speech_options
@command_options
def transcribe(app: App, clip: Path, output: Path, language: str | None, model: str | None, engine: str | None,
               vocabulary: Path | None) -> None:
    """Transcribe the speech of CLIP (a video or audio file) to a file you can edit and pass back with `render --captions FILE`.

    \b
    Example:
      sossut transcribe klippi.mp4 -o klippi.srt
      (edit klippi.srt)
      sossut render klippi.mp4 -o vastaus.mp4 --comment "..." --captions klippi.srt
    """
    from pipeline.captions import export_transcript
    from pipeline.speech import options_from_settings, transcribe_file

    if not clip.is_file():
        raise InputError(f"{clip}: file not found")
    if output.exists() and output.resolve() == clip.resolve():
        raise OutputError(f"{output}: would overwrite the input")
    check_output_folder(output)  # before the transcription, not after it
    check_configured_language(app.settings, language)
    settings = app.settings
    options = options_from_settings(settings.transcribe, vocabulary_file=vocabulary, language=language,
                                    model=model, engine=engine)
    transcript = transcribe_file(clip, options)  # a video or an audio file (e.g. a voice memo)
    output.parent.mkdir(parents=True, exist_ok=True)
    export_transcript(transcript, output, settings.captions, (settings.canvas.width, settings.canvas.height),
                      settings.safe_zone)
    words = len(transcript.words)
    app.info(f"{words} words, language {transcript.language or '?'}")
    click.echo(str(output))


COMMANDS: list[click.Command] = [transcribe]
