"""The fonts star marks and display sheets are drawn with, and which characters they can draw.

Every text is set in Noto Sans CJK SC (SIL Open Font License 1.1), regular and bold, from two
files:

* the subset committed in ``generator/fonts/`` (GB 2312, Latin-1, punctuation, and every
  character the sample records used when it was made): almost every text is drawn from it, the
  same bytes on every machine;
* the whole font, for every other character: the variable Noto Sans CJK collection of the PyPI
  package :data:`FULL_PACKAGE` (a dependency, installed with the generator), read at the weights
  of the subset. Its SC face maps 44,810 characters: every hanzi of the 通用规范汉字表, CJK
  Ext. A, 2,108 characters of Ext. B (𠮷 among them), kana, hangul, Greek and Cyrillic. It is
  opened only when a text needs a character that the subset lacks. Its outlines are merged
  (overlaps removed) when drawn, as the subset's were when it was made, so that text knocked out
  of a panel (an even-odd fill) has no ink left where two strokes cross.

A character that neither has is a problem at ``path:line`` naming it and what to do
(:func:`problem`); ``starmark validate``, the build and the commands that write records report it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import re
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import source
from .errors import Problem
from .output import read_cache, write_cache

if TYPE_CHECKING:
    import skia
    from fontTools.ttLib import TTFont

# Skia and fontTools are imported where a font is opened or a glyph drawn: a build or a check
# whose every character is already known to be drawable (:func:`remember_drawable`) needs
# neither (0.3 s with opening the fonts).

FONT_NAME = "Noto Sans CJK SC"
FONT_DIR = Path(__file__).parent / "fonts"
# weight → (file of the committed subset, wght of the whole variable font that matches it)
WEIGHTS = {
    "regular": ("NotoSansSC-Subset-Regular.otf", 400),
    "bold": ("NotoSansSC-Subset-Bold.otf", 700),
}
FULL_PACKAGE = "manimgx-fonts-cjk"  # PyPI distribution (pinned in pyproject.toml)
FULL_MODULE = "manimgx_fonts_cjk"
FULL_FILE = "NotoSansCJK-VF.otf.ttc"
FULL_PREFIX = "full:"  # glyph names of the whole font, kept apart from the subset's
README = "generator/fonts/README.md"
INSTALL = "`.venv/bin/pip install -e .` (make site and make test do it)"

# Record fields drawn on the mark and the display sheet (marks.MarkInfo.texts gives the same
# keys, with the texts that come from registry/: a test keeps the two in step).
DRAWN_FIELDS = (
    "number",
    "organization.name",
    "organization.name_en",
    "scope.zh",
    "scope.en",
    "standard",
)


def full_font_path() -> Path | None:
    """Where the whole font is installed, or None (found without importing the package)."""
    spec = importlib.util.find_spec(FULL_MODULE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / FULL_FILE
        if path.is_file():
            return path
    return None


def full_font_identity() -> str:
    """What names the whole font's bytes: its package and version (hashing 33 MB per build
    would cost more than every other key part together), or "absent"."""
    if full_font_path() is None:
        return "absent"
    try:
        return f"{FULL_PACKAGE}=={metadata.version(FULL_PACKAGE)}"
    except metadata.PackageNotFoundError:
        return f"{FULL_PACKAGE} (no metadata)"


class FullFont:
    """The SC face of the whole variable font: its character map and outlines at one weight."""

    def __init__(self, path: Path, wght: int, upm: float) -> None:
        face = _sc_face(path)
        self.cmap: dict[int, str] = face.getBestCmap()
        notdef = face.getGlyphOrder()[0]
        # A character mapped to .notdef would be drawn as a box: it counts as missing.
        self.cmap = {cp: name for cp, name in self.cmap.items() if name != notdef}
        self.scale = upm / face["head"].unitsPerEm
        self._glyphs = face.getGlyphSet(location={"wght": wght})

    def advance(self, name: str) -> float:
        """Advance width in the subset's units."""
        return float(self._glyphs[name].width) * self.scale

    def draw(self, name: str, pen: Any) -> None:
        """Draw the glyph into ``pen``, overlaps removed, in the subset's units."""
        import skia
        from fontTools.pens.recordingPen import RecordingPen

        recorded = RecordingPen()
        self._glyphs[name].draw(recorded)
        path = skia.Path()
        s = self.scale
        for op, points in recorded.value:
            pts = [(x * s, y * s) for x, y in points]
            if op == "moveTo":
                path.moveTo(*pts[0])
            elif op == "lineTo":
                path.lineTo(*pts[0])
            elif op == "curveTo":
                path.cubicTo(*pts[0], *pts[1], *pts[2])
            elif op == "qCurveTo":  # CFF has none; a TrueType-flavoured release would
                for (x1, y1), (x2, y2) in _quads(pts, path):
                    path.quadTo(x1, y1, x2, y2)
            elif op in ("closePath", "endPath"):
                path.close()
        _replay(skia.AsWinding(skia.Simplify(path)), pen)


def _sc_face(path: Path) -> TTFont:
    from fontTools.ttLib import TTCollection

    for font in TTCollection(str(path), lazy=True).fonts:
        if font["name"].getDebugName(1) == FONT_NAME:
            return font
    raise OSError(f"{path}: no face named {FONT_NAME!r}")


def _quads(pts: list[tuple[float, float]], path: skia.Path) -> Iterator[tuple[Any, Any]]:
    """A TrueType quadratic run (implied on-curve points between off-curve ones) as quads."""
    *offs, end = pts
    for i, off in enumerate(offs):
        if i + 1 < len(offs):
            nxt = offs[i + 1]
            yield off, ((off[0] + nxt[0]) / 2, (off[1] + nxt[1]) / 2)
        else:
            yield off, end


def _replay(path: skia.Path, pen: Any) -> None:
    """Draw a Skia path into a fontTools pen."""
    import skia

    it = skia.Path.Iter(path, False)
    open_contour = False
    while True:
        verb, pts = it.next()
        if verb == skia.Path.Verb.kDone_Verb:
            break
        if verb == skia.Path.Verb.kMove_Verb:
            if open_contour:
                pen.closePath()
            pen.moveTo((pts[0].x(), pts[0].y()))
            open_contour = True
        elif verb == skia.Path.Verb.kLine_Verb:
            pen.lineTo((pts[1].x(), pts[1].y()))
        elif verb == skia.Path.Verb.kQuad_Verb:
            pen.qCurveTo((pts[1].x(), pts[1].y()), (pts[2].x(), pts[2].y()))
        elif verb == skia.Path.Verb.kConic_Verb:
            quads = skia.Path.ConvertConicToQuads(pts[0], pts[1], pts[2], it.conicWeight(), 2)
            for i in range(1, len(quads) - 1, 2):
                pen.qCurveTo((quads[i].x(), quads[i].y()), (quads[i + 1].x(), quads[i + 1].y()))
        elif verb == skia.Path.Verb.kCubic_Verb:
            pen.curveTo(*((p.x(), p.y()) for p in pts[1:4]))
        elif verb == skia.Path.Verb.kClose_Verb:
            pen.closePath()
            open_contour = False
    if open_contour:
        pen.closePath()


_full_lock = threading.Lock()
_full: dict[str, FullFont | None] = {}


def full_font(weight: str, upm: float) -> FullFont | None:
    """The whole font at ``weight`` (opened once per process), or None when not installed."""
    with _full_lock:
        if weight not in _full:
            path = full_font_path()
            _full[weight] = FullFont(path, WEIGHTS[weight][1], upm) if path else None
        return _full[weight]


class _Cmap(Mapping[int, str]):
    """The subset's character map, then the whole font's (opened at the first miss)."""

    def __init__(self, fonts: Fonts) -> None:
        self._fonts = fonts

    def __getitem__(self, cp: int) -> str:
        name = self._fonts.subset_cmap.get(cp)
        if name is not None:
            return name
        full = self._fonts.full()
        if full is None or cp not in full.cmap:
            raise KeyError(cp)
        return FULL_PREFIX + full.cmap[cp]

    def __contains__(self, cp: object) -> bool:
        if cp in self._fonts.subset_cmap:
            return True
        full = self._fonts.full()
        return full is not None and cp in full.cmap

    def __iter__(self) -> Iterator[int]:
        yield from self._fonts.subset_cmap
        full = self._fonts.full()
        if full is not None:
            yield from (cp for cp in full.cmap if cp not in self._fonts.subset_cmap)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _Metrics(Mapping[str, tuple[float, float]]):
    """hmtx-like: glyph name → (advance, left side bearing) in the subset's units."""

    def __init__(self, fonts: Fonts) -> None:
        self._fonts = fonts

    def __getitem__(self, name: str) -> tuple[float, float]:
        if name.startswith(FULL_PREFIX):
            full = self._fonts.full()
            assert full is not None  # the name came from the character map
            return full.advance(name.removeprefix(FULL_PREFIX)), 0.0
        advance, lsb = self._fonts.subset["hmtx"][name]
        return advance, lsb

    def __iter__(self) -> Iterator[str]:
        return iter(self._fonts.subset.getGlyphOrder())

    def __len__(self) -> int:
        return len(self._fonts.subset.getGlyphOrder())


class _FullGlyph:
    def __init__(self, full: FullFont, name: str) -> None:
        self._full, self._name = full, name

    def draw(self, pen: Any) -> None:
        self._full.draw(self._name, pen)


class _GlyphSet(Mapping[str, Any]):
    """Glyph name → an object with ``draw(pen)``, from whichever font has it."""

    def __init__(self, fonts: Fonts) -> None:
        self._fonts = fonts
        self._subset = fonts.subset.getGlyphSet()

    def __getitem__(self, name: str) -> Any:
        if name.startswith(FULL_PREFIX):
            full = self._fonts.full()
            assert full is not None
            return _FullGlyph(full, name.removeprefix(FULL_PREFIX))
        return self._subset[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._subset)

    def __len__(self) -> int:
        return len(self._subset)


def _digest(data: bytes) -> str:
    return hashlib.sha256(
        hashlib.sha256(data).hexdigest().encode("ascii") + b" " +
        full_font_identity().encode("utf-8")
    ).hexdigest()


@cache
def font_digest(weight: str) -> str:
    """What names the fonts of ``weight`` (as :attr:`Fonts.digest`), without parsing them: the
    artwork cache is keyed by it in every build, drawing or not."""
    return _digest((FONT_DIR / WEIGHTS[weight][0]).read_bytes())


def font_digests() -> dict[str, str]:
    """:func:`font_digest` of every weight."""
    return {weight: font_digest(weight) for weight in WEIGHTS}


class Fonts:
    """One weight of the star-mark fonts as one font: what ``marks.Face`` reads."""

    def __init__(self, weight: str) -> None:
        path = FONT_DIR / WEIGHTS[weight][0]
        data = path.read_bytes()
        self.weight = weight
        self.name = path.name
        from fontTools.ttLib import TTFont

        self.subset = TTFont(io.BytesIO(data))
        self.subset_cmap: dict[int, str] = self.subset.getBestCmap()
        self.upm = float(self.subset["head"].unitsPerEm)
        self.digest = _digest(data)
        self.cmap: Mapping[int, str] = _Cmap(self)
        self.hmtx: Mapping[str, tuple[float, float]] = _Metrics(self)
        self.glyph_set: Mapping[str, Any] = _GlyphSet(self)

    def full(self) -> FullFont | None:
        return full_font(self.weight, self.upm)


@cache
def fonts(weight: str) -> Fonts:
    """The fonts of ``weight`` ("regular" or "bold"), loaded once per process."""
    return Fonts(weight)


# Characters both weights draw (whitespace needs no glyph): found by this process, or by an
# earlier run with the same fonts (:func:`remember_drawable`).
_DRAWABLE: set[str] = set()
_DRAWABLE_VERSION = 1
_drawable_kept: dict[Path, int] = {}  # cache file → how many characters it holds


def drawable(char: str) -> bool:
    """Whether both weights can draw ``char`` (whitespace needs no glyph)."""
    if char in _DRAWABLE:
        return True
    if char.isspace() or all(ord(char) in fonts(weight).cmap for weight in WEIGHTS):
        _DRAWABLE.add(char)
        return True
    return False


def _drawable_file(cache_dir: Path) -> Path:
    """The cache file of the characters these fonts draw (named by the fonts' digests)."""
    fonts_key = hashlib.sha256(" ".join(font_digests().values()).encode("ascii")).hexdigest()
    return cache_dir / "glyphs" / f"{fonts_key[:32]}.marshal"


def remember_drawable(cache_dir: Path) -> None:
    """Take in the characters an earlier run with these fonts found drawable (kept in
    ``cache_dir`` by :func:`keep_drawable`): texts made only of them open no font."""
    path = _drawable_file(cache_dir)
    chars = read_cache(path, _DRAWABLE_VERSION).get("chars")
    if isinstance(chars, str):
        _DRAWABLE.update(chars)
        _drawable_kept[path] = len(chars)


def keep_drawable(cache_dir: Path) -> None:
    """Keep the characters found drawable in ``cache_dir`` when there are new ones (a cache
    that cannot be written is no error)."""
    path = _drawable_file(cache_dir)
    if len(_DRAWABLE) > _drawable_kept.get(path, 0):
        chars = "".join(sorted(_DRAWABLE))
        write_cache(path, _DRAWABLE_VERSION, {"chars": chars})
        _drawable_kept[path] = len(chars)


def missing(text: str) -> list[str]:
    """The characters of ``text`` that no star-mark font has, each once, in order."""
    if _DRAWABLE.issuperset(text):  # a build checks every record: most texts are known
        return []
    seen: list[str] = []
    for char in text:
        if char not in seen and not drawable(char):
            seen.append(char)
    return seen


def advice(char: str) -> str:
    """The sentence of a problem that says what to do about ``char``."""
    code = f"'{char}' (U+{ord(char):04X})"
    if full_font_path() is None and ord(char) >= 0x80:
        return (
            f"character {code} is not in the star-mark font subset, and the whole "
            f"{FONT_NAME} (PyPI package {FULL_PACKAGE}) that has the rest is not installed: "
            f"run {INSTALL}"
        )
    standard = unicodedata.normalize("NFKC", char)
    if standard != char and standard and all(drawable(c) for c in standard):
        shown = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in standard)
        return (
            f"character {code} is a compatibility form that no star-mark font draws; "
            f"write its standard form {shown}"
        )
    full = full_font("regular", fonts("regular").upm)
    count = f"{len(full.cmap):,} characters" if full else "its characters"
    return (
        f"character {code} is in no star-mark font ({FONT_NAME} has {count}: every hanzi of "
        "the 通用规范汉字表, CJK Ext. A and much of Ext. B), so the mark and display sheet "
        "cannot draw it: check it against the business licence (营业执照); if it is right, "
        f"add a font that has it ({README})"
    )


def problem(root: Path, path: str, key: str, char: str) -> Problem:
    """``char`` of ``key`` in file ``path`` (under ``root``) cannot be drawn: at its line."""
    doc, _ = source.read_file(root / path, path)
    line = 0
    level = re.fullmatch(r"levels \((.+)\)", key)  # a star level's words, by its key
    if doc is not None and level and isinstance(doc.data, dict):
        listed = doc.data.get("levels")
        keys = [item.get("key") if isinstance(item, dict) else None
                for item in (listed if isinstance(listed, list) else [])]
        if level.group(1) in keys:
            line = doc.line(("levels", keys.index(level.group(1))))
    elif doc is not None:
        line = doc.line(tuple(key.split(".")))
    return Problem(path, line, f"{key}: {advice(char)}")


def record_problems(data: Mapping[str, Any], doc: source.Document) -> list[Problem]:
    """Every character of a record's drawn fields (:data:`DRAWN_FIELDS`) that no font has."""
    problems = []
    for key in DRAWN_FIELDS:
        value: Any = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str):
            line = doc.line(tuple(key.split(".")))
            problems += [Problem(doc.path, line, f"{key}: {advice(c)}") for c in missing(value)]
    return problems
