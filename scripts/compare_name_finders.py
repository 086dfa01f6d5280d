"""Compare finders of people's names on tests/fixtures/privacy: Voikko (what sossut uses) and spaCy.

    python scripts/compare_name_finders.py voikko   # in the project's venv
    python scripts/compare_name_finders.py spacy    # in a venv with spacy-fi-experimental-web-md

Prints recall on the marked names ({nimi:...}), the share of comments without personal data
where a name was found (false positives), and the time per comment. The numbers for issue 11
are in README ("Names and Voikko").
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "privacy"
MARK = re.compile(r"\{([^:{}]+):([^{}]*)\}")
Spans = list[tuple[int, int]]


def read(name: str) -> list[tuple[str, Spans]]:
    out = []
    for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, spans, pos = "", [], 0
        for m in MARK.finditer(line):
            text += line[pos : m.start()]
            if m.group(1) == "nimi":
                spans.append((len(text), len(text) + len(m.group(2))))
            text += m.group(2)
            pos = m.end()
        out.append((text + line[pos:], spans))
    return out


def voikko() -> Callable[[str], Spans]:
    from pipeline.comments.findings import MaskOptions
    from pipeline.comments.names import names

    return lambda text: [(f.start, f.end) for f in names(text, MaskOptions())]


def spacy() -> Callable[[str], Spans]:
    import spacy as sp

    nlp = sp.load("spacy_fi_experimental_web_md")
    return lambda text: [(e.start_char, e.end_char) for e in nlp(text).ents if e.label_ == "PERSON"]


def main(engine: str) -> None:
    find = {"voikko": voikko, "spacy": spacy}[engine]()
    positives, negatives = read("with_personal_data.txt"), read("without_personal_data.txt")
    find("lämmittely")
    started = time.perf_counter()
    hits = total = 0
    for text, spans in positives:
        found = find(text)
        total += len(spans)
        hits += sum(any(a <= s and e <= b for a, b in found) for s, e in spans)
    false = sum(bool(find(text)) for text, _ in negatives)
    took = (time.perf_counter() - started) / (len(positives) + len(negatives))
    print(f"{engine}: names found {hits}/{total} ({hits / total:.0%}); "
          f"false positives {false}/{len(negatives)} ({false / len(negatives):.0%}); {took * 1000:.2f} ms/comment")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "voikko")
