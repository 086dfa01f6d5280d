"""Finnish hyphenation for caption words too long for one line.

Takes one word, gives back the places a hyphen may go (`hyphen_points`) or the word with every
syllable break marked (`hyphenate("lastensuojeluilmoitus") == "las-ten-suo-je-lu-il-moi-tus"`).

The rules are Finnish spelling's own (Kielitoimiston ohjepankki, "Tavutus"):

1. A break goes before a consonant that is followed by a vowel: *ta-lo*, *kis-sa*, *las-ten*.
   Consonants before the first vowel stay together (*strate-gi-a*, not *s-tra*).
2. Two vowels side by side are split unless they are a long vowel (*aa*, *ää*, ...) or a
   diphthong (*ai ei oi ui yi äi öi au eu iu ou ey iy äy öy ie uo yö*): *ra-di-o*, *lau-an-tai*.
   *ie uo yö* are, strictly, diphthongs only in a word's first syllable; in compounds the
   "first syllable" is that of each part (*lasten|suo|je|lu*), which plain rules cannot see, so
   they are always kept together here.
3. Rules cannot see compound seams either: in *suojelu|ilmoitus* the *ui* looks like a
   diphthong. `_COMPOUND_HEADS` lists a few common vowel-initial compound parts; a seam before
   one of them is a break (*lu-il-moi-tus*). The list is deliberately short and specific so it
   does not split real diphthongs (*seitsemän* stays *seit-se-män*).
4. No piece keeps fewer than two letters at the start or end of the word (*o-ma* -> *oma*).

Letters other than Finnish vowels count as consonants; digits and punctuation are neither, so a
break never goes next to them. An existing hyphen (*EU-maa*) is handled by the caller.
"""

from __future__ import annotations

VOWELS = frozenset("aeiouyäöå")
_LONG_OR_DIPHTHONG = frozenset(
    {v + v for v in "aeiouyäöå"}
    | {"ai", "ei", "oi", "ui", "yi", "äi", "öi", "au", "eu", "iu", "ou", "ey", "iy", "äy", "öy"}
    | {"ie", "uo", "yö"}
)
# Vowel-initial words that often start the second part of a compound. Only used between two
# vowels that would otherwise stay together; keep entries long enough to be unambiguous.
_COMPOUND_HEADS: tuple[str, ...] = (
    "ilmoi", "ihmis", "ikäis", "opett", "opiske", "oikeu", "asiak", "asia", "alue", "aikui",
    "avioe", "elämä", "esity", "etuu", "ehdot", "yhtei", "ystäv", "äiti", "ohjaa", "ohjelm",
    "osast", "osallis", "ympäri", "uutis", "asuin", "asunn", "autta", "arvio", "omais",
)
MIN_PIECE_LETTERS = 2


def hyphen_points(word: str) -> list[int]:
    """Indexes `i` such that `word[:i] + "-"` / `word[i:]` is a correct Finnish break.

    Args:
        word: one word, any case, punctuation allowed ("Lastensuojeluilmoitus,").

    Returns:
        Sorted indexes into `word`, each leaving at least two letters on either side.
    """
    low = word.lower()
    points: list[int] = []
    run_start = 0
    while run_start < len(low):
        if not low[run_start].isalpha():
            run_start += 1
            continue
        run_end = run_start
        while run_end < len(low) and low[run_end].isalpha():
            run_end += 1
        points.extend(_run_points(low, run_start, run_end))
        run_start = run_end
    letters_before = _letter_prefix_counts(word)
    total = letters_before[-1]
    return [
        p for p in points
        if letters_before[p] >= MIN_PIECE_LETTERS and total - letters_before[p] >= MIN_PIECE_LETTERS
    ]


def hyphenate(word: str, hyphen: str = "-") -> str:
    """The word with `hyphen` at every syllable break: "sijaishuoltopaikkaan" -> "si-jais-huol-to-paik-kaan"."""
    out: list[str] = []
    last = 0
    for p in hyphen_points(word):
        out.append(word[last:p])
        last = p
    out.append(word[last:])
    return hyphen.join(out)


def _run_points(w: str, start: int, end: int) -> list[int]:
    """Syllable breaks inside the all-letter run `w[start:end]`."""
    points: list[int] = []
    vowel_since_break = False
    i = start
    while i < end:
        c = w[i]
        if c in VOWELS:
            j = i
            while j < end and w[j] in VOWELS:
                j += 1
            points.extend(_vowel_run_points(w, start, i, j))
            vowel_since_break = True
            i = j
            continue
        # Rule 1: before a consonant followed by a vowel, once this syllable has its vowel.
        if vowel_since_break and i + 1 < end and w[i + 1] in VOWELS:
            points.append(i)
        i += 1
    return points


def _vowel_run_points(w: str, word_start: int, i: int, j: int) -> list[int]:
    """Breaks inside the vowel run `w[i:j]` (rule 2 and the compound seams of rule 3)."""
    points: list[int] = []
    pos = i
    while pos < j - 1:
        seam = pos + 1 - word_start >= MIN_PIECE_LETTERS and w.startswith(_COMPOUND_HEADS, pos + 1)
        long_next = pos + 2 < j and w[pos + 1] == w[pos + 2]  # "a-uu", not "au-u": a long vowel wins
        if w[pos : pos + 2] in _LONG_OR_DIPHTHONG and not seam and not (long_next and w[pos] != w[pos + 1]):
            pos += 2  # the pair is one syllable nucleus
            if pos < j:
                points.append(pos)
        else:
            points.append(pos + 1)
            pos += 1
    return points


def _letter_prefix_counts(word: str) -> list[int]:
    counts = [0]
    for ch in word:
        counts.append(counts[-1] + (1 if ch.isalpha() else 0))
    return counts
