"""`sossut duet`: two recordings of one conversation, lined up by their sound, A above B or whoever speaks."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.main import App, command_options
from pipeline.cli.options import (
    check_captions,
    check_configured_language,
    check_output_folder,
    end_card_option,
    speech_options,
)
from pipeline.cli.render import card_options, comment_option, progress_callbacks, video_output
from pipeline.duet import DuetJob, make_duet
from pipeline.reply import transcriber_for
from pipeline.types import Comment
from pipeline.video import SyncResult, check_output_path


@click.command()
@click.argument("clip_a", metavar="A", type=click.Path(path_type=Path))
@click.argument("clip_b", metavar="B", type=click.Path(path_type=Path))
@video_output()
@comment_option(required=True)
@card_options
@click.option("--offset", type=float, default=None, metavar="SECONDS",
              help="How many seconds after A recording B started (negative: before). Default: found from "
              "the sound both recordings hear.")
@click.option("--layout", type=click.Choice(["stack", "switch"]), default=None,
              help="stack: A above B, each cropped to fill its half; switch: the whole picture on whoever is "
              "speaking (default: config duet.layout).")
@click.option("--sound", type=click.Choice(["speaker", "a", "b"]), default=None,
              help="Whose recording gives the sound and the captions: speaker (the speaking person's own phone) "
              "or always a or b (default: config duet.sound, speaker).")
@click.option("--captions", default="auto", show_default=True, callback=check_captions,
              help="auto (transcribe the sound heard), none, or an SRT/VTT/JSON/ASS file on the duet's clock.")
@click.option("--sidecar", is_flag=True, help="Also write OUTPUT.srt and OUTPUT.vtt beside the video.")
@click.option("--mask-captions/--no-mask-captions", default=None,
              help="Mask personal data spoken in the captions (config privacy.mask_captions).")
@speech_options
@end_card_option
@command_options
def duet(app: App, clip_a: Path, clip_b: Path, output: Path, comment: str, user: str, avatar: Path | None,
         show_user: bool | None, keep_personal_data: bool, offset: float | None, layout: str | None,
         sound: str | None, captions: str, sidecar: bool, mask_captions: bool | None, language: str | None, model: str | None,
         engine: str | None, vocabulary: Path | None, end_card: str | None) -> None:
    """Make one reply from two recordings of one conversation (two phones, or a video call).

    The recordings are lined up by the sound both hear (or by --offset) and only the time both
    cover is used: A above B (stack) or whoever is speaking (switch). The sound and captions come
    from the speaking person's own phone (both at once would echo).

    \b
    Examples:
      sossut duet sanna.mp4 mikko.mp4 -o vastaus.mp4 --comment "Mikä on huostaanotto?"
      sossut duet sanna.mp4 mikko.mp4 -o vastaus.mp4 --comment "..." --layout switch
      sossut duet sanna.mp4 mikko.mp4 -o vastaus.mp4 --comment "..." --offset 1.25 --sound a
    """
    if captions == "auto":
        check_configured_language(app.settings, language)
    check_output_path(output, [clip_a, clip_b] + ([avatar] if avatar else []))
    check_output_folder(output)
    settings = app.settings
    if layout is not None or sound is not None:
        settings = settings.with_values(duet={"layout": layout or settings.duet.layout,
                                              "sound": sound or settings.duet.sound})
    job = DuetJob(clip_a, clip_b, Comment(comment, user, avatar), output, offset=offset, captions=captions,
                  show_user=show_user, keep_personal_data=keep_personal_data, mask_captions=mask_captions,
                  end_card=end_card, sidecar=sidecar)
    transcribe = transcriber_for(settings, vocabulary_file=vocabulary, language=language, model=model, engine=engine)
    on_stage, on_progress = progress_callbacks(app)

    def on_sync(found: SyncResult) -> None:
        app.info(f"offset {found.offset_s:+.3f} s (B started after A), confidence {found.confidence:.1f}")

    if offset is not None:
        app.info(f"offset {offset:+.3f} s (given)")
    result = make_duet(job, settings, transcribe=transcribe, on_stage=on_stage, on_sync=on_sync,
                       on_progress=on_progress)
    if settings.duet.layout == "switch":
        app.info(f"switch: {len(result.shots)} shots ("
                 + ", ".join(f"{'AB'[shot.speaker]} {shot.start:.2f}s" for shot in result.shots[:12])
                 + (", ..." if len(result.shots) > 12 else "") + ")")
    for warning in result.warnings:
        app.warn(warning)
    click.echo(str(result.output))


COMMANDS: list[click.Command] = [duet]
