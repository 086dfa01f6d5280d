"""Which characters a font has: a TrueType/OpenType file -> the code points its best Unicode
`cmap` subtable maps to a real glyph (not .notdef, glyph 0).

Reads the `cmap` table with `struct` (formats 12 and 4, the ones fonts use for Unicode), in a few
milliseconds; fontTools, which reads any font but costs a card ~0.1 s (its import and a
per-glyph name table), is imported only for a font whose cmap is in another format. The same
subtable is chosen as fontTools' `getBestCmap` chooses. The spec:
https://learn.microsoft.com/en-us/typography/opentype/spec/cmap
"""

from __future__ import annotations

import struct
from pathlib import Path

# (platform, encoding) in fontTools' getBestCmap order: full Unicode first, then the BMP.
_PREFERENCE = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))


def font_coverage(path: Path) -> frozenset[int]:
    """Code points the font at `path` maps to a glyph other than .notdef."""
    table = _table(path, b"cmap")
    if table is not None:
        count = struct.unpack_from(">H", table, 2)[0]
        records: dict[tuple[int, int], int] = {}
        for i in range(count):
            platform, encoding, offset = struct.unpack_from(">HHI", table, 4 + 8 * i)
            records.setdefault((platform, encoding), offset)
        for key in _PREFERENCE:
            if key in records:
                points = _subtable(table, records[key])
                if points is not None:
                    return points
                break  # a format we do not read: let fontTools choose
    return _with_fonttools(path)


def _table(path: Path, tag: bytes) -> bytes | None:
    """The bytes of table `tag` of a TrueType/OpenType file (not a collection), read alone (the
    emoji font is 11 MB)."""
    with path.open("rb") as font:
        header = font.read(12)
        if len(header) < 12 or header[:4] not in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
            return None
        count = struct.unpack_from(">H", header, 4)[0]
        directory = font.read(16 * count)
        for i in range(min(count, len(directory) // 16)):
            name, _, offset, length = struct.unpack_from(">4sIII", directory, 16 * i)
            if name == tag:
                font.seek(offset)
                return font.read(length)
    return None


def _subtable(table: bytes, offset: int) -> frozenset[int] | None:
    fmt = struct.unpack_from(">H", table, offset)[0]
    if fmt == 12:
        groups = struct.unpack_from(">I", table, offset + 12)[0]
        points: set[int] = set()
        for i in range(groups):
            start, end, glyph = struct.unpack_from(">III", table, offset + 16 + 12 * i)
            # glyph 0 can only start a group: the rest of it maps to real glyphs
            points.update(range(start + (glyph == 0), end + 1))
        return frozenset(points)
    if fmt == 4:
        segments = struct.unpack_from(">H", table, offset + 6)[0] // 2
        ends_at = offset + 14
        starts_at = ends_at + 2 * segments + 2  # past reservedPad
        deltas_at = starts_at + 2 * segments
        ranges_at = deltas_at + 2 * segments
        ends = struct.unpack_from(f">{segments}H", table, ends_at)
        starts = struct.unpack_from(f">{segments}H", table, starts_at)
        deltas = struct.unpack_from(f">{segments}h", table, deltas_at)
        range_offsets = struct.unpack_from(f">{segments}H", table, ranges_at)
        points = set()
        for i, (start, end, delta, range_offset) in enumerate(zip(starts, ends, deltas, range_offsets)):
            if start == 0xFFFF:
                continue
            for code in range(start, end + 1):
                if range_offset == 0:
                    glyph = (code + delta) & 0xFFFF
                else:
                    at = ranges_at + 2 * i + range_offset + 2 * (code - start)
                    glyph = struct.unpack_from(">H", table, at)[0]
                    glyph = (glyph + delta) & 0xFFFF if glyph else 0
                if glyph:
                    points.add(code)
        return frozenset(points)
    return None


def _with_fonttools(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(c for c, glyph in (font.getBestCmap() or {}).items() if font.getGlyphID(glyph) != 0)
