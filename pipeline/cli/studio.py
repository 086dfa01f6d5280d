"""`sossut studio`: the local web page for making reply videos without a terminal."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.main import App, command_options


@click.command()
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the jobs and finished videos (default: config studio.folder, else "
              "a 'sossut' folder under your Videos or Documents folder).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port on 127.0.0.1 (0: a free one).")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; only print the address.")
@click.option("--vocabulary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Your own terms file, one a line, given to the speech engine; the page adds the "
              "words you correct to it (default: sanasto.txt in the studio folder).")
@command_options
def studio(app: App, folder: Path | None, port: int, no_browser: bool, vocabulary: Path | None) -> None:
    """Open the studio: make a reply video in a web page on this computer.

    \b
    Example:
      sossut studio
    """
    import logging

    from pipeline.studio import default_folder, serve

    root = folder or default_folder(app.settings)
    if not app.debug:
        logging.getLogger("pipeline.studio").setLevel(logging.INFO)

    def ready(url: str) -> None:
        click.echo(f"Sossut-studio: {url}", err=False)
        click.echo(f"Kansio: {root}", err=True)
        click.echo("Sulje painamalla Ctrl+C.", err=True)

    try:
        serve(root, app.settings, port=port, open_browser=not no_browser, vocabulary_file=vocabulary,
              on_ready=ready)
    except KeyboardInterrupt:
        pass  # uvicorn has already shut down cleanly and re-raises the Ctrl-C it caught
    except OSError as exc:
        raise click.ClickException(f"cannot start the studio on port {port}: {exc.strerror or exc}") from None
    click.echo("Studio suljettu.", err=True)


COMMANDS: list[click.Command] = [studio]
