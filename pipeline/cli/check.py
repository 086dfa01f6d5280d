"""`sossut check VIDEO`: a preflight table of TikTok's upload rules and ours; exit 0 or 1."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli.main import App, command_options
from pipeline.cli.options import check_output_folder, existing_file, output_suffix

_MARKS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "skip": "-"}


@click.command()
@click.argument("video", type=click.Path(path_type=Path))
@click.option("--captions", type=existing_file(), default=None,
              help="Caption file to check (default: VIDEO.srt or VIDEO.vtt beside the video).")
@click.option("--overlay", type=click.Path(dir_okay=False, path_type=Path), default=None,
              callback=output_suffix((".png",), "the overlay picture"),
              help="Write a frame with TikTok's interface zones drawn over it to this PNG.")
@click.option("--at", "at_seconds", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Time of the --overlay frame (default: the middle of the video).")
@click.option("--no-sound", is_flag=True, help="Skip the sound checks (they decode the whole audio).")
@command_options
def check(app: App, video: Path, captions: Path | None, overlay: Path | None, at_seconds: float | None,
          no_sound: bool) -> None:
    """Check VIDEO before publishing: upload spec, sound, captions, interface zones.

    Prints a table; exits 0 when nothing failed (warnings allowed), 1 otherwise.

    \b
    Example:
      sossut check vastaus.mp4 --overlay ruutu.png --at 3
    """
    from pipeline.video import check_video

    if overlay is not None:
        check_output_folder(overlay)
    report = check_video(video, app.settings, captions=captions, sound=not no_sound)
    width = max(len(c.name) for c in report.checks)
    click.echo(f"{video.name}")
    for c in report.checks:
        click.echo(f"  {_MARKS[c.status]:<4}  {c.group:<8}  {c.name:<{width}}  {c.detail}")
    if overlay is not None:
        from pipeline.card import write_interface_zones
        from pipeline.video import interface_frame

        frame, shown = interface_frame(video, at_seconds, (app.settings.canvas.width, app.settings.canvas.height))
        write_interface_zones(frame, app.settings, overlay)
        click.echo(f"interface zones over the frame at {shown:.2f} s: {overlay}")
    failed = [c for c in report.checks if c.status == "fail"]
    warned = [c for c in report.checks if c.status == "warn"]
    if failed:
        click.echo(f"{len(failed)} problems, {len(warned)} warnings")
        sys.exit(1)
    click.echo("all good" + (f" ({len(warned)} warnings)" if warned else ""))


COMMANDS: list[click.Command] = [check]
