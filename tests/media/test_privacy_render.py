"""Private by default: a rendered reply carries no commenter name and no personal data, nor do the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PIL import Image

from pipeline.config import load_settings
from pipeline.reply import ReplyJob, make_reply, protect_comment
from pipeline.types import Comment
from pipeline.video.plan import card_content
from tests.conftest import make_clip

SETTINGS = load_settings()
SECRET_NAME = "Liisa_Virtanen_2011"
PHONE = "040 123 4567"
HETU = "131052-308T"
EMAIL = "liisa.v@example.com"
COMMENT = Comment(f"Mun numero on {PHONE}, hetu {HETU} ja maili {EMAIL}. Auttakaa", SECRET_NAME)


def test_card_without_show_user_has_no_trace_of_the_name() -> None:
    cleaned, warnings = protect_comment(COMMENT, SETTINGS)
    content = card_content(cleaned, SETTINGS)
    assert SECRET_NAME not in repr(content) and "Liisa" not in repr(content)
    assert content.header == SETTINGS.card.anonymous_header and content.avatar is None
    for value in (PHONE, HETU, EMAIL):
        assert value not in content.text
        assert all(value not in w for w in warnings)
    assert "[puhelinnumero]" in content.text and "[henkilötunnus]" in content.text


def test_show_user_is_an_explicit_choice_and_names_are_cleaned() -> None:
    sneaky = Comment("moi", "\u202eanilam\u200b")  # bidi override + zero-width space
    cleaned, _ = protect_comment(sneaky, SETTINGS)
    content = card_content(cleaned, SETTINGS, show_user=True)
    assert "\u202e" not in content.header and "\u200b" not in content.header
    assert "anilam" in content.header


def test_keep_personal_data_is_explicit() -> None:
    kept, warnings = protect_comment(COMMENT, SETTINGS, keep_personal_data=True)
    assert PHONE in kept.text
    assert any("kept" in w for w in warnings) and all(PHONE not in w for w in warnings)


@pytest.mark.media
def test_rendered_reply_and_logs_hold_no_personal_data(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clip = make_clip(tmp_path / "c.mp4", size=(320, 240), seconds=1)
    caplog.set_level(logging.DEBUG)
    result = make_reply(ReplyJob(clip, COMMENT, tmp_path / "o.mp4"), SETTINGS)
    assert result.card is not None and result.card.header == SETTINGS.card.anonymous_header
    logged = caplog.text + "\n".join(result.warnings)
    for value in (PHONE, HETU, EMAIL, SECRET_NAME):
        assert value not in logged
    assert any("masked" in w for w in result.warnings)
    data = (tmp_path / "o.mp4").read_bytes()
    assert SECRET_NAME.encode() not in data and PHONE.encode() not in data


def test_card_png_carries_no_text_metadata(tmp_path: Path) -> None:
    from pipeline.card.draw import write_card

    cleaned, _ = protect_comment(COMMENT, SETTINGS)
    card = write_card(card_content(cleaned, SETTINGS), SETTINGS.card, tmp_path / "card.png")
    with Image.open(card.path) as image:
        assert not any(SECRET_NAME in str(v) for v in image.info.values())
    assert SECRET_NAME.encode() not in card.path.read_bytes()
