#!/usr/bin/env python3
"""Make the CJK font subset that star marks and display sheets are drawn with first.

Characters the subset lacks are drawn from the whole Noto Sans CJK, installed from PyPI with the
generator (see ``generator/glyphs.py`` and ``generator/fonts/README.md``), so the subset needs
remaking only when the source font changes. Run by hand; the result is committed:

    apt-get install fonts-noto-cjk          # only for this script
    .venv/bin/pip install skia-pathops      # only for this script (overlap removal)
    .venv/bin/python scripts/subset_font.py [--root .] [--source-dir /usr/share/fonts/opentype/noto]

It keeps, from Noto Sans CJK SC (SIL Open Font License 1.1) in two weights:
GB 2312 (its 6,763 hanzi and all its symbols), ASCII, Latin-1, general and CJK punctuation,
full-width forms, and every character used in ``certificates/`` and ``registry/`` now.
Outlines only: no hinting, no OpenType layout (marks are drawn glyph by glyph). Overlapping
contours are merged, so that text knocked out of a one-colour panel (an even-odd fill) has no
ink left where two strokes of a glyph cross.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont
from fontTools.ttLib.removeOverlaps import removeOverlaps

SOURCES = {
    # output file name: (collection in fonts-noto-cjk, face name inside it)
    "NotoSansSC-Subset-Regular.otf": ("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    "NotoSansSC-Subset-Bold.otf": ("NotoSansCJK-Bold.ttc", "Noto Sans CJK SC"),
}
RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 (English names and addresses)
    (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
    (0x2030, 0x203B),  # per mille, primes, reference mark
    (0x2116, 0x2116),  # numero sign
    (0x2122, 0x2122),  # trade mark
    (0x2160, 0x216B),  # Roman numerals
    (0x2460, 0x2473),  # circled numbers
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF01, 0xFF5E),  # full-width forms
    (0xFFE0, 0xFFE5),  # full-width signs
)
SCAN_DIRS = ("certificates", "registry")


def gb2312() -> set[str]:
    """Every character of GB 2312: its symbols and its 6,763 hanzi."""
    chars = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def used_characters(root: Path) -> set[str]:
    """Characters in the records and registry settings as they are today."""
    chars: set[str] = set()
    for folder in SCAN_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.suffix in (".yaml", ".yml", ".json"):
                chars.update(path.read_text("utf-8"))
    return {c for c in chars if c.isprintable() and not c.isspace()}


def wanted(root: Path) -> tuple[set[str], set[str]]:
    """Characters that must be in the subset, and those from RANGES that may be."""
    required = gb2312() | used_characters(root)
    optional = {chr(cp) for low, high in RANGES for cp in range(low, high + 1)}
    return required, optional - required


def load_face(path: Path, face: str) -> TTFont:
    for font in TTCollection(str(path)).fonts:
        if font["name"].getDebugName(1) == face:
            return font
    raise SystemExit(f"{path}: no face named {face!r}")


def make_subset(font: TTFont, chars: set[str]) -> tuple[TTFont, set[str]]:
    cmap = font.getBestCmap()
    present = {c for c in chars if ord(c) in cmap}
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.notdef_outline = True
    options.glyph_names = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in present))
    subsetter.subset(font)
    removeOverlaps(font)
    names = font["name"]
    for record in names.names:
        if record.nameID == 5:
            names.setName(
                f"{record.toUnicode()}; subset for starmark",
                5,
                record.platformID,
                record.platEncID,
                record.langID,
            )
    return font, chars - present


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--source-dir", type=Path, default=Path("/usr/share/fonts/opentype/noto"))
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    out_dir = args.out_dir or args.root / "generator" / "fonts"
    out_dir.mkdir(parents=True, exist_ok=True)
    required, optional = wanted(args.root)
    chars = required | optional
    for name, (collection, face) in SOURCES.items():
        source = args.source_dir / collection
        if not source.exists():
            print(f"{source} not found: apt-get install fonts-noto-cjk", file=sys.stderr)
            return 1
        font, missing = make_subset(load_face(source, face), chars)
        target = out_dir / name
        # Keep head.modified from the source font, so the same inputs give the same bytes.
        font.recalcTimestamp = False
        font.save(str(target))
        digest = hashlib.sha256(target.read_bytes()).hexdigest()[:16]
        print(
            f"{target}: {len(font.getBestCmap())} characters, "
            f"{target.stat().st_size / 1e6:.2f} MB, sha256 {digest}"
        )
        missing &= required  # a range may name code points the source font never had
        if missing:
            shown = "".join(sorted(missing))
            print(f"  not in the source font ({len(missing)}): {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
