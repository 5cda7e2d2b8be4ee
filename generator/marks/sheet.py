"""The A4 display sheet for service premises, as a vector PDF (:mod:`generator.pdf` writes it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import pdf
from . import pdffile
from .design import CertificateArt
from .info import MarkInfo
from .style import MarkStyle
from .text import Run, face, fit_size, measure, set_text, wrap

if TYPE_CHECKING:
    from .artwork import Artwork

A4 = (210.0, 297.0)


SHEET_MARGIN = 20.0
SHEET_MARK_WIDTH = 62.0
_NOTICE = (
    "证书状态以认证机构网站公示为准；证书被暂停、撤销、注销或过期后，不得继续展示本证书和认证标志。"
)
_NOTICE_EN = (
    "The certificate's status is what the certification body publishes at the address above. "
    "Once it is suspended, withdrawn, cancelled or expired, "
    "this sheet and the mark must not be displayed."
)


class _Page:
    """A display sheet being written: its own drawing operators and the forms it shows."""

    def __init__(self, shared: SheetForms) -> None:
        self.content: list[bytes] = []
        self.forms: dict[str, pdf.Form] = {}
        self._names: dict[pdf.Form, str] = {}
        self._shared = shared

    def show(self, form: pdf.Form, x: float = 0.0, y: float = 0.0, scale: float = 1.0) -> None:
        self.place(form, (scale, 0, 0, scale, x, y))

    def place(self, form: pdf.Form, matrix: pdf.Matrix) -> None:
        name = self._names.get(form)
        if name is None:
            name = self._names[form] = f"F{len(self._names)}"
            self.forms[name] = form
        self.content.append(pdf.show(name, matrix))

    def text(self, run: Run, colour: str) -> None:
        """The run's characters as glyph forms: each outline is stored once in the file, and is
        the same bytes in every sheet, so the browser takes it from a shared part."""
        self.content.append(pdf.colour(colour))
        scale = run.size / face(run.weight).upm
        # self.place(glyph, (scale, 0, 0, -scale, x, run.baseline)), its constant part once
        head = f"q {scale:.6g} 0 0 {-scale:.6g} "
        tail = f" {run.baseline:.3f} cm\n/"
        names, glyph_form = self._names, self._shared.glyph_form
        for char, x in run.glyphs:
            glyph = glyph_form(run.weight, char)
            name = names.get(glyph)
            if name is None:
                name = names[glyph] = f"F{len(names)}"
                self.forms[name] = glyph
            self.content.append(f"{head}{x:.3f}{tail}{name} Do\nQ\n".encode("ascii"))

    def rect(self, x: float, y: float, w: float, h: float, colour: str) -> None:
        self.content.append(pdf.colour(colour) + pdf.rects([(x, y, w, h)]))


def _text_bbox(run: Run, width: float) -> tuple[float, float, float, float]:
    """A box that holds every glyph of ``run`` (set from x = 0): a form paints nothing outside."""
    pad = run.size * 0.5
    return (-pad, run.baseline - run.size * 1.3, width + pad, run.baseline + run.size * 0.5)


def display_pdf(
    info: MarkInfo,
    style: MarkStyle,
    art: Artwork,
    own: CertificateArt | None = None,
    forms: list[pdf.Form] | None = None,
) -> bytes:
    """The A4 sheet for service premises: the mark, who holds it, for what, until when.

    What other sheets show alike comes from ``art`` as forms; the holder's name, scope, dates,
    number and address are filled from the per-character glyph cache.
    """
    c = style.colour
    width, height = A4
    margin = SHEET_MARGIN
    text_width = width - 2 * margin
    page = _Page(art)
    page.show(art.sheet_header(info.standard))

    y = 56.0
    name_size = 9.5
    lines = wrap(info.name, "bold", name_size, text_width)
    if len(lines) > 2:
        name_size = 7.5
        lines = wrap(info.name, "bold", name_size, text_width)
    for line in lines:
        page.text(set_text(line, "bold", name_size, width / 2, y), c("text"))
        y += name_size * 1.3
    if info.name_en:
        y += -name_size * 1.3 + 7.5
        for line in wrap(info.name_en, "regular", 4.2, text_width):
            page.text(set_text(line, "regular", 4.2, width / 2, y), c("text"))
            y += 5.6
    y += 6

    own = own or CertificateArt.of(info, style)
    level = art.level(info.level)
    scale = SHEET_MARK_WIDTH / 100
    x = (width - SHEET_MARK_WIDTH) / 2
    page.show(level.form, x, y, scale)
    ink = pdf.colour(c("text")) + own.pdf()
    page.content.append(pdf.transformed((scale, 0, 0, scale, x, y), ink))
    y += level.height * scale + 12

    rows = [
        ("认证星级", "Level", [(f"{info.level_zh}  {info.level_en}", "bold", 4.2)], True),
        (
            "认证范围",
            "Scope",
            [(info.scope_zh, "bold", 4.2), (info.scope_en, "regular", 3.3)],
            False,
        ),
        ("有效期", "Validity", [(f"{info.issued} 至 {info.expires}", "bold", 4.2)], False),
        ("证书编号", "Certificate No.", [(info.number, "bold", 4.2)], False),
        ("认证依据", "Standard", [(info.standard, "bold", 4.2)], True),
    ]
    label_x, value_x = margin, margin + 36
    value_width = width - margin - value_x
    rule = 0.3
    page.rect(margin, y - 8, text_width, rule, c("primary"))
    for zh, en, values, shared in rows:
        page.show(art.sheet_label(zh, en), label_x, y)
        value_y = y
        for value, weight, size in values:
            for line in wrap(value, weight, size, value_width):
                if shared:  # the same on many sheets: a form
                    page.show(art.text_form(line, weight, size, c("text")), value_x, value_y)
                else:
                    run = set_text(line, weight, size, value_x, value_y, anchor="start")
                    page.text(run, c("text"))
                value_y += size * 1.5
        y = max(y + 11.0, value_y + 4.0)
    page.rect(margin, y - 3.5, text_width, rule, c("primary"))

    footer, verify_y = art.sheet_footer(info.body_name, info.body_name_en)
    page.show(footer)
    verify = f"{style.words['scan']}  {style.words['scan_en']}:  {info.url}"
    size = fit_size(verify, "bold", 3.6, text_width, 0.02)
    verify_run = set_text(verify, "bold", size, width / 2, verify_y, tracking=0.02)
    # The words and the site's address are on every sheet: a form; the number is this one's.
    common = verify[: verify.rfind(info.number)] if info.number in info.url else ""
    drawn = len(common) - sum(char.isspace() for char in common)
    if drawn:
        form = art.text_form(common, "bold", size, c("primary"), tracking=0.02)
        page.show(form, verify_run.glyphs[0][1], verify_y)
    rest = verify_run.glyphs[drawn:]
    page.text(Run(verify_run.weight, verify_run.size, verify_run.baseline, rest), c("primary"))

    title = f"{info.name} {info.level_zh} {style.words['scheme']} {info.number}"
    if forms is not None:  # what the sheet shows alike with others: shared parts (assembly.py)
        forms += page.forms.values()
    return pdffile.write_pdf(b"".join(page.content), page.forms, width, height, title)




class SheetForms:
    """What display sheets show alike, as PDF forms made once per process and style."""

    def __init__(self, style: MarkStyle) -> None:
        self.style = style
        self._forms: dict[tuple[Any, ...], Any] = {}
        self._glyphs: dict[tuple[str, str], pdf.Form] = {}  # (a sheet shows ~90)

    def _form(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        found = self._forms.get(key)
        if found is None:
            found = self._forms[key] = make()
        return found

    def text_form(
        self, text: str, weight: str, size: float, colour: str, tracking: float = 0.0
    ) -> pdf.Form:
        """One line of text as a form, its pen starting at (0, 0)."""

        def make() -> pdf.Form:
            run = set_text(text, weight, size, 0.0, 0.0, anchor="start", tracking=tracking)
            content = pdf.colour(colour) + run.pdf()
            return pdf.Form.of(content, _text_bbox(run, measure(text, weight, size, tracking)))

        return self._form(("text", text, weight, size, colour, tracking), make)

    def glyph_form(self, weight: str, char: str) -> pdf.Form:
        """One character's outline as a form, in font units (y up), filled in the current colour."""
        found = self._glyphs.get((weight, char))
        if found is None:
            font = face(weight)
            found = self._glyphs[(weight, char)] = pdf.Form.of(font.glyph(char).pdf, font.bbox)
        return found

    def sheet_label(self, zh: str, en: str) -> pdf.Form:
        """A row label of the display sheet, Chinese over English, at (0, 0)."""

        def make() -> pdf.Form:
            c = self.style.colour
            zh_run = set_text(zh, "bold", 4.0, 0.0, 0.0, anchor="start")
            en_run = set_text(en, "regular", 2.8, 0.0, 4.4, anchor="start")
            content = pdf.colour(c("primary")) + zh_run.pdf() + en_run.pdf()
            wide = max(measure(zh, "bold", 4.0), measure(en, "regular", 2.8))
            return pdf.Form.of(content, (-2.0, -5.5, wide + 2.0, 6.0))

        return self._form(("label", zh, en), make)

    def sheet_header(self, standard: str) -> pdf.Form:
        """The display sheet's header band (page coordinates)."""

        def make() -> pdf.Form:
            style, c = self.style, self.style.colour
            width = A4[0]
            words = style.words
            english = f"{words['scheme_en']} · {standard}"
            size = fit_size(english, "regular", 3.6, width - 2 * SHEET_MARGIN, 0.1)
            content = b"".join(
                [
                    pdf.colour(c("primary")),
                    pdf.rects([(0, 0, width, 36)]),
                    pdf.colour(c("accent")),
                    pdf.rects([(0, 36, width, 1.6)]),
                    pdf.colour(c("paper")),
                    set_text(words["scheme"], "bold", 11, width / 2, 19.5, tracking=0.18).pdf(),
                    pdf.colour(c("accent")),
                    set_text(english, "regular", size, width / 2, 28.5, tracking=0.1).pdf(),
                ]
            )
            return pdf.Form.of(content, (0.0, 0.0, width, 37.6))

        return self._form(("header", standard), make)

    def sheet_footer(self, body_name: str, body_name_en: str) -> tuple[pdf.Form, float]:
        """The notice and the body's name at the foot of the sheet, and where the address goes."""

        def make() -> tuple[pdf.Form, float]:
            c = self.style.colour
            width, height = A4
            text_width = width - 2 * SHEET_MARGIN
            body = f"{body_name}  {body_name_en}"
            yy = height - 8.0
            size = fit_size(body, "regular", 2.7, text_width)
            parts = [pdf.colour(c("primary")), set_text(body, "regular", size, width / 2, yy).pdf()]
            yy -= 6.0
            parts.append(pdf.colour(c("text")))
            for line in reversed(wrap(_NOTICE_EN, "regular", 2.5, text_width)):
                parts.append(set_text(line, "regular", 2.5, width / 2, yy).pdf())
                yy -= 3.5
            for line in reversed(wrap(_NOTICE, "regular", 2.9, text_width)):
                parts.append(set_text(line, "regular", 2.9, width / 2, yy).pdf())
                yy -= 4.2
            form = pdf.Form.of(b"".join(parts), (0.0, yy, width, height))
            return form, yy - 2.5

        return self._form(("footer", body_name, body_name_en), make)  # type: ignore[no-any-return]
