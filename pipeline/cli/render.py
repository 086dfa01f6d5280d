"""`sossut render`, `sossut card`, `sossut demo`: one reply video, or its card alone."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from pipeline.cli.main import App, command_options
from pipeline.cli.options import (
    Trim,
    check_captions,
    check_configured_language,
    check_output_folder,
    check_trims,
    end_card_option,
    existing_file,
    output_suffix,
    speech_options,
    worker_option,
)
from pipeline.config import ASSETS_DIR
from pipeline.errors import PipelineError
from pipeline.reply import ClipPart, ReplyJob, Transcribe, make_reply, transcriber_for
from pipeline.types import REFRAMES, VIDEO_SUFFIXES, Comment
from pipeline.video import check_output_path

DEMO_CLIP = ASSETS_DIR / "demo" / "demo.mp4"
DEMO_COMMENT = "Voiko lastensuojeluilmoituksen tehdä nimettömänä? Pelottaa et kaverit saa tietää 😟"
DEMO_USER = "nimetön_nuori"


def comment_option(required: bool) -> Callable[[click.decorators.FC], click.decorators.FC]:
    return click.option("--comment", required=required, help="The viewer comment shown on the card.")


def card_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option("--avatar", type=existing_file(), default=None,
                        help="Picture for the card's round avatar (with --show-user).")(func)
    func = click.option("--user", default="", help="The commenter's user name.")(func)
    func = click.option("--show-user/--hide-user", default=None,
                        help="Name the commenter and show their avatar on the card (default: anonymous; "
                        "config card.show_user).")(func)
    func = click.option("--keep-personal-data", is_flag=True,
                        help="Do not mask phone numbers, identity codes, e-mails, addresses... on the card.")(func)
    return func


def _reframe_option(func: click.decorators.FC) -> click.decorators.FC:
    return click.option("--reframe", type=click.Choice(REFRAMES), default=None,
                        help="How the clip fills 1080x1920: blur (default), crop or fit.")(func)


def progress_callbacks(app: App) -> tuple[Callable[[str], None], Callable[[float], None]]:
    """A stage printer and an encode-progress callback for a single render.

    On a terminal the percentage updates in place; otherwise only the stages are printed.
    """
    tty = sys.stderr.isatty()
    state = {"last": -1}

    def on_stage(name: str) -> None:
        app.info(f"  {name}…")

    def on_progress(fraction: float) -> None:
        pct = int(fraction * 100)
        if tty and not app.quiet and pct != state["last"]:
            state["last"] = pct
            click.echo(f"\r  encoding {pct:3d}%", err=True, nl=pct >= 100)

    return on_stage, on_progress


def video_output(default: Path | None = None) -> Callable[[click.decorators.FC], click.decorators.FC]:
    return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=default is None,
                        default=default, show_default=default is not None,
                        callback=output_suffix(VIDEO_SUFFIXES, "the video"), help="The MP4 to write.")


def _run(app: App, job: ReplyJob, reframe: str | None, transcribe: Transcribe | None = None,
         crossfade: float | None = None) -> None:
    # Before the probe: an output that would overwrite an input or cannot be written is found first.
    check_output_path(job.output, [p.path for p in job.parts] + ([job.comment.avatar] if job.comment.avatar else []))
    check_output_folder(job.output)
    settings = app.settings if reframe is None else app.settings.with_values(reframe={"mode": reframe})
    if crossfade is not None:
        settings = settings.with_values(join={"crossfade": crossfade})
    on_stage, on_progress = progress_callbacks(app)
    result = make_reply(job, settings, transcribe=transcribe, on_stage=on_stage, on_progress=on_progress)
    for warning in result.warnings:
        app.warn(warning)
    click.echo(str(result.output))


def _clip_parts(clips: tuple[Path, ...], trims: tuple[Trim, ...]) -> list[ClipPart]:
    """The clips in order, each with its --trim."""
    cut = {index: (start, end) for index, start, end in trims}
    for index in cut:
        if index > len(clips):
            what = "there is only one clip" if len(clips) == 1 else f"there are {len(clips)} clips"
            raise click.BadParameter(f"{index}: no such clip ({what})", param_hint="'--trim'")
    return [ClipPart(clip, *cut.get(index, (0.0, None))) for index, clip in enumerate(clips, 1)]


@click.command()
@click.argument("clips", metavar="CLIP...", nargs=-1, required=True, type=click.Path(path_type=Path))
@video_output()
@comment_option(required=True)
@card_options
@click.option("--captions", default="auto", show_default=True, callback=check_captions,
              help="auto (transcribe the speech), none, or an edited SRT/VTT/JSON/ASS file.")
@click.option("--sidecar", is_flag=True, help="Also write OUTPUT.srt and OUTPUT.vtt beside the video.")
@click.option("--mask-captions/--no-mask-captions", default=None,
              help="Mask personal data spoken in the captions (config privacy.mask_captions).")
@speech_options
@_reframe_option
@click.option("--trim", "trims", metavar="CLIP:START-END", multiple=True, callback=check_trims,
              help="Use only part of a clip, named by its number: 2:1.5-4 (clip 2 from 1.5 s to 4 s), "
              "2:1.5- (to its end), 1:-10 (its first 10 s); times in seconds or mm:ss. Repeat for each clip.")
@click.option("--crossfade", type=click.FloatRange(0, 2), default=None, metavar="SECONDS",
              help="Fade between joined clips for this long (default: config join.crossfade; 0 = a cut).")
@end_card_option
@worker_option
@command_options
def render(app: App, clips: tuple[Path, ...], output: Path, comment: str, user: str, avatar: Path | None,
           show_user: bool | None, keep_personal_data: bool, captions: str, sidecar: bool,
           mask_captions: bool | None, language: str | None, model: str | None, engine: str | None,
           vocabulary: Path | None, reframe: str | None, trims: tuple[Trim, ...], crossfade: float | None,
           end_card: str | None, worker: str | None) -> None:
    """Make one reply video from CLIP (or several clips, joined) and a viewer comment.

    Several clips are joined in order into one reply (one answers, the other adds to it): each
    is made upright, SDR and equally loud on its own; the card stays over the whole video and
    the captions follow each clip. With several clips, a --captions FILE is on the joined
    video's clock (as --sidecar writes it).

    \b
    Examples:
      sossut render klippi.mp4 -o vastaus.mp4 --comment "Mikä on huostaanotto?"
      sossut render sanna.mp4 mikko.mp4 -o vastaus.mp4 --comment "..." --trim 2:0:03-0:41
    """
    if captions == "auto":
        check_configured_language(app.settings, language)
    job = ReplyJob.of_parts(_clip_parts(clips, trims), Comment(comment, user, avatar), output, captions=captions,
                            show_user=show_user, keep_personal_data=keep_personal_data, sidecar=sidecar,
                            mask_captions=mask_captions, end_card=end_card)
    transcribe = None
    if captions == "auto":  # a caption file or none: the speech stage is not even imported
        transcribe = transcriber_for(app.settings, vocabulary_file=vocabulary, language=language, model=model,
                                     engine=engine)
    _run(app, job, reframe, transcribe, crossfade)
    _note_answer(app, comment, output, worker)  # after a successful render only: _run raises otherwise


def _note_answer(app: App, comment: str, output: Path, worker: str | None) -> None:
    """Record in the ledger that `output` answers `comment`; a ledger that cannot be written is
    a warning, not a failure (the video is made)."""
    from pipeline.comments import record_answer

    try:
        record_answer(comment, output, app.settings, worker=worker)
    except PipelineError as exc:
        app.warn(f"the answer was not recorded in the ledger: {exc.message}")


@click.command()
@comment_option(required=True)
@card_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              callback=output_suffix((".png",), "the card image"), help="The PNG to write.")
@command_options
def card(app: App, comment: str, user: str, avatar: Path | None, show_user: bool | None,
         keep_personal_data: bool, output: Path) -> None:
    """Draw the comment card alone, as a transparent PNG."""
    from pipeline.reply import comment_card

    check_output_folder(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    image, warnings = comment_card(Comment(comment, user, avatar), app.settings, output, show_user=show_user,
                                   keep_personal_data=keep_personal_data)
    for warning in warnings:
        app.warn(warning)
    click.echo(f"{image.path} ({image.width}x{image.height})")


@click.command()
@video_output(default=Path("out/demo.mp4"))
@_reframe_option
@command_options
def demo(app: App, output: Path, reframe: str | None) -> None:
    """Render the bundled sample clip with an example comment and Finnish captions (offline)."""
    check_configured_language(app.settings, None)
    job = ReplyJob(clip=DEMO_CLIP, comment=Comment(DEMO_COMMENT, DEMO_USER), output=output, captions="auto")
    app.info(f"rendering the bundled sample {DEMO_CLIP.name} with the comment: {DEMO_COMMENT}")
    _run(app, job, reframe)
    app.info(f"done: {output.resolve()}")


COMMANDS: list[click.Command] = [render, card, demo]
