"""Config: defaults are the schema; user files may only override known keys with the right types."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from pipeline import config
from pipeline.config import DEFAULT_CONFIG, load_settings
from pipeline.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "user.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_toml_and_dataclasses_have_the_same_keys() -> None:
    data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    settings = load_settings()
    assert set(data) == {f.name for f in dataclasses.fields(settings)}
    for section, values in data.items():
        fields = {f.name for f in dataclasses.fields(getattr(settings, section))}
        assert set(values) == fields, section


def test_user_file_overrides_only_its_keys(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[card]\nmax_lines = 2\n[audio]\nloudness = -16\n"))
    assert settings.card.max_lines == 2
    assert settings.audio.loudness == -16.0 and isinstance(settings.audio.loudness, float)
    assert settings.card.width == load_settings().card.width


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[card]\nwidht = 3\n", "card.widht"),
        ("[cards]\nwidth = 3\n", "[cards]"),
        ('[card]\nwidth = "big"\n', "card.width must be an integer"),
        ("[audio]\nnormalize = 1\n", "audio.normalize must be true/false"),
        ('[reframe]\nmode = "zoom"\n', "reframe.mode must be one of"),
        ('[reframe]\nblur_style = "sharp"\n', "reframe.blur_style must be one of"),
        ('[card]\nbackground = "white"\n', "card.background must be a colour"),
        ("[card]\nmax_lines = 0\n", "card.max_lines must be greater than 0"),
        ("[safe_zone]\ntop = 1000\nbottom = 1000\n", "safe_zone"),
        ("card = 3\n", "[card] must be a table"),
        ('[captions]\nfont = "Noto Sans,Bold"\n', "captions.font must be a plain font family name"),
        ("[card\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(write(tmp_path, text))
    assert needle in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_with_values_is_checked() -> None:
    settings = load_settings()
    assert settings.with_values(reframe={"mode": "fit"}).reframe.mode == "fit"
    assert settings.reframe.mode == "blur"  # frozen original unchanged
    with pytest.raises(ConfigError):
        settings.with_values(reframe={"mode": "zoom"})


def test_project_paths_exist() -> None:
    assert (config.FONTS_DIR / "NotoSans-Bold.ttf").is_file()
    assert (config.FONTS_DIR / "NotoColorEmoji.ttf").is_file()
