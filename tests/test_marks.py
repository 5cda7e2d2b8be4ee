"""Star-mark artwork: every file for every certificate that may use the mark, and none for others.

The registry here is a small temporary copy of the repository's: one certificate of each level
that may use the mark and one of each verdict that may not, as of a fixed date.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import cairosvg
import cv2
import numpy as np
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from generator import glyphs, marks, pages, pdf, qr
from generator.errors import InputError
from generator.load import load_registry
from generator.marks import pdffile
from generator.model import Registry
from generator.output import Output
from generator.settings import load as load_settings
from generator.synth import prepare_root, synthesize

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
QR_TESTED_MM = 15  # registry/mark.yaml sizes.qr_tested_mm (test_qr_is_tested_where_the_style_says)
DPI_300_AT_15_MM = round(QR_TESTED_MM / 25.4 * 300)  # 177 px
LEGIBLE_MM = 1.2  # the floor for a printed capital's height (issue 11)


def _pick(registry: Registry) -> list[str]:
    """Record files: the first certificate of each level with the mark, of each verdict without."""
    seen: set[tuple[str, str]] = set()
    chosen = []
    for cert in registry.certificates:
        verdict = registry.verdict(cert)
        key = ("mark", cert.level) if verdict.mark_allowed else ("none", verdict.key)
        if key not in seen:
            seen.add(key)
            chosen.append(cert.source)
    return chosen


def make_root(target: Path, extra: dict[str, str] | None = None) -> Path:
    """A registry root with ``registry/`` and a few of the repository's records."""
    full = load_registry(REPO, as_of=AS_OF)
    shutil.copytree(REPO / "registry", target / "registry")
    for source in _pick(full):
        (target / source).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / source, target / source)
    for rel, text in (extra or {}).items():
        (target / rel).write_text(text, "utf-8")
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Registry, Path, Path, marks.MarkStats]:
    root = make_root(tmp_path_factory.mktemp("root"))
    registry = load_registry(root, as_of=AS_OF)
    site, cache = root / "site", root / ".starmark-cache" / "marks"
    out = Output(site)
    stats = marks.render_marks(registry, out, cache, workers=2)
    marks.link_parts(registry, out, cache)
    return registry, site, cache, stats


def downloaded(site: Path, number: str) -> dict[str, bytes]:
    """Every artwork file of one certificate as an enterprise gets it from the published site:
    the files published whole, and the others assembled from parts.bin and the shared parts (as
    marks.js does; tests/browser/test_marks_js.py checks the script against this)."""
    folder = site / "c" / number
    static = {name: (folder / name).read_bytes() for name in marks.STATIC}
    parts_bin = (folder / marks.PARTS_FILE).read_bytes()
    shared = {p.stem: p.read_bytes() for p in (site / marks.PARTS_DIR).iterdir()}
    return {**static, **marks.assemble(parts_bin, static, shared, AS_OF)}


@pytest.fixture(scope="module")
def got(
    built: tuple[Registry, Path, Path, marks.MarkStats],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A folder per certificate holding what an enterprise downloads (see :func:`downloaded`)."""
    registry, site, _cache, _stats = built
    folder = tmp_path_factory.mktemp("downloads")
    for cert in marks.marked(registry):
        (folder / cert.number).mkdir()
        for name, data in downloaded(site, cert.number).items():
            (folder / cert.number / name).write_bytes(data)
    return folder


def test_small_registry_covers_every_case(
    built: tuple[Registry, Path, Path, marks.MarkStats],
) -> None:
    registry = built[0]
    levels = {c.level for c in marks.marked(registry)}
    verdicts = {registry.verdict(c).key for c in registry.certificates}
    assert levels == {level.key for level in registry.settings.levels}
    assert {"suspended", "withdrawn", "expired"} <= verdicts


# Which verdicts may have artwork: the scheme's rule ("the right to use the mark follows the
# certificate"), written out here rather than read from the mark_allowed setting the build uses.
ARTWORK = {"valid": True, "suspended": False, "withdrawn": False, "cancelled": False,
           "expired": False}


def test_every_file_for_every_marked_certificate_and_none_for_others(
    built: tuple[Registry, Path, Path, marks.MarkStats],
) -> None:
    registry, site, _cache, stats = built
    verdicts = {registry.standing(c).verdict for c in registry.certificates}
    assert verdicts == set(ARTWORK), "the small registry has one certificate of each verdict"
    allowed = [c for c in registry.certificates if ARTWORK[registry.standing(c).verdict]]
    assert stats.rendered == len(allowed) and stats.cached == 0
    for cert in registry.certificates:
        folder = site / "c" / cert.number
        if ARTWORK[registry.standing(cert).verdict]:
            assert sorted(p.name for p in folder.iterdir()) == sorted(
                [*marks.STATIC, marks.PARTS_FILE]
            )
            assert sorted(downloaded(site, cert.number)) == sorted(
                n for n, _zh, _en in marks.MARK_FILES
            )
        else:
            assert not folder.exists(), (
                f"{cert.number} is {registry.verdict(cert).key} but has mark files"
            )


def test_every_download_is_the_reference(
    built: tuple[Registry, Path, Path, marks.MarkStats],
) -> None:
    """What an enterprise downloads from the published files and parts (assembled as marks.js
    does) is, byte for byte, the Python reference of every file (the build relies on this and
    does not assemble each certificate again)."""
    registry, site, _cache, _stats = built
    style = marks.load_style(registry.settings.root)
    for cert in marks.marked(registry):
        info = marks.MarkInfo.of(cert, registry)
        assert downloaded(site, cert.number) == marks.render_files(info, style, as_of=AS_OF), (
            cert.number
        )


def test_parts_give_back_the_reference_for_many_synthetic_certificates(tmp_path: Path) -> None:
    """:func:`marks.split` over a few hundred synthetic certificates (names, scopes and numbers
    of every length the generator makes): :func:`marks.assemble` gives back every byte."""
    root = tmp_path / "root"
    prepare_root(REPO, root)
    for _ in synthesize(load_settings(REPO), root, 320, seed=15, as_of=AS_OF):
        pass
    registry = load_registry(root, as_of=AS_OF)
    style = marks.load_style(root)
    art = marks.Artwork(style)
    infos = [marks.MarkInfo.of(cert, registry) for cert in marks.marked(registry)]
    assert len(infos) >= 200
    for info in infos:
        files = art.render(info)
        parts_bin, parts = marks.split(files, art.shared_parts(info))
        static = {name: files[name] for name in marks.STATIC}
        again = marks.assemble(parts_bin, static, parts, marks.assembly.PLACEHOLDER_DATE)
        assert again == {name: files[name] for name in marks.ASSEMBLED}, info.number


def decode_both(image: Image.Image) -> tuple[list[str], str]:
    """The texts that zxing-cpp and OpenCV read from ``image`` (on white)."""
    gray = _on((255, 255, 255), image).convert("L")
    return [r.text for r in zxingcpp.read_barcodes(gray)], cv2.QRCodeDetector().detectAndDecode(
        np.array(gray)
    )[0]


def _on(colour: tuple[int, int, int], image: Image.Image) -> Image.Image:
    ground = Image.new("RGBA", image.size, (*colour, 255))
    ground.alpha_composite(image.convert("RGBA"))
    return ground


def _svg_at(svg: bytes, width_px: int) -> Image.Image:
    return Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg, output_width=width_px)))


def test_qr_decodes_from_every_artwork_file(
    built: tuple[Registry, Path, Path, marks.MarkStats],
    got: Path,
) -> None:
    registry, _site, _cache, _stats = built
    for cert in marks.marked(registry):
        url = registry.settings.certificate_url(cert.number)
        folder = got / cert.number
        print_png = Image.open(folder / "mark-print.png")
        at_15mm = print_png.resize(
            (DPI_300_AT_15_MM, round(print_png.height * DPI_300_AT_15_MM / print_png.width)),
            Image.Resampling.LANCZOS,
        )
        pdf_page = pypdfium2.PdfDocument(folder / "display.pdf")[0].render(scale=150 / 72).to_pil()
        images = {
            "qr.png": Image.open(folder / "qr.png"),
            "qr.svg": _svg_at((folder / "qr.svg").read_bytes(), 300),
            "mark.png": Image.open(folder / "mark.png"),
            "mark-print.png": print_png,
            "mark-print.png at 15 mm, 300 dpi": at_15mm,
            "mark.svg at 15 mm, 300 dpi": _svg_at(
                (folder / "mark.svg").read_bytes(), DPI_300_AT_15_MM
            ),
            "mark-mono.svg at 15 mm, 300 dpi": _svg_at(
                (folder / "mark-mono.svg").read_bytes(), DPI_300_AT_15_MM
            ),
            "mark-reverse.svg on dark, 15 mm, 300 dpi": _on(
                (40, 30, 25), _svg_at((folder / "mark-reverse.svg").read_bytes(), DPI_300_AT_15_MM)
            ),
            "display.pdf at 150 dpi": pdf_page,
        }
        for what, image in images.items():
            zxing, opencv = decode_both(image)
            assert zxing == [url], f"{cert.number} {what}: zxing-cpp read {zxing}"
            assert opencv == url, f"{cert.number} {what}: OpenCV read {opencv!r}"


def test_own_raster_matches_an_independent_svg_renderer(
    built: tuple[Registry, Path, Path, marks.MarkStats],
    got: Path,
) -> None:
    """mark-print.png (drawn here) and mark.svg (drawn by cairo) are the same picture."""
    registry, _site, _cache, _stats = built
    for cert in marks.marked(registry):
        folder = got / cert.number
        for name, tolerance in (("mark-print.png", 2.0), ("mark.png", 6.0)):
            ours = Image.open(folder / name)
            theirs = _svg_at((folder / "mark.svg").read_bytes(), ours.width).resize(ours.size)
            a = np.asarray(_on((255, 255, 255), ours).convert("L"), dtype=float)
            b = np.asarray(_on((255, 255, 255), theirs).convert("L"), dtype=float)
            assert np.abs(a - b).mean() < tolerance, (cert.number, name, np.abs(a - b).mean())


def test_cached_layers_equal_a_render_from_scratch(
    built: tuple[Registry, Path, Path, marks.MarkStats],
) -> None:
    """What is drawn once per level and reused cannot drift from drawing everything anew.

    One Artwork draws every certificate in turn (each level's layers are reused by the next
    certificate of that level); each must equal a render with a fresh Artwork, file for file.
    The SVGs must also equal the whole scene written in one pass, and the PNGs the whole scene
    rasterised in one pass, up to the palette.
    """
    registry = built[0]
    style = marks.load_style(registry.settings.root)
    shared = marks.Artwork(style)
    infos = [marks.MarkInfo.of(cert, registry) for cert in marks.marked(registry)]
    for info in infos + infos:  # the second round draws nothing of its levels
        cached = shared.render(info)
        assert cached == marks.Artwork(style).render(info), info.number
        mm = style.sizes["recommended_mm"]
        for variant, name in (
            ("colour", "mark.svg"),
            ("mono", "mark-mono.svg"),
            ("reverse", "mark-reverse.svg"),
        ):
            whole = marks.to_svg(marks.mark_scene(info, style, variant), mm)
            assert cached[name] == whole.encode("utf-8"), (info.number, name)
        for name in ("mark.png", "mark-print.png"):
            ours = Image.open(io.BytesIO(cached[name])).convert("RGBA")
            whole_image = marks.rasterise(marks.mark_scene(info, style), ours.width)
            assert ours.size == whole_image.size
            diff = np.abs(np.asarray(ours, float) - np.asarray(whole_image, float)).max(axis=2)
            assert diff.mean() < 0.25 and (diff > 16).mean() < 0.002, (info.number, name)


def test_display_pdf_written_directly_is_what_qpdf_writes(
    built: tuple[Registry, Path, Path, marks.MarkStats], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The display sheet's file is written without pikepdf (generator/marks/pdffile.py): each
    sheet must be the bytes pikepdf and qpdf write for the same page, forms and title."""
    registry = built[0]
    style = marks.load_style(registry.settings.root)
    direct, compared = pdffile.write_pdf, []

    def both(*args: Any, **kwargs: Any) -> bytes:
        ours = direct(*args, **kwargs)
        assert ours == pdf.write_pdf(*args, **kwargs), args[4]
        compared.append(args[4])
        return ours

    monkeypatch.setattr(pdffile, "write_pdf", both)
    infos = [marks.MarkInfo.of(cert, registry) for cert in marks.marked(registry)]
    for info in infos:
        marks.Artwork(style).render(info)
    assert len(compared) == len(infos)
    assert pdffile.can_write("星级 A-1 (x) \\ é", "zh-CN")
    assert not pdffile.can_write("Plain title", "zh-CN"), "PDFDocEncoding: left to pikepdf"
    form = pdf.Form.of(b"0 0 1 1 re f\n", (0, -1.5, 2.25, 1 / 3))
    args = (b"/F0 Do\n", {"F0": form}, 210.0, 297.0)
    for title in ("星级 A-1 (x) \\ é", "Plain title", "全角（括号）"):
        assert pdffile.write_pdf(*args, title) == pdf.write_pdf(*args, title), title


def test_zip_written_directly_is_what_zipfile_writes(
    built: tuple[Registry, Path, Path, marks.MarkStats],
) -> None:
    """marks.zip is written header by header (generator/marks/bundle.py): the bytes zipfile
    writes for the same files, for every sample certificate and for a file that is empty."""
    registry = built[0]
    style = marks.load_style(registry.settings.root)
    for cert in marks.marked(registry):
        info = marks.MarkInfo.of(cert, registry)
        files = marks.render_files(info, style)
        files[marks.USAGE_FILE] = marks.usage_text(info, style).encode("utf-8")
        del files["marks.zip"]
        assert marks.bundle.zip_files(files, cert.number) == marks.bundle.zipfile_zip(
            files, cert.number
        ), cert.number
    odd = {"a.svg": b"", marks.USAGE_FILE: b"x" * 5000, "b.png": bytes(range(256))}
    assert marks.bundle.zip_files(odd, "N-1") == marks.bundle.zipfile_zip(odd, "N-1")


def test_pngs_decode_to_the_layered_image_exactly(
    built: tuple[Registry, Path, Path, marks.MarkStats],
    got: Path,
) -> None:
    """The PNGs whose rows are compressed in parts are valid and hold exactly the drawn image."""
    registry, _site, _cache, _stats = built
    style = marks.load_style(registry.settings.root)
    art = marks.Artwork(style)
    for cert in marks.marked(registry):
        info = marks.MarkInfo.of(cert, registry)
        own = marks.CertificateArt.of(info, style)
        print_px = round(style.sizes["recommended_mm"] / 25.4 * style.sizes["print_dpi"])
        for name, layer in (
            ("mark.png", art.raster(info.level, int(style.sizes["web_png_px"]))),
            ("mark-print.png", art.raster(info.level, print_px, int(style.sizes["print_dpi"]))),
        ):
            data = (got / cert.number / name).read_bytes()
            Image.open(io.BytesIO(data)).verify()  # chunk CRCs
            drawn = np.asarray(marks.layered_image(layer, own).convert("RGBA"))
            decoded = Image.open(io.BytesIO(data))
            assert np.array_equal(np.asarray(decoded.convert("RGBA")), drawn), (cert.number, name)
            by_pillow = Image.open(io.BytesIO(marks.png_bytes(marks.layered_image(layer, own))))
            assert np.array_equal(np.asarray(by_pillow.convert("RGBA")), drawn)
            opencv = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
            assert opencv is not None, (cert.number, name)
            assert np.array_equal(opencv[..., [2, 1, 0, 3]], drawn), (cert.number, name)
            # The mark's colours are exact, not averaged with their edges.
            palette = decoded.getpalette("RGBA") or []
            entries = {tuple(palette[i : i + 4]) for i in range(0, len(palette), 4)}
            for key in ("primary", "accent", "paper", "text"):
                assert (*marks.raster.rgb(style.colour(key)), 255) in entries, (name, key)


def test_vector_files_are_paths_with_physical_size(
    built: tuple[Registry, Path, Path, marks.MarkStats],
    got: Path,
) -> None:
    registry, _site, _cache, _stats = built
    style = marks.load_style(registry.settings.root)
    for cert in marks.marked(registry):
        for name in ("mark.svg", "mark-mono.svg", "mark-reverse.svg"):
            svg = (got / cert.number / name).read_text("utf-8")
            assert "<text" not in svg and "font" not in svg
            size = re.search(
                r'width="([\d.]+)mm" height="([\d.]+)mm" viewBox="0 0 (\d+) (\d+)"', svg
            )
            assert size, (cert.number, name)
            width_mm, height_mm, width, height = map(float, size.groups())
            assert width_mm == style.sizes["recommended_mm"]
            assert abs(width / height - width_mm / height_mm) < 1e-3  # the physical size is exact
        colours = set(
            re.findall(
                r'fill="(#[0-9A-F]{6})"', (got / cert.number / "mark.svg").read_text()
            )
        )
        assert colours <= {c.hex for c in style.colours.values()}
        mono = set(
            re.findall(
                r'fill="(#[0-9A-F]{6})"', (got / cert.number / "mark-mono.svg").read_text()
            )
        )
        assert mono == {style.colour("mono")}
        reverse = set(
            re.findall(
                r'fill="(#[0-9A-F]{6})"',
                (got / cert.number / "mark-reverse.svg").read_text(),
            )
        )
        assert reverse == {style.colour("reverse")}


def test_png_sizes_and_dpi(built: tuple[Registry, Path, Path, marks.MarkStats], got: Path) -> None:
    registry, _site, _cache, _stats = built
    style = marks.load_style(registry.settings.root)
    for cert in marks.marked(registry):
        folder = got / cert.number
        web = Image.open(folder / "mark.png")
        assert web.width == style.sizes["web_png_px"]
        printed = Image.open(folder / "mark-print.png")
        dpi = printed.info["dpi"][0]
        assert round(dpi) == style.sizes["print_dpi"] >= 300
        assert abs(printed.width / dpi * 25.4 - style.sizes["recommended_mm"]) < 0.1
        for name in ("mark.png", "mark-print.png", "qr.png"):
            assert b"tIME" not in (folder / name).read_bytes()


def test_display_pdf_is_a4_vector_without_dates(
    built: tuple[Registry, Path, Path, marks.MarkStats],
    got: Path,
) -> None:
    registry, _site, _cache, _stats = built
    for cert in marks.marked(registry):
        data = (got / cert.number / "display.pdf").read_bytes()
        assert data.startswith(b"%PDF-")
        for absent in (b"CreationDate", b"ModDate", b"/Image", b"/Font"):
            assert absent not in data, absent  # no dates; vector paths only, no fonts
        document = pypdfium2.PdfDocument(data)
        page = document[0]
        assert [round(v / 72 * 25.4, 1) for v in page.get_size()] == [210.0, 297.0]
        assert document.get_metadata_dict()["Title"].startswith(cert.organization.name)
        # The holder's name is drawn (as outlines): the page is not blank where it goes.
        pixels = np.asarray(page.render(scale=1).to_pil().convert("L"))
        assert pixels[150:180].min() < 64


def test_zip_holds_every_file_and_the_usage_sheet(
    built: tuple[Registry, Path, Path, marks.MarkStats],
    got: Path,
) -> None:
    registry, _site, _cache, _stats = built
    for cert in marks.marked(registry):
        folder = got / cert.number
        with zipfile.ZipFile(folder / "marks.zip") as archive:
            names = archive.namelist()
            assert names == sorted(names)
            expected = {n for n, _zh, _en in marks.MARK_FILES if n != "marks.zip"} | {
                marks.USAGE_FILE
            }
            assert {n.split("/", 1)[1] for n in names} == expected
            for info in archive.infolist():
                assert info.date_time == (*AS_OF.timetuple()[:3], 0, 0, 0)  # the as-of date
                name = info.filename.split("/", 1)[1]
                if name != marks.USAGE_FILE:
                    assert archive.read(info) == (folder / name).read_bytes()
            usage = archive.read(f"{cert.number}/{marks.USAGE_FILE}").decode("utf-8")
        for needle in (
            "最小宽度",
            "保护空间",
            "CMYK",
            "暂停",
            "撤销",
            "Suspension",
            "withdrawal",
            cert.number,
        ):
            assert needle in usage


def test_second_render_uses_the_cache_and_identical_bytes(
    built: tuple[Registry, Path, Path, marks.MarkStats], tmp_path: Path
) -> None:
    registry, site, cache, first = built
    out = Output(site)
    again = marks.render_marks(registry, out, cache, workers=2)
    assert again.rendered == 0 and again.cached == first.rendered
    assert out.changed == set()
    # A cold render elsewhere gives the same bytes.
    other = tmp_path / "site"
    cold = marks.render_marks(registry, Output(other), tmp_path / "cache", workers=1)
    assert cold.rendered == first.rendered
    for path in sorted((site / "c").rglob("*")):
        if path.is_file():
            assert (other / path.relative_to(site)).read_bytes() == path.read_bytes(), path


def test_published_files_are_links_to_the_cache_not_copies(
    built: tuple[Registry, Path, Path, marks.MarkStats],
) -> None:
    """A cold build of a large registry writes each artwork byte once (into the cache); the
    site holds hard links, and a half-written bundle is never used."""
    registry, site, cache, _stats = built
    cert = next(marks.marked(registry))
    info = marks.MarkInfo.of(cert, registry)
    style = marks.load_style(registry.settings.root)
    bundle = marks.bundle_dir(cache, marks.cache_key(info, style))
    names = {*marks.STATIC, marks.PARTS_FILE}
    for name in names:
        published = site / "c" / cert.number / name
        assert published.samefile(bundle / name), name
    assert marks.cache._read_bundle(bundle, names) is not None
    unfinished = bundle.with_name("unfinished")
    shutil.copytree(bundle, unfinished)
    (unfinished / marks.BUNDLE_INDEX).unlink()
    assert marks.cache._read_bundle(unfinished, names) is None


def test_style_change_re_renders(
    built: tuple[Registry, Path, Path, marks.MarkStats], tmp_path: Path
) -> None:
    registry = built[0]
    style = marks.load_style(registry.settings.root)
    info = marks.MarkInfo.of(next(marks.marked(registry)), registry)
    key = marks.cache_key(info, style)
    changed = marks.MarkStyle(
        style.colours, style.words, style.sizes, style.layout, style.source + " "
    )
    assert marks.cache_key(info, changed) != key
    assert marks.cache_key(info, style) == key


def test_missing_glyph_is_a_clear_problem(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    registry = load_registry(root, as_of=AS_OF)
    cert = next(marks.marked(registry))
    path = root / cert.source
    text = path.read_text("utf-8")
    path.write_text(text.replace(cert.organization.name, cert.organization.name + "𪚥", 1), "utf-8")
    registry = load_registry(root, as_of=AS_OF)
    problems = marks.check_glyphs(registry)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.path == cert.source
    assert (
        "𪚥" in problem.message
        and "U+2A6A5" in problem.message
        and "organization.name" in problem.message
    )
    with pytest.raises(InputError) as raised:
        marks.render_marks(registry, Output(tmp_path / "site"), tmp_path / "cache", workers=1)
    assert raised.value.problems == problems
    assert not (tmp_path / "site").exists()


def test_font_subset_covers_gb2312_and_the_records() -> None:
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                char = bytes((high, low)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            assert not glyphs.missing(char), char
    full = load_registry(REPO, as_of=AS_OF)
    assert marks.check_glyphs(full) == []


def test_usage_page_agrees_with_the_style_and_the_qr_code() -> None:
    """docs/marks.md types the mark's numbers; this keeps them equal to registry/mark.yaml."""
    page = (REPO / "docs" / "marks.md").read_text("utf-8")
    registry = load_registry(REPO, as_of=AS_OF)
    style = marks.load_style(REPO)
    info = marks.MarkInfo.of(next(marks.marked(registry)), registry)
    sizes = style.sizes
    for colour in style.colours.values():
        assert colour.hex in page, colour
    for key in ("primary", "accent"):
        c, m, y, k = style.colours[key].cmyk.split()
        assert f"C{c} M{m} Y{y} K{k}" in page
    assert f"**{sizes['minimum_mm']:g} mm**" in page
    assert f"不小于 {sizes['letter_mm']:g} mm" in page
    assert f"{sizes['qr_tested_mm']:g} mm 宽时" in page
    assert f"{sizes['recommended_mm']:g} mm 及以上" in page
    assert f"**标志宽度的 {sizes['clear_space'] * 100:g}%**" in page
    assert f"{sizes['print_dpi']:g} dpi" in page and f"{sizes['web_png_px']:g} 像素" in page
    assert f"**{marks.qr_minimum_mm(info, style):g} mm**（含空白区）" in page
    code = qr.symbol(info.url)
    module = sizes["qr_tested_mm"] * style.layout["qr_width"] / 100 / code.size_with_quiet_zone
    assert f"约 {module:.2f} mm" in page
    smallest_text = min(style.layout[k] for k in ("level_en_size", "standard_size", "body_size"))
    assert smallest_text * sizes["recommended_mm"] / 100 / 25.4 * 72 >= 5.0  # "at least 5 pt"
    assert page.index("# 标志使用") < page.index("## English summary")


def test_qr_is_tested_where_the_style_says() -> None:
    assert marks.load_style(REPO).sizes["qr_tested_mm"] == QR_TESTED_MM


def test_every_word_is_legible_at_the_minimum_size(
    built: tuple[Registry, Path, Path, marks.MarkStats],
) -> None:
    """At the stated minimum width, every printed word's capitals, digits and Chinese characters
    are at least 1.2 mm tall (measured from the outlines drawn); one size smaller, some are not
    (the minimum is not stated larger than it must be)."""
    registry = built[0]
    style = marks.load_style(registry.settings.root)
    sizes = style.sizes
    assert sizes["letter_mm"] >= LEGIBLE_MM
    smallest = {}
    for cert in [*marks.marked(registry), *load_registry(REPO, as_of=AS_OF).certificates]:
        info = marks.MarkInfo.of(cert, registry)
        for word, height in marks.design.word_heights(info, style, sizes["minimum_mm"]).items():
            smallest[word] = min(smallest.get(word, height), height)
    assert set(smallest) == {"level", "level-en", "scheme", "standard", "body", "number"}
    assert min(smallest.values()) >= sizes["letter_mm"], smallest
    below = sizes["minimum_mm"] - 1
    assert min(h * below / sizes["minimum_mm"] for h in smallest.values()) < sizes["letter_mm"]


def test_an_artwork_origin_gets_every_file_whole_and_pages_link_there(tmp_path: Path) -> None:
    """registry/mark.yaml's artwork_base_url: every file is written whole into a tree of its
    own (marks.zip dated with the as-of date), the site gets none, and pages link there."""
    root = make_root(tmp_path / "root")
    mark_yaml = root / marks.STYLE_FILE
    text = mark_yaml.read_text("utf-8")
    mark_yaml.write_text(text.replace('artwork_base_url: ""',
                                      'artwork_base_url: "https://marks.example.org/"'), "utf-8")
    registry = load_registry(root, as_of=AS_OF)
    style = marks.load_style(root)
    tree, cache = root / marks.ARTWORK_TREE, root / ".starmark-cache"
    stats = marks.render_tree(registry, tree, cache, workers=1)
    certs = list(marks.marked(registry))
    assert stats.rendered == len(certs)
    for cert in certs:
        info = marks.MarkInfo.of(cert, registry)
        expected = marks.render_files(info, style, as_of=AS_OF)
        folder = tree / "c" / cert.number
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == expected
    assert {p.name for p in (tree / "c").iterdir()} == {c.number for c in certs}
    out = Output(root / "site")
    assert marks.link_parts(registry, out, cache) == []
    assert marks.mark_files_of(certs[0].number, style) == []
    page = pages.render_page(certs[0], registry, marks.downloads(style))
    base = f"https://marks.example.org/c/{certs[0].number}/"
    assert f'<img src="{base}mark.svg"' in page.content
    assert f'<meta property="og:image" content="{base}mark.png">' in page.head
    assert f'"logo": "{base}mark.svg"' in page.head
    for name, _zh, _en in marks.MARK_FILES:
        assert f'<a href="{base}{name}" download>' in page.content
    assert "marks.js" not in page.content and "data-sm-assemble" not in page.content
    # A second build swaps in a complete new tree (a suspended certificate's files are gone).
    shrunk = Registry(registry.settings, tuple(certs[1:]), registry.as_of, registry.standings)
    marks.render_tree(shrunk, tree, cache, workers=1)
    assert not (tree / "c" / certs[0].number).exists()
    assert (tree / "c" / certs[1].number / "marks.zip").is_file()


def test_a_bad_artwork_base_url_is_a_clear_problem(tmp_path: Path) -> None:
    root = make_root(tmp_path / "root")
    mark_yaml = root / marks.STYLE_FILE
    text = mark_yaml.read_text("utf-8")
    mark_yaml.write_text(text.replace('artwork_base_url: ""', 'artwork_base_url: "marks/"'),
                         "utf-8")
    with pytest.raises(InputError) as raised:
        marks.load_style(root)
    [problem] = raised.value.problems
    assert problem.path == marks.STYLE_FILE and problem.line > 0
    assert "artwork_base_url" in problem.message


def test_a_bundle_without_its_shared_parts_is_drawn_again(
    built: tuple[Registry, Path, Path, marks.MarkStats], tmp_path: Path
) -> None:
    """A cache whose bundles were copied without the shared parts (or lost them) must not
    publish parts.bin files that name parts the site lacks."""
    registry, _site, cache, first = built
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    style = marks.load_style(registry.settings.root)
    shutil.rmtree(marks.cache.parts_dir(copy, style))
    site = tmp_path / "site"
    out = Output(site)
    again = marks.render_marks(registry, out, copy, workers=1)
    assert again.rendered == first.rendered and again.cached == 0
    marks.link_parts(registry, out, copy)
    for cert in marks.marked(registry):
        assert sorted(downloaded(site, cert.number)) == sorted(n for n, _z, _e in marks.MARK_FILES)
    # The same process after the cache was emptied (mkdocs serve): every part stored again.
    shutil.rmtree(copy)
    site = tmp_path / "site-2"
    out = Output(site)
    marks.render_marks(registry, out, copy, workers=1)
    marks.link_parts(registry, out, copy)
    for cert in marks.marked(registry):
        assert sorted(downloaded(site, cert.number)) == sorted(n for n, _z, _e in marks.MARK_FILES)


@pytest.mark.slow
def test_a_build_with_an_artwork_origin_writes_the_tree_apart(tmp_path: Path) -> None:
    """`starmark build` with artwork_base_url: the site holds no artwork and no parts, its pages
    link to the origin, and site-artwork/ beside it holds every file of every certificate in
    force."""
    import yaml

    from generator.publish import build_site

    root = make_root(tmp_path / "root")
    mark_yaml = root / marks.STYLE_FILE
    mark_yaml.write_text(mark_yaml.read_text("utf-8").replace(
        'artwork_base_url: ""', 'artwork_base_url: "https://marks.example.org/"'), "utf-8")
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    config.pop("nav", None)
    config["plugins"] = [{"starmark": {"cache_dir": str(tmp_path / "cache"), "quiet": True}}]
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("# 售后服务认证证书查询\n", encoding="utf-8")
    site = root / "site"
    build_site(root, as_of=AS_OF, site_dir=site, quiet=True)
    registry = load_registry(root, as_of=AS_OF)
    certs = list(marks.marked(registry))
    assert certs
    assert not (site / marks.PARTS_DIR).exists()
    tree = root / marks.ARTWORK_TREE
    for cert in certs:
        assert sorted(p.name for p in (site / "c" / cert.number).iterdir()) == [
            "feed.xml", "index.html"]
        assert sorted(p.name for p in (tree / "c" / cert.number).iterdir()) == sorted(
            n for n, _zh, _en in marks.MARK_FILES)
        page = (site / "c" / cert.number / "index.html").read_text("utf-8")
        assert f'href="https://marks.example.org/c/{cert.number}/display.pdf"' in page
