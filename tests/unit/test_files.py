"""Shared file plumbing: atomic writes, stale partials, text decoding, CSV delimiters, containment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import InputError, OutputError
from pipeline.files import (
    atomic_path,
    atomic_write,
    csv_delimiter,
    decode_text,
    is_inside,
    output_mode,
    read_text_file,
    remove_stale_partials,
)


def test_atomic_write_replaces_whole_file_with_usual_mode(tmp_path: Path) -> None:
    target = tmp_path / "raportti.csv"
    target.write_text("vanha")
    atomic_write(target, "uusi;ä\r\n", encoding="utf-8-sig")
    assert target.read_bytes() == b"\xef\xbb\xbfuusi;\xc3\xa4\r\n"  # no newline translation
    assert target.stat().st_mode & 0o777 == output_mode()
    assert [p.name for p in tmp_path.iterdir()] == ["raportti.csv"]


def test_atomic_path_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "video.mp4"
    target.write_bytes(b"valmis")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"puoliksi")
        assert tmp.name.startswith(f".video.{os.getpid()}.") and tmp.name.endswith(".partial.mp4")
        raise RuntimeError("ffmpeg died")
    assert target.read_bytes() == b"valmis"
    assert [p.name for p in tmp_path.iterdir()] == ["video.mp4"]


def test_atomic_path_keeps_an_interrupt_an_interrupt(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "a.png"):
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_into_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"), atomic_path(tmp_path / "ei" / "a.png"):
        pass


def test_atomic_write_private_mode(tmp_path: Path) -> None:
    atomic_write(tmp_path / "t.json", "{}", mode=0o600)
    assert (tmp_path / "t.json").stat().st_mode & 0o777 == 0o600


def test_stale_partials_of_dead_processes_are_removed_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = tmp_path / f".out.{dead_pid}.abc123.partial.mp4"
        running = tmp_path / f".out.{live.pid}.def456.partial.mp4"
        other = tmp_path / f".muu.{dead_pid}.abc123.partial.mp4"  # another output's
        for p in (stale, running, other):
            p.write_bytes(b"x")
        assert remove_stale_partials(tmp_path / "out.mp4") == [stale]
        assert not stale.exists() and running.exists() and other.exists()
    finally:
        live.kill()
        live.wait()


def test_stale_partials_with_glob_characters_in_the_name(tmp_path: Path) -> None:
    stale = tmp_path / ".vastaus [1].999999999.x.partial.mp4"
    stale.write_bytes(b"x")
    assert remove_stale_partials(tmp_path / "vastaus [1].mp4") == [stale]


@pytest.mark.parametrize(("data", "text", "encoding"), [
    ("kysymys ä\n".encode(), "kysymys ä\n", "UTF-8"),
    ("\ufeffkysymys ä\n".encode(), "kysymys ä\n", "UTF-8"),
    ("kysymys ä\n".encode("utf-16"), "kysymys ä\n", "UTF-16"),
    ("kysymys ä €\n".encode("cp1252"), "kysymys ä €\n", "Windows-1252"),
])
def test_decode_text_as_people_save_it(data: bytes, text: str, encoding: str) -> None:
    assert decode_text(data) == (text, encoding)


def test_binary_is_not_text(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a text file"):
        decode_text(b"\x00\x01PNG", "kuva.png")
    with pytest.raises(InputError, match="not UTF-8"):
        decode_text(b"\x81\x8d\x8f\x90", "outo.txt")  # bytes cp1252 leaves undefined


def test_read_text_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="manifest not found"):
        read_text_file(tmp_path / "ei.csv", "manifest")
    with pytest.raises(InputError, match="is a folder"):
        read_text_file(tmp_path, "manifest")


@pytest.mark.parametrize(("text", "delimiter"), [
    ("clip;comment;user\n", ";"),
    ("clip,comment,user\n", ","),
    ("clip\tcomment\n", "\t"),
    ("\n\nclip;comment\n", ";"),
    ('"a, b";c\n', ";"),  # the comma is inside quotes
    ("comment\n", ","),  # one column
    ("a;b,c\n", ";"),  # a tie: Finnish Excel's semicolon
])
def test_csv_delimiter(text: str, delimiter: str) -> None:
    assert csv_delimiter(text) == delimiter


def test_is_inside_resolves_links_and_dots(tmp_path: Path) -> None:
    root = tmp_path / "studio"
    (root / "jobs").mkdir(parents=True)
    (root / "ulos").symlink_to(tmp_path, target_is_directory=True)
    assert is_inside(root / "jobs" / "a.mp4", root)
    assert not is_inside(root / ".." / "a.mp4", root)
    assert not is_inside(root / "ulos" / "a.mp4", root)
    assert not is_inside(tmp_path / "studio-2" / "a.mp4", root)  # a prefix is not a parent
