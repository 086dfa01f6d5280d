"""Start-up shortcuts stay exact: the font coverage read with `struct` is fontTools' own, and the
folder APIs imported on first use give the same objects as their modules."""

from __future__ import annotations

import importlib
import pkgutil
import types
from pathlib import Path

import pytest

from pipeline.config import FONTS_DIR

FOLDERS = ("video", "speech", "captions", "card", "comments", "batch", "cli")


@pytest.mark.parametrize("font", sorted(p.name for p in FONTS_DIR.glob("*.ttf")))
def test_font_coverage_is_what_fonttools_reads(font: str) -> None:
    from fontTools.ttLib import TTFont

    from pipeline.card.coverage import font_coverage

    with TTFont(FONTS_DIR / font, lazy=True) as tt:
        expected = frozenset(c for c, g in (tt.getBestCmap() or {}).items() if tt.getGlyphID(g) != 0)
    assert font_coverage(FONTS_DIR / font) == expected
    assert ord("ä") in font_coverage(FONTS_DIR / "NotoSans-Bold.ttf")


def test_a_file_that_is_not_a_font_falls_back_to_fonttools(tmp_path: Path) -> None:
    from fontTools.ttLib import TTLibError

    from pipeline.card.coverage import font_coverage

    bogus = tmp_path / "x.ttf"
    bogus.write_bytes(b"not a font at all")
    with pytest.raises(TTLibError):  # fontTools' own error, as before
        font_coverage(bogus)


@pytest.mark.parametrize("folder", FOLDERS)
def test_public_names_are_the_modules_objects_even_after_every_submodule_is_loaded(folder: str) -> None:
    """`pipeline.video.render` is a function and a submodule: the name must stay the function."""
    package = importlib.import_module(f"pipeline.{folder}")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"pipeline.{folder}.{info.name}")
    for name in package.__all__:
        value = getattr(package, name)
        assert not isinstance(value, types.ModuleType), f"pipeline.{folder}.{name} is a module"


def test_unknown_name_of_a_lazy_folder_is_an_attribute_error() -> None:
    import pipeline.video

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        pipeline.video.nothing_here  # noqa: B018


def test_a_lazy_folder_without_its_source_still_finds_its_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A frozen app may ship no .py: the names are then found by importing the folder's modules."""
    from pipeline.lazy import lazy_api

    module = types.ModuleType("pipeline.card")
    module.__file__ = "/nonexistent/__init__.py"
    module.__path__ = importlib.import_module("pipeline.card").__path__  # type: ignore[attr-defined]
    module.__all__ = ["write_card"]  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "pipeline.card", module)
    from pipeline.card.draw import write_card

    assert lazy_api("pipeline.card")("write_card") is write_card
