"""Every option is checked before any work starts: a usage error (exit 2) that names the option.

The commands run in-process through Click's test runner with the work itself (probe, speech,
card drawing, manifest writing) replaced by a function that fails the test if it is called.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pipeline.cli import cli
from pipeline.cli.options import WHISPER_LANGUAGES
from tests.conftest import REPO


def _started(*args: object, **kwargs: object) -> None:
    pytest.fail("work started before the options were checked")


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any probe, transcription, card drawing or draft writing fails the test."""
    for target in ("pipeline.reply.probe", "pipeline.video.probe", "pipeline.speech.transcribe_file",
                   "pipeline.card.write_card", "pipeline.batch.suggest_session"):
        monkeypatch.setattr(target, _started)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A clip that is not a video (nothing may look at it), a text file, a config, a folder."""
    clip = tmp_path / "clip.mp4"
    clip.write_text("ei video\n", encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("00:01 hei\n", encoding="utf-8")
    return {"clip": clip, "notes": notes, "dir": tmp_path}


def untouched(files: dict[str, Path]) -> bool:
    """Nothing was written beside the clip and the text file."""
    return sorted(files["dir"].iterdir()) == sorted([files["clip"], files["notes"]])


def sossut(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def usage_error(result: Result, option: str) -> str:
    """The one `Error:` line of a usage error, which names `option`."""
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert f"'{option}'" in errors[0], errors[0]
    assert "Traceback" not in result.output
    return errors[0]


def one_error(result: Result) -> str:
    """The one `error:` line of a known error (exit 1)."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


def render_args(files: dict[str, Path], *extra: str | Path) -> list[str | Path]:
    return ["render", files["clip"], "-o", files["dir"] / "out.mp4", "--comment", "moi", *extra]


# --- --language -------------------------------------------------------------------------------


def test_whisper_languages_are_faster_whispers() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(WHISPER_LANGUAGES) == set(_LANGUAGE_CODES)
    assert len(WHISPER_LANGUAGES) == len(set(WHISPER_LANGUAGES))


def test_whisper_languages_are_openai_whispers() -> None:
    tokenizer = pytest.importorskip("whisper.tokenizer", reason="openai-whisper extra not installed")
    assert set(WHISPER_LANGUAGES) == set(tokenizer.LANGUAGES)


@pytest.mark.parametrize("command", ["render", "transcribe", "batch", "session"])
def test_unknown_language_is_a_short_usage_error(files: dict[str, Path], no_work: None, command: str) -> None:
    args: dict[str, list[str | Path]] = {
        "render": render_args(files),
        "transcribe": ["transcribe", files["clip"], "-o", files["dir"] / "out.srt"],
        "batch": ["batch", files["dir"] / "m.csv", "--out-dir", files["dir"] / "out"],
        "session": ["session", "suggest", files["clip"], "-o", files["dir"] / "draft.csv"],
    }
    result = sossut(*args[command], "--language", "xx")
    line = usage_error(result, "--language")
    assert "unknown language 'xx'" in line and "fi" in line and "auto" in line
    assert "yue" not in line and len(line) < 160  # a hint, not Whisper's hundred codes
    assert untouched(files)


def test_language_suggests_a_near_code(files: dict[str, Path], no_work: None) -> None:
    assert "did you mean fi?" in usage_error(sossut(*render_args(files, "--language", "fin")), "--language")


@pytest.fixture
def languages(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """`render` stops, exit 0, where the work would start; the --language it passed on is listed."""
    seen: list[str | None] = []

    def transcriber_for(settings: object, **options: str | None) -> Callable[[object], None]:
        seen.append(options["language"])
        return _started

    def make_reply(*args: object, **kwargs: object) -> None:
        raise SystemExit(0)  # got past every check

    monkeypatch.setattr("pipeline.cli.render.transcriber_for", transcriber_for)
    monkeypatch.setattr("pipeline.cli.render.make_reply", make_reply)
    return seen


@pytest.mark.parametrize("given", ["fi", "SV", "auto", " en "])
def test_known_languages_pass_the_check(files: dict[str, Path], languages: list[str | None], given: str) -> None:
    result = sossut(*render_args(files, "--language", given))
    assert result.exit_code == 0, result.output
    assert languages == [given.strip().lower()]


def test_checking_the_language_imports_no_speech_engine(files: dict[str, Path]) -> None:
    code = (
        "import sys\n"
        "from pipeline.cli import cli\n"
        "try:\n"
        f"    cli(['render', {str(files['clip'])!r}, '-o', 'o.mp4', '--comment', 'x', '--language', 'xx'])\n"
        "except SystemExit as exit:\n"
        "    print(exit.code, sorted(m for m in ('faster_whisper', 'whisper', 'ctranslate2') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=files["dir"], env=env)
    assert done.stdout.split() == ["2", "[]"], done.stdout + done.stderr


@pytest.mark.parametrize("command", ["render", "demo", "transcribe", "batch", "session"])
def test_unknown_language_in_the_config_is_found_first(files: dict[str, Path], no_work: None, command: str) -> None:
    config = files["dir"] / "oma.toml"
    config.write_text('[transcribe]\nlanguage = "suomi"\n', encoding="utf-8")
    args: dict[str, list[str | Path]] = {
        "render": render_args(files),
        "demo": ["demo", "-o", files["dir"] / "demo.mp4"],
        "transcribe": ["transcribe", files["clip"], "-o", files["dir"] / "out.srt"],
        "batch": ["batch", files["dir"] / "m.csv", "--out-dir", files["dir"] / "out"],
        "session": ["session", "suggest", files["clip"], "-o", files["dir"] / "draft.csv"],
    }
    line = one_error(sossut(*args[command], "--config", config))
    assert "transcribe.language: unknown language 'suomi'" in line and len(line) < 160
    assert sorted(files["dir"].iterdir()) == sorted([files["clip"], files["notes"], config])


@pytest.mark.parametrize("extra", [["--language", "sv"], ["--captions", "none"]])
def test_configured_language_unused_or_replaced_is_no_error(files: dict[str, Path], languages: list[str | None],
                                                             extra: list[str]) -> None:
    config = files["dir"] / "oma.toml"
    config.write_text('[transcribe]\nlanguage = "suomi"\n', encoding="utf-8")
    result = sossut(*render_args(files, "--config", config, *extra))
    assert result.exit_code == 0, result.output


# --- caption formats --------------------------------------------------------------------------


def test_render_captions_of_an_unknown_format(files: dict[str, Path], no_work: None) -> None:
    line = usage_error(sossut(*render_args(files, "--captions", files["notes"])), "--captions")
    assert "notes.txt: unknown caption format" in line and ".json, .srt, .vtt or .ass" in line
    assert not (files["dir"] / "out.mp4").exists()


def test_render_captions_file_missing(files: dict[str, Path], no_work: None) -> None:
    line = usage_error(sossut(*render_args(files, "--captions", files["dir"] / "puuttuu.srt")), "--captions")
    assert "no such caption file" in line and "auto or none" in line


def test_transcribe_output_of_an_unknown_format(files: dict[str, Path], no_work: None) -> None:
    out = files["dir"] / "out.txt"
    line = usage_error(sossut("transcribe", files["clip"], "-o", out), "--output")
    assert "out.txt: unknown caption format" in line and ".json, .srt, .vtt or .ass" in line
    assert not out.exists()


# --- files that must exist --------------------------------------------------------------------


@pytest.mark.parametrize(("option", "command"), [
    ("--avatar", "render"), ("--avatar", "card"), ("--vocabulary", "render"), ("--vocabulary", "transcribe"),
    ("--config", "render"), ("--config", "card"), ("--config", "comments"), ("--transcript", "session"),
    ("--lists", "comments"),
])
def test_missing_file_is_a_usage_error(files: dict[str, Path], no_work: None, option: str, command: str) -> None:
    missing = files["dir"] / "puuttuu.txt"
    args: dict[str, list[str | Path]] = {
        "render": render_args(files),
        "card": ["card", "--comment", "moi", "-o", files["dir"] / "card.png"],
        "transcribe": ["transcribe", files["clip"], "-o", files["dir"] / "out.srt"],
        "comments": ["comments", "check", files["notes"]],
        "session": ["session", "suggest", files["clip"], "-o", files["dir"] / "draft.csv"],
    }
    line = usage_error(sossut(*args[command], option, missing), option)
    assert "puuttuu.txt" in line and "does not exist" in line
    assert untouched(files)


def test_config_that_is_a_folder(files: dict[str, Path], no_work: None) -> None:
    line = usage_error(sossut(*render_args(files, "--config", files["dir"])), "--config")
    assert "is a directory" in line


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_config(files: dict[str, Path], no_work: None) -> None:
    config = files["dir"] / "oma.toml"
    config.write_text("[card]\n", encoding="utf-8")
    config.chmod(0)
    try:
        assert "is not readable" in usage_error(sossut(*render_args(files, "--config", config)), "--config")
    finally:
        config.chmod(0o644)


def test_config_with_a_wrong_key_stays_a_known_error(files: dict[str, Path], no_work: None) -> None:
    config = files["dir"] / "oma.toml"
    config.write_text("[card]\nmax_linez = 3\n", encoding="utf-8")
    assert "card.max_linez" in one_error(sossut(*render_args(files, "--config", config)))


# --- output names and folders -----------------------------------------------------------------


@pytest.mark.parametrize(("args", "needle"), [
    (["render", "{clip}", "-o", "{dir}/out.avi", "--comment", "moi"], "out.avi: the video must end in .mp4"),
    (["card", "--comment", "moi", "-o", "{dir}/card.jpg"], "card.jpg: the card image must end in .png"),
    (["session", "suggest", "{clip}", "-o", "{dir}/draft.txt"], "draft.txt: the draft manifest (CSV) must end in .csv"),
])
def test_output_name_is_a_usage_error(files: dict[str, Path], no_work: None, args: list[str], needle: str) -> None:
    line = usage_error(sossut(*(a.format(**files) for a in args)), "--output")
    assert needle in line
    assert untouched(files)


@pytest.mark.parametrize(("command", "name"), [
    ("render", "out.mp4"), ("demo", "out.mp4"), ("card", "card.png"), ("transcribe", "out.srt"),
    ("session", "draft.csv"),
])
def test_output_folder_that_cannot_be_made_fails_before_any_work(
    files: dict[str, Path], no_work: None, command: str, name: str
) -> None:
    blocker = files["dir"] / "tiedosto"
    blocker.write_text("x", encoding="utf-8")
    out = blocker / "sub" / name
    args: dict[str, list[str | Path]] = {
        "render": ["render", files["clip"], "-o", out, "--comment", "moi"],
        "demo": ["demo", "-o", out],
        "card": ["card", "--comment", "moi", "-o", out],
        "transcribe": ["transcribe", files["clip"], "-o", out],
        "session": ["session", "suggest", files["clip"], "-o", out],
    }
    line = one_error(sossut(*args[command]))
    assert f"cannot create the folder {blocker / 'sub'}: {blocker} is a file" in line
    assert blocker.read_text(encoding="utf-8") == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes everywhere")
def test_read_only_output_folder_fails_before_any_work(files: dict[str, Path], no_work: None) -> None:
    folder = files["dir"] / "lukittu"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        line = one_error(sossut("render", files["clip"], "-o", folder / "new" / "out.mp4", "--comment", "moi"))
        assert f"the folder {folder} is not writable" in line
        assert not list(folder.iterdir())
    finally:
        folder.chmod(0o755)


def test_output_over_the_clip_fails_before_the_probe(files: dict[str, Path], no_work: None) -> None:
    line = one_error(sossut("render", files["clip"], "-o", files["clip"], "--comment", "moi"))
    assert "would overwrite the input clip.mp4" in line
    assert files["clip"].read_text(encoding="utf-8") == "ei video\n"
