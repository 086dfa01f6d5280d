"""`sossut batch` (a manifest -> many reply videos) and `sossut session suggest` (a recorded LIVE
-> a draft manifest of spans). Drawing progress and the summary is all this module does."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, get_args

import click

from pipeline.batch import (
    COLUMNS,
    ROW_STATUSES,
    BatchEvent,
    BatchOptions,
    BatchReport,
    Executor,
    RowResult,
    default_jobs,
    load_manifest,
    run_batch,
)
from pipeline.cli.main import App, command_options
from pipeline.cli.options import (
    check_configured_language,
    check_output_folder,
    end_card_option,
    existing_file,
    output_suffix,
    speech_options,
    worker_option,
)
from pipeline.errors import InputError

_SUMMARY_ROWS = 40  # longer batches list only their failed rows


@click.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the videos, report.json/report.csv and the resume state.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Videos made at once (worker processes). Default: what this machine affords, "
              f"max(2, cores // 2), at most the cores and free RAM / 1.5 GB: {default_jobs()} here; config batch.jobs. "
              "Each job's ffmpeg and Whisper get cores / jobs threads.")
@click.option("--resume", is_flag=True,
              help="Skip rows already made by an earlier run with the same inputs and settings.")
@click.option("--skip-invalid", is_flag=True, help="Make the valid rows even if some rows are invalid.")
@click.option("--quiet", is_flag=True, help="Print only errors and the summary.")
@click.option("--captions", type=click.Choice(["auto", "none"]), default="auto", show_default=True,
              help="Captions of rows whose captions column is empty.")
@click.option("--sidecar", is_flag=True, help="Also write OUTPUT.srt and OUTPUT.vtt next to each video.")
@click.option("--executor", type=click.Choice(get_args(Executor)), default="local", show_default=True,
              help="local: worker processes here. dask: one task per row on a Dask cluster "
              '(pip install "sossut[dask]"); its workers must see the manifest\'s clips and the '
              "out dir at the same paths (a shared filesystem).")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --executor dask). "
              "Without it, --executor dask starts a local cluster of --jobs workers.")
@speech_options
@end_card_option
@worker_option
@command_options
def batch(app: App, manifest: Path, out_dir: Path, jobs: int | None, resume: bool, skip_invalid: bool,
          quiet: bool, captions: str, sidecar: bool, executor: Executor, scheduler: str | None,
          language: str | None, model: str | None, engine: str | None, vocabulary: Path | None,
          end_card: str | None, worker: str | None) -> None:
    """Make one reply video per row of MANIFEST (CSV, JSON or YAML).

    \b
    Columns: clip, comment, user, avatar, start, end, output, captions, show_user, end_card,
    duet, offset. Only clip and comment are required. Paths are relative to the manifest's
    folder; outputs stay inside --out-dir (default name 003_clip.mp4 from the row number).
    start/end cut a span of a long recording: 12.5, 12,5, 01:30 or 1:02:03.5.
    Rows that cut one recording share one transcription (captions auto).
    clip "a.mp4 | b.mp4" joins clips in order; start "3 | 0", end " | 41.5" cut each one.
    duet "stack" shows the two clips A above B, lined up by their sound or by offset
    (seconds after A that B started).
    CSV: comma or semicolon, UTF-8 with or without BOM (Excel "CSV UTF-8").

    \b
    Every row is checked first; invalid rows stop the batch (exit 1) unless --skip-invalid.
    A failing row fails alone; the others are made. Exit code 1 if any row failed.
    report.json and report.csv in --out-dir list every row; --resume after a stop or a
    crash makes only what is missing or changed.

    \b
    Example:
      sossut batch vastaukset.csv --out-dir valmiit
    """
    app.quiet = quiet
    if worker:  # each made row is recorded in the answered ledger under this name
        app.settings = app.settings.with_values(ledger={"worker": worker})
    check_configured_language(app.settings, language)
    if scheduler:
        executor = "dask"
    loaded = load_manifest(manifest, out_dir, default_captions=captions, default_end_card=end_card)
    for note in loaded.notes:
        app.info(f"note: {note}")
    if loaded.invalid:
        total = len(loaded.rows) + len(loaded.invalid)
        click.echo(f"{len(loaded.invalid)} of {total} rows in {manifest.name} are invalid:", err=True)
        for problem in loaded.invalid:
            click.echo(f"  row {problem.row}: {problem.reason}", err=True)
        if not skip_invalid:
            raise InputError("the batch did not start; nothing was made",
                             hint=f"fix the rows (columns: {', '.join(COLUMNS)}) or run with --skip-invalid")
    options = BatchOptions(jobs=jobs, resume=resume, skip_invalid=skip_invalid, executor=executor,
                           scheduler=scheduler, engine=engine, model=model, language=language,
                           vocabulary_file=vocabulary, sidecar=sidecar, debug=app.debug)
    display = make_display(quiet=quiet, total=len(loaded.rows))
    try:
        with display:
            report = run_batch(loaded, app.settings, options, on_event=display.handle)
    except KeyboardInterrupt:
        click.echo("interrupted: finished videos are kept; run again with --resume to make the rest", err=True)
        sys.exit(130)
    _summary(app, report, quiet)
    if report.failed:
        sys.exit(1)


# --- progress -------------------------------------------------------------------------------


def make_display(*, quiet: bool, total: int) -> Any:
    """Live bars on a terminal, one line per row otherwise, nothing but errors with --quiet."""
    if quiet:
        return QuietDisplay()
    if sys.stdout.isatty():
        return LiveDisplay(total)
    return PlainDisplay()


class QuietDisplay:
    """Nothing while it runs: the summary lists the errors."""

    def __enter__(self) -> QuietDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def handle(self, event: BatchEvent) -> None:
        pass


class PlainDisplay(QuietDisplay):
    """For logs and pipes: a line when the plan is made and one per finished row."""

    def handle(self, event: BatchEvent) -> None:
        if event.kind == "plan":
            skipped = f", {len(event.skipped)} already done (--resume)" if event.skipped else ""
            click.echo(f"making {event.to_run} videos{skipped}")
        elif event.kind == "finished" and event.result:
            click.echo(_row_line(event.result))


def _row_line(r: RowResult) -> str:
    text = f"row {r.row}: {r.status} {r.output or Path(r.clip).name} ({r.seconds:.1f} s)"
    if r.offset is not None:
        found = "given" if r.confidence is None else f"confidence {r.confidence:.0f}"
        text += f" offset {r.offset:+.3f} s ({found})"
    if r.status == "failed":
        text += f": {r.error}"
    if r.warnings:
        text += f" [{len(r.warnings)} warnings]"
    return text


class LiveDisplay(QuietDisplay):
    """An overall bar (done / failed / left, ETA) and each running row's stage."""

    def __init__(self, total: int, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.console = console or Console()
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("ETA"), TimeRemainingColumn(), console=self.console)
        self.task = self.progress.add_task("starting", total=total)
        self.running: dict[tuple[int, str], tuple[str, float, float]] = {}
        self.ended: set[tuple[int, str]] = set()  # progress events may arrive after the result
        self.done = self.failed = 0
        self.live: Any = None

    def __enter__(self) -> LiveDisplay:
        from rich.live import Live

        self.live = Live(console=self.console, get_renderable=self._render, refresh_per_second=4, transient=False)
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.running.clear()
        self.live.__exit__(*exc)

    def _render(self) -> Any:
        from rich.console import Group
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        for (row, label), (stage, fraction, since) in sorted(self.running.items()):
            what = f"row {row}" if row else "transcribe"
            pct = f"{fraction * 100:3.0f}%" if stage == "render" else ""
            table.add_row(what, label, f"{stage} {pct}".strip(), f"{time.monotonic() - since:4.0f} s")
        return Group(self.progress, table)

    def handle(self, event: BatchEvent) -> None:
        key = (event.row, event.label)
        if event.kind == "plan":
            self.progress.update(self.task, total=event.to_run)
            if event.skipped:
                self.console.print(f"{len(event.skipped)} rows already done (--resume): skipped")
        elif event.kind in ("stage", "progress"):
            if key in self.ended:
                return
            since = self.running.get(key, ("", 0.0, time.monotonic()))[2]
            self.running[key] = (event.stage or "", event.fraction, since)
        elif event.kind == "transcribed":
            self.running.pop(key, None)
            self.ended.add(key)
        elif event.kind == "finished" and event.result:
            self.running.pop(key, None)
            self.ended.add(key)
            if event.result.status == "failed":
                self.failed += 1
                self.console.print(f"[red]row {event.row} ({event.label}) failed:[/] {event.result.error}",
                                   markup=True, highlight=False)
            else:
                self.done += 1
            self.progress.advance(self.task)
        if event.kind == "finished" or event.kind == "plan":
            total = self.progress.tasks[0].total or 0
            left = int(total) - self.done - self.failed
            self.progress.update(self.task, description=f"done {self.done} · failed {self.failed} · left {left}")


def _summary(app: App, report: BatchReport, quiet: bool) -> None:
    results = report.results
    shown = results if len(results) <= _SUMMARY_ROWS else [r for r in results if r.status != "done"]
    if shown and not quiet:
        if sys.stdout.isatty():
            from rich.console import Console
            from rich.table import Table

            table = Table("row", "status", "output", "seconds", "error")
            for r in shown:
                table.add_row(str(r.row), r.status, r.output, f"{r.seconds:.1f}", r.error)
            Console().print(table)
        else:
            for r in shown:
                click.echo(f"{r.row:>5}  {r.status:<8} {r.output:<32} {r.seconds:7.1f} s  {r.error}".rstrip())
    counts = ", ".join(f"{report.count(s)} {s}" for s in ROW_STATUSES if report.count(s))
    click.echo(f"{counts or 'nothing to do'} in {report.seconds:.0f} s {executor_text(report)}; "
               f"report: {report.out_dir / 'report.csv'}")
    failed = report.failed
    if failed:
        click.echo(f"{len(failed)} of {len(results)} failed:", err=True)
        for r in failed:
            click.echo(f"  row {r.row} {r.output or Path(r.clip).name}: {r.error}", err=True)
            if r.hint:
                click.echo(f"    hint: {r.hint}", err=True)
            if app.debug and r.traceback:
                click.echo(r.traceback, err=True)
    warned = [r for r in results if r.warnings]
    if quiet and warned:
        app.warn(f"{len(warned)} rows have warnings (personal data, flagged comments): see report.csv")
        return
    for r in warned:
        for warning in r.warnings:
            app.warn(f"row {r.row} {r.output}: {warning}")



def executor_text(report: BatchReport) -> str:
    """Where the rows were made: "on Dask (tcp://10.0.0.5:8786)", "with 2 worker processes"."""
    if report.executor == "dask":
        return f"on Dask ({report.address})" if report.address else "on Dask"
    return f"with {report.jobs} worker {'process' if report.jobs == 1 else 'processes'}"


# --- session --------------------------------------------------------------------------------


@click.group()
def session() -> None:
    """Cut a recorded LIVE session into reply videos (suggest spans, then `sossut batch`)."""


@session.command("suggest")
@click.argument("recording", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              callback=output_suffix((".csv",), "the draft manifest (CSV)"),
              help="The draft manifest to write (CSV).")
@click.option("--pause", type=click.FloatRange(min=0.5), default=2.5, show_default=True,
              help="Seconds of silence that end an answer.")
@click.option("--transcript", type=existing_file(), default=None,
              help="Use this transcript JSON (from `sossut transcribe`) instead of transcribing.")
@speech_options
@command_options
def suggest(app: App, recording: Path, output: Path, pause: float, transcript: Path | None,
            language: str | None, model: str | None, engine: str | None, vocabulary: Path | None) -> None:
    """Transcribe RECORDING and write a draft manifest with one span per answered question.

    \b
    Spans split on pauses longer than --pause and on cue phrases such as "seuraava kysymys",
    "joku kysyi", "sitten kysyttiin". Open the CSV in a spreadsheet, write each row's comment,
    adjust start/end (mm:ss.s), delete rows you do not want, then:
      sossut batch draft.csv --out-dir valmiit
    """
    from pipeline.batch import suggest_session
    from pipeline.types import Transcript
    from pipeline.video import probe

    check_output_folder(output)
    if transcript is not None:
        try:
            words = Transcript.from_json(transcript.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"cannot read the transcript {transcript}: {exc}") from None
    else:
        from pipeline.reply import transcriber_for

        check_configured_language(app.settings, language)
        media = probe(recording)
        if not media.has_audio:
            raise InputError(f"{recording.name} has no audio track", hint="spans are found from the speech")
        app.info(f"transcribing {recording.name} ({media.duration / 60:.0f} min)…")
        words = transcriber_for(app.settings, vocabulary_file=vocabulary, language=language, model=model,
                                engine=engine)(media)
    spans = suggest_session(recording, output, words, pause=pause)
    app.info(f"{len(spans)} spans; write each row's comment, then run: sossut batch {output} --out-dir DIR")
    click.echo(str(output))


COMMANDS: list[click.Command] = [batch, session]
