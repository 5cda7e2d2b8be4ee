"""Real names are drawn: every hanzi of the 通用规范汉字表 and every character of Noto Sans CJK SC
reaches the star mark and the display sheet as its own glyph (not a box), and a character that no
font has is a ``path:line`` problem that says what to do."""

from __future__ import annotations

import bz2
import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pytest
import skia
from PIL import Image, ImageDraw, ImageFont

from generator import glyphs, marks
from generator.load import load_registry

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
RARE = "喆堃昇镕𠮷"  # outside GB 2312; 𠮷 (U+20BB7) is beyond the BMP, in CJK Ext. B
NO_FONT = "𪚥"  # U+2A6A5, CJK Ext. B: not in Noto Sans CJK
NOTDEF = "notdef"  # in _drawn: the font's .notdef glyph (a box)
UNIHAN = Path("/usr/share/unicode")  # Debian's unicode-data (installed by .ci/run)


def tongyong_guifan() -> list[str]:
    """The 8,105 hanzi of the 通用规范汉字表, from the Unihan kTGH field."""
    files = sorted(UNIHAN.glob("Unihan_*.txt.bz2"))
    if not files:
        message = f"no Unihan data in {UNIHAN}: apt-get install unicode-data"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    chars = []
    for path in files:
        with bz2.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                if "\tkTGH\t" in line:
                    chars.append(chr(int(line.split("\t", 1)[0][2:], 16)))
    return chars


def test_every_hanzi_of_the_tongyong_guifan_table_is_drawable() -> None:
    chars = tongyong_guifan()
    assert len(set(chars)) == 8105
    assert [c for c in chars if not glyphs.drawable(c)] == []
    # The committed subset alone lacks many of them: the whole font is what draws those.
    subset = glyphs.fonts("regular").subset_cmap
    assert sum(ord(c) not in subset for c in chars) > 1000


def test_every_character_of_noto_sans_cjk_sc_is_drawable() -> None:
    full = glyphs.full_font("regular", glyphs.fonts("regular").upm)
    assert full is not None, f"{glyphs.FULL_PACKAGE} is a dependency: {glyphs.INSTALL}"
    cmap = full.cmap
    ext_a = [cp for cp in cmap if 0x3400 <= cp <= 0x4DBF]
    ext_b = [cp for cp in cmap if 0x20000 <= cp <= 0x2A6DF]
    assert len(cmap) > 44_000 and len(ext_a) > 6500 and len(ext_b) > 2000
    assert all(glyphs.drawable(chr(cp)) for cp in cmap)
    assert all(glyphs.drawable(c) for c in RARE)
    assert not glyphs.drawable(NO_FONT)


def test_the_subset_draws_what_it_has_so_existing_marks_keep_their_bytes() -> None:
    for weight in glyphs.WEIGHTS:
        fonts = glyphs.fonts(weight)
        assert not fonts.cmap[ord("吉")].startswith(glyphs.FULL_PREFIX)
        assert fonts.cmap[ord("喆")].startswith(glyphs.FULL_PREFIX)


def _mask_of_path(path: skia.Path, size: int, upm: float, evenodd: bool = False) -> np.ndarray:
    """``path`` (font units, y up) filled at ``size`` px per em, pen at (size/4, size)."""
    surface = skia.Surface(size * 3 // 2, size * 3 // 2)
    canvas = surface.getCanvas()
    canvas.clear(skia.ColorWHITE)
    scale = size / upm
    drawn = skia.Path(path)
    drawn.transform(skia.Matrix.MakeAll(scale, 0, size / 4, 0, -scale, size, 0, 0, 1))
    drawn.setFillType(skia.PathFillType.kEvenOdd if evenodd else skia.PathFillType.kWinding)
    canvas.drawPath(drawn, skia.Paint(Color=skia.ColorBLACK, AntiAlias=False))
    pixels = surface.makeImageSnapshot().toarray()
    return pixels[:, :, 0] < 128


def _mask_by_freetype(char: str, weight: str, size: int) -> np.ndarray:
    """``char`` as FreeType draws it from the installed font file, at the weight's wght."""
    path = glyphs.full_font_path()
    assert path is not None
    index = next(
        i for i in range(10) if ImageFont.truetype(str(path), 10, index=i).getname()[0]
        == glyphs.FONT_NAME
    )
    font = ImageFont.truetype(str(path), size, index=index)
    font.set_variation_by_axes([glyphs.WEIGHTS[weight][1]])
    image = Image.new("L", (size * 3 // 2, size * 3 // 2), 255)
    ImageDraw.Draw(image).text((size / 4, size), char, font=font, fill=0, anchor="ls")
    return np.asarray(image) < 128


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.parametrize("weight", list(glyphs.WEIGHTS))
def test_rare_characters_are_drawn_as_the_font_draws_them_not_as_a_box(weight: str) -> None:
    face = marks.face(weight)
    box = _mask_by_freetype(NO_FONT, weight, 160)  # FreeType draws .notdef: the box
    for char in RARE:
        ours = _mask_of_path(face.glyph(char).path, 160, face.upm)
        reference = _mask_by_freetype(char, weight, 160)
        assert _iou(ours, reference) > 0.9, char
        assert _iou(ours, box) < 0.5, char
        assert face.advance(char) == 1.0


def test_outlines_from_the_whole_font_have_no_overlaps() -> None:
    """Overlapping strokes would leave ink where they cross in an even-odd knock-out."""
    face = marks.face("bold")
    for char in RARE:
        path = face.glyph(char).path
        winding = _mask_of_path(path, 200, face.upm)
        evenodd = _mask_of_path(path, 200, face.upm, evenodd=True)
        assert (winding != evenodd).sum() == 0, char


def _drawn(fonts_of: dict[str, str] | None = None) -> dict[str, bytes]:
    """The artwork files of a certificate whose body name and organisation name hold
    :data:`RARE`, from scratch; ``fonts_of`` draws those characters as another's glyph."""
    registry = load_registry(REPO, as_of=AS_OF)
    cert = next(marks.marked(registry))
    info = dataclasses.replace(
        marks.MarkInfo.of(cert, registry),
        name=f"上海{RARE}电器服务有限公司",
        body_name=f"{RARE}认证中心有限公司",
    )
    style = marks.load_style(REPO)
    with _glyphs_swapped(fonts_of or {}):
        return marks.render_files(info, style, marks.Artwork(style))


class _glyphs_swapped:
    """Draw each character of ``swap`` with the glyph of the character it maps to."""

    def __init__(self, swap: dict[str, str]) -> None:
        self.swap = swap
        self.saved: list[tuple[marks.Face, object]] = []

    def __enter__(self) -> None:
        for weight in glyphs.WEIGHTS:
            face = marks.face(weight)
            cmap = face.cmap
            notdef = glyphs.fonts(weight).subset.getGlyphOrder()[0]
            swapped = {ord(c): notdef if to == NOTDEF else cmap[ord(to)]
                       for c, to in self.swap.items()}
            self.saved.append((face, cmap))
            face.cmap = _Overlay(cmap, swapped)
            for char in self.swap:
                face._cache.pop(char, None)
                face._advances.pop(char, None)

    def __exit__(self, *_: object) -> None:
        for face, cmap in self.saved:
            face.cmap = cmap  # type: ignore[assignment]
            for char in self.swap:
                face._cache.pop(char, None)
                face._advances.pop(char, None)


class _Overlay(dict[int, str]):
    def __init__(self, base: object, over: dict[int, str]) -> None:
        super().__init__(over)
        self.base = base

    def __missing__(self, cp: int) -> str:
        return self.base[cp]  # type: ignore[index]

    def __contains__(self, cp: object) -> bool:
        return dict.__contains__(self, cp) or cp in self.base  # type: ignore[operator]


def _ink(files: dict[str, bytes]) -> dict[str, int]:
    """Dark pixels of mark.png and of the display sheet rendered at 100 dpi."""
    import io

    import pypdfium2

    rgba = np.asarray(Image.open(io.BytesIO(files["mark.png"])).convert("RGBA"), dtype=float)
    dark = rgba[:, :, :3].mean(axis=2) < 128
    page = pypdfium2.PdfDocument(files["display.pdf"])[0]
    sheet = np.asarray(page.render(scale=100 / 72).to_pil().convert("L"))
    opaque = rgba[:, :, 3] > 128
    return {"mark.png": int((dark & opaque).sum()), "display.pdf": int((sheet < 128).sum())}


def test_mark_and_display_sheet_draw_rare_characters_not_boxes_or_blanks() -> None:
    real = _drawn()
    boxes = _drawn({c: NOTDEF for c in RARE})
    blank = _drawn({c: "\u3000" for c in RARE})  # the ideographic space: same advance, no ink
    for name in ("mark.svg", "mark.png", "display.pdf"):
        assert real[name] != boxes[name], name
        assert real[name] != blank[name], name
    ink, ink_boxes, ink_blank = _ink(real), _ink(boxes), _ink(blank)
    for name in ink:
        assert ink[name] > ink_blank[name], name  # the characters put ink down
        assert ink[name] != ink_boxes[name], name
    # Drawing a character as itself is the same drawing: the comparison above is fair.
    assert _drawn({c: c for c in RARE})["mark.png"] == real["mark.png"]


def test_drawn_fields_are_the_mark_texts_from_the_record() -> None:
    registry = load_registry(REPO, as_of=AS_OF)
    info = marks.MarkInfo.of(next(marks.marked(registry)), registry)
    from_registry = {"level", "url", "body"}
    assert set(glyphs.DRAWN_FIELDS) == set(info.texts()) - from_registry


def test_a_character_no_font_has_is_a_problem_at_its_line(tmp_path: Path) -> None:
    from generator import source

    record = tmp_path / "ASC-2026-000001.yaml"
    record.write_text(
        "number: ASC-2026-000001\nstatus: valid\norganization:\n"
        f"  name: 上海{NO_FONT}电器有限公司\nscope:\n  zh: 家电维修\n  en: Repair \ufa72\n",
        "utf-8",
    )
    doc, _ = source.read_file(record, "certificates/2026/ASC-2026-000001.yaml")
    assert doc is not None
    problems = glyphs.record_problems(doc.data, doc)
    shown = [str(p) for p in problems]
    assert len(shown) == 2
    assert shown[0].startswith(
        f"certificates/2026/ASC-2026-000001.yaml:4: organization.name: character '{NO_FONT}' "
        "(U+2A6A5) is in no star-mark font"
    )
    assert "business licence (营业执照)" in shown[0] and "generator/fonts/README.md" in shown[0]
    # A compatibility ideograph: its standard form is the character to write.
    assert shown[1].startswith("certificates/2026/ASC-2026-000001.yaml:7: scope.en: ")
    assert "write its standard form '全' (U+5168)" in shown[1]


def test_without_the_whole_font_the_problem_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(glyphs, "full_font_path", lambda: None)
    monkeypatch.setattr(glyphs, "_full", {weight: None for weight in glyphs.WEIGHTS})
    monkeypatch.setattr(glyphs, "_DRAWABLE", set())  # as a process that never had it
    assert glyphs.drawable("吉") and not glyphs.drawable("喆")
    message = glyphs.advice("喆")
    assert "'喆' (U+5586)" in message and glyphs.FULL_PACKAGE in message
    assert "pip install -e ." in message
    assert glyphs.full_font_identity() == "absent"


def test_problems_in_the_registry_settings_name_their_line() -> None:
    lines = (REPO / "registry" / "registry.yaml").read_text("utf-8").splitlines()
    level = next(i for i, text in enumerate(lines, 1) if text.strip() == "- key: four-star")
    body = next(i for i, text in enumerate(lines, 1) if text.startswith("  name: "))
    found = glyphs.problem(REPO, "registry/registry.yaml", "levels (four-star)", NO_FONT)
    assert str(found).startswith(f"registry/registry.yaml:{level}: levels (four-star): ")
    found = glyphs.problem(REPO, "registry/registry.yaml", "body.name", NO_FONT)
    assert str(found).startswith(f"registry/registry.yaml:{body}: body.name: character ")


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """As a new process: no character known to be drawable; the fonts each weight opens from
    now on are listed in the returned list."""
    monkeypatch.setattr(glyphs, "_DRAWABLE", set())
    monkeypatch.setattr(glyphs, "_drawable_kept", {})
    opened: list[str] = []
    fonts = glyphs.fonts

    def counting(weight: str) -> glyphs.Fonts:
        opened.append(weight)
        return fonts(weight)

    monkeypatch.setattr(glyphs, "fonts", counting)
    return opened


def test_characters_found_drawable_are_kept_for_the_next_run(
    tmp_path: Path, fresh_process: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build checks every drawn text; what an earlier run found drawable needs no font
    opened (0.15 s a build), and a character no font has is still reported."""
    assert glyphs.missing("喆堃A 1" + NO_FONT) == [NO_FONT]
    assert fresh_process
    glyphs.keep_drawable(tmp_path)

    monkeypatch.setattr(glyphs, "_DRAWABLE", set())  # the next run
    monkeypatch.setattr(glyphs, "_drawable_kept", {})
    fresh_process.clear()
    glyphs.remember_drawable(tmp_path)
    assert glyphs.missing("A 喆1堃") == [] and fresh_process == []
    assert glyphs.missing("昇" + NO_FONT) == [NO_FONT] and fresh_process


def test_a_damaged_or_other_fonts_drawable_cache_is_not_used(
    tmp_path: Path, fresh_process: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert glyphs.missing("喆堃") == []
    glyphs.keep_drawable(tmp_path)
    (kept,) = (tmp_path / "glyphs").iterdir()
    other = {weight: "0" * 64 for weight in glyphs.WEIGHTS}
    for damage in ("other fonts", "damaged"):
        monkeypatch.setattr(glyphs, "_DRAWABLE", set())
        monkeypatch.setattr(glyphs, "_drawable_kept", {})
        with monkeypatch.context() as patched:
            if damage == "other fonts":
                patched.setattr(glyphs, "font_digests", lambda: other)
            else:
                kept.write_bytes(b"\x00 not a cache")
            glyphs.remember_drawable(tmp_path)
            assert not glyphs._DRAWABLE
            fresh_process.clear()
            assert glyphs.missing("喆" + NO_FONT) == [NO_FONT] and fresh_process
