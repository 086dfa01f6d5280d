"""`--mask-captions` and `--keep-personal-data` through the `sossut render` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.conftest import frame_at, make_clip
from tests.media.test_cli import sossut

pytestmark = pytest.mark.media

PHONE = "040 123 4567"
SPOKEN = f"Soita {PHONE}"
MASKED = "Soita [puhelinnumero]"


def srt(text: str) -> str:
    return f"1\n00:00:00,200 --> 00:00:01,800\n{text}\n"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("privacy") / "clip.mp4", size=(320, 240), seconds=2)


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def test_mask_captions_masks_the_burned_and_the_sidecar_captions(clip: Path, tmp_path: Path) -> None:
    spoken, typed = tmp_path / "puhe.srt", tmp_path / "valmiiksi.srt"
    spoken.write_text(srt(SPOKEN), encoding="utf-8")
    typed.write_text(srt(MASKED), encoding="utf-8")  # what the masked captions should look like
    outputs = {}
    for name, captions, extra in [("masked", spoken, ["--mask-captions"]), ("kept", spoken, ["--no-mask-captions"]),
                                  ("default", spoken, []), ("typed", typed, [])]:
        out = tmp_path / f"{name}.mp4"
        result = sossut("render", str(clip), "-o", str(out), "--comment", "moi", "--captions", str(captions),
                        "--sidecar", *extra)
        assert result.returncode == 0, result.stderr
        assert PHONE not in result.stderr  # warnings name kinds and positions, never values
        outputs[name] = (out, out.with_suffix(".srt").read_text(encoding="utf-8"), warnings(result.stderr))

    _, masked_srt, masked_warnings = outputs["masked"]
    assert MASKED in masked_srt and PHONE not in masked_srt
    assert masked_warnings == ["warning: personal data spoken in the captions (masked): 0.2s: phone number at 6-18"]
    for name in ("kept", "default"):  # config privacy.mask_captions is off by default
        _, text, said = outputs[name]
        assert SPOKEN in text
        assert said == ["warning: personal data spoken in the captions (not masked): 0.2s: phone number at 6-18"]
    assert outputs["typed"][2] == []

    # Burned in: the masked render shows the typed placeholder, not the number.
    frames = {name: frame_at(out, 1.0).astype(np.int16) for name, (out, _, _) in outputs.items()}
    assert np.abs(frames["masked"] - frames["typed"]).mean() < 0.4
    assert np.abs(frames["masked"] - frames["kept"]).mean() > 0.6
    assert np.abs(frames["kept"] - frames["default"]).mean() < 0.4


def test_keep_personal_data_keeps_the_number_on_the_card(clip: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.card

    drawn: list[str] = []
    real_write_card = pipeline.card.write_card

    def write_card(content: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append(content.text)
        return real_write_card(content, *args, **kwargs)

    monkeypatch.setattr("pipeline.card.write_card", write_card)
    comment = f"Mun numero on {PHONE}, soita"
    said = {}
    for name, extra in [("masked", []), ("kept", ["--keep-personal-data"])]:
        out = tmp_path / f"{name}.mp4"
        result = CliRunner().invoke(cli, ["render", str(clip), "-o", str(out), "--comment", comment,
                                          "--captions", "none", *extra])
        assert result.exit_code == 0, result.output
        assert out.is_file() and PHONE not in result.stderr
        said[name] = warnings(result.stderr)

    assert drawn == ["Mun numero on [puhelinnumero], soita", comment]
    assert said["masked"] == ["warning: personal data in the comment masked on the card: phone number at 14-26"]
    assert said["kept"] == ["warning: personal data in the comment kept (--keep-personal-data): phone number at 14-26"]
