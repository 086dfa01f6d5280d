"""`Transcript.between(start, end)`: the speech of one span of a long recording, on its own clock.

A word belongs to the span when its middle is in [start, end); its times are clamped to the span.
Times here are binary fractions (0.25, 0.5, ...) so that the arithmetic is exact.
"""

from __future__ import annotations

from pipeline.types import Segment, Transcript, Word


def recording(*segments: tuple[Word, ...]) -> Transcript:
    return Transcript(
        language="fi",
        duration=10.0,
        segments=tuple(Segment(ws[0].start, ws[-1].end, " ".join(w.word for w in ws), ws) for ws in segments),
        model="base",
        engine="faster-whisper",
    )


def words(transcript: Transcript) -> list[tuple[str, float, float]]:
    return [(w.word, w.start, w.end) for w in transcript.words]


def test_a_word_straddling_the_start_goes_where_its_middle_is() -> None:
    talk = recording((
        Word("Moi,", 1.5, 1.75),  # wholly before the span
        Word("no", 1.75, 2.125),  # straddles 2.0, middle 1.9375: before
        Word("lähdetään", 1.75, 2.5),  # straddles 2.0, middle 2.125: inside, start clamped to 0
        Word("äänestämään", 2.5, 3.0),
    ))
    assert words(talk.between(2.0, 4.0)) == [("lähdetään", 0.0, 0.5), ("äänestämään", 0.5, 1.0)]


def test_a_word_straddling_the_end_goes_where_its_middle_is() -> None:
    talk = recording((
        Word("sijaisperhe", 3.0, 3.5),
        Word("löytyi", 3.5, 4.25),  # straddles 4.0, middle 3.875: inside, end clamped to the span
        Word("öisin", 3.75, 4.75),  # straddles 4.0, middle 4.25: after
    ))
    assert words(talk.between(2.0, 4.0)) == [("sijaisperhe", 1.0, 1.5), ("löytyi", 1.5, 2.0)]


def test_words_exactly_at_the_boundaries() -> None:
    talk = recording((
        Word("ensin", 1.5, 2.0),  # ends exactly at the start: out
        Word("nyt", 2.0, 2.5),  # starts exactly at the start: in, at 0
        Word("heti", 3.5, 4.0),  # ends exactly at the end: in, ends at the span's length
        Word("å", 4.0, 4.5),  # starts exactly at the end: out
    ))
    part = talk.between(2.0, 4.0)
    assert words(part) == [("nyt", 0.0, 0.5), ("heti", 1.5, 2.0)]
    assert part.duration == 2.0


def test_a_middle_exactly_on_a_cut_belongs_to_the_later_span() -> None:
    talk = recording((Word("huostaanotto,", 1.5, 2.5), Word("kyllä", 2.5, 3.0)))  # middle 2.0
    assert words(talk.between(0.0, 2.0)) == []
    assert words(talk.between(2.0, 4.0)) == [("huostaanotto,", 0.0, 0.5), ("kyllä", 0.5, 1.0)]


def test_spans_that_meet_share_no_word_and_lose_none() -> None:
    talk = recording(
        tuple(Word(f"sana{i}", i * 0.25, i * 0.25 + 0.5) for i in range(0, 20, 2)),
        tuple(Word(f"toinen{i}", 5.0 + i * 0.25, 5.25 + i * 0.25) for i in range(8)),
    )
    cuts = [0.0, 0.75, 2.0, 2.125, 5.0, 5.5, 10.0]
    parts = [talk.between(a, b) for a, b in zip(cuts, cuts[1:], strict=False)]
    assert [w.word for p in parts for w in p.words] == [w.word for w in talk.words]


def test_an_empty_span_has_no_speech() -> None:
    talk = recording((Word("Hei", 1.0, 1.5), Word("kaikki", 1.5, 2.0)))
    for start, end in ((1.25, 1.25), (1.0, 1.0), (2.0, 1.0)):
        part = talk.between(start, end)
        assert part.segments == ()
        assert part.duration == 0.0
    silence = talk.between(5.0, 7.5)  # a span with no words in it
    assert silence.segments == () and silence.duration == 2.5


def test_segments_are_rebuilt_from_the_kept_words() -> None:
    talk = recording(
        (Word("Voiko", 0.5, 1.0, 0.75), Word("ilmoituksen", 1.0, 2.0, 0.5), Word("tehdä", 2.0, 2.5)),
        (Word("nimettömänä?", 3.0, 4.0, 0.25), Word("Voi.", 6.0, 6.5)),
    )
    part = talk.between(1.0, 5.0)
    assert (part.language, part.model, part.engine, part.duration) == ("fi", "base", "faster-whisper", 4.0)
    assert [(s.start, s.end, s.text) for s in part.segments] == [
        (0.0, 1.5, "ilmoituksen tehdä"),
        (2.0, 3.0, "nimettömänä?"),
    ]
    assert [w.probability for w in part.words] == [0.5, 1.0, 0.25]
