"""Bundling: marks.zip (every file of one certificate and its usage sheet) and the list of files.

Every file is stored in marks.zip as it is, byte for byte, so that the zip is those files plus
a few headers and the usage sheet (deflated by zipfile at ZIP_LEVEL 1), and the browser can
assemble it from the files it has (:mod:`.assembly`). Its entries are dated with the registry's
as-of date (:func:`dated`): the zip made here carries a placeholder date, and the date is set
where the zip is published or downloaded.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import struct
import zipfile
import zlib

from zlib_ng import zlib_ng

from .assembly import ASSEMBLED, PLACEHOLDER_DATE, dos_date, zip_date_offsets
from .info import MarkInfo
from .style import MarkStyle

ZIP_LEVEL = 1

MARK_FILES: tuple[tuple[str, str, str], ...] = (
    ("mark.svg", "矢量标志（印刷用）", "Vector mark (print)"),
    ("mark.png", "标志图片（网页用）", "Mark image (web)"),
    ("mark-print.png", "高分辨率标志图片（印刷用）", "High-resolution mark image (print)"),
    ("mark-mono.svg", "单色标志（黑）", "One-colour mark (black)"),
    ("mark-reverse.svg", "反白标志（深色底）", "Reversed mark (white, for dark backgrounds)"),
    ("qr.svg", "二维码（矢量）", "QR code (vector)"),
    ("qr.png", "二维码图片", "QR code (image)"),
    ("display.pdf", "证书展示页（A4，PDF）", "Display sheet (A4 PDF)"),
    ("marks.zip", "全部文件及使用说明（ZIP）", "All files with the usage sheet (ZIP)"),
)
USAGE_FILE = "usage.txt"
ARTWORK_TREE = "site-artwork"  # beside site/: the whole files, for an artwork origin


def downloads(style: MarkStyle) -> tuple[tuple[str, str, str, str], ...]:
    """What a certificate page offers: each file's name, its labels, and where it comes from:
    "file" (the page's folder), "assembled" (made in the browser, :mod:`.assembly`), or the
    artwork origin's ``<artwork_base_url>c/`` (then the number)."""
    if style.artwork_base_url:
        base = f"{style.artwork_base_url}c/"
        return tuple((name, zh, en, base) for name, zh, en in MARK_FILES)
    return tuple(
        (name, zh, en, "assembled" if name in ASSEMBLED else "file") for name, zh, en in MARK_FILES
    )


def zip_files(files: dict[str, bytes], folder: str) -> bytes:
    """A zip with sorted entries, fixed modes and the placeholder date: the same files give the
    same bytes. Everything but the usage sheet is stored.

    Written here, header by header, as :mod:`zipfile` writes it (:func:`zipfile_zip` is that,
    and ``tests/test_marks.py`` compares the two); names that are not ASCII are left to it."""
    if not folder.isascii() or not all(name.isascii() for name in files):
        return zipfile_zip(files, folder)
    local, central = [], []
    offset = 0
    date = dos_date(PLACEHOLDER_DATE)
    for name in sorted(files):
        data = files[name]
        arcname = f"{folder}/{name}".encode("ascii")
        if name == USAGE_FILE:
            compressor = zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, -15)
            body, method = compressor.compress(data) + compressor.flush(), zipfile.ZIP_DEFLATED
        else:
            body, method = data, zipfile.ZIP_STORED
        # version 2.0, no flags, method, DOS time and date, CRC-32, sizes, name, no extra
        fields = struct.pack(
            "<HH", 0, method
        ) + date + struct.pack("<LLLH", zlib_ng.crc32(data), len(body), len(data), len(arcname))
        local += [b"PK\x03\x04\x14\x00" + fields + b"\x00\x00" + arcname, body]
        # made by Unix 2.0, then as the local header, no comment, attributes rw-r--r--
        central.append(
            b"PK\x01\x02\x14\x03\x14\x00" + fields
            + struct.pack("<HHHHLL", 0, 0, 0, 0, 0o644 << 16, offset) + arcname
        )
        offset += 30 + len(arcname) + len(body)
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central),
                      len(directory), offset, 0)
    return b"".join(local) + directory + end


def zipfile_zip(files: dict[str, bytes], folder: str) -> bytes:
    """:func:`zip_files` by :mod:`zipfile`."""
    buffer = io.BytesIO()
    date = (*PLACEHOLDER_DATE.timetuple()[:3], 0, 0, 0)
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            entry = zipfile.ZipInfo(f"{folder}/{name}", date_time=date)
            packed = name != USAGE_FILE
            entry.compress_type = zipfile.ZIP_STORED if packed else zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 3
            archive.writestr(entry, files[name], compresslevel=None if packed else ZIP_LEVEL)
    return buffer.getvalue()


def dated(archive: bytes, day: dt.date) -> bytes:
    """``archive`` (from :func:`zip_files`) with every entry dated ``day``."""
    data = bytearray(archive)
    stamp = dos_date(day)
    for at in zip_date_offsets(archive):
        data[at : at + 4] = stamp
    return bytes(data)


def usage_text(info: MarkInfo, style: MarkStyle) -> str:
    """The short usage sheet that goes into marks.zip (Chinese first, then English)."""
    s, w = style.sizes, style.words
    minimum, recommended, letter = s["minimum_mm"], s["recommended_mm"], s["letter_mm"]
    clear = s["clear_space"]
    colours = "\n".join(
        f"  {col.zh} {col.en}: {col.hex}  CMYK {col.cmyk}"
        for key, col in style.colours.items()
        if key in ("primary", "accent", "text", "paper")
    )
    return f"""{w["scheme"]}标志使用说明 / Star mark usage sheet
证书编号 Certificate: {info.number}
持证企业 Holder: {info.name}{(" / " + info.name_en) if info.name_en else ""}
认证星级 Level: {info.level_zh} / {info.level_en}
核验地址 Verify: {info.url}

文件
  mark.svg          彩色矢量标志，印刷首选（所有文字均已转曲，无需字体）
  mark-mono.svg     单色（黑）标志，用于浅色底单色印刷
  mark-reverse.svg  反白标志，用于深色底；二维码保留白底
  mark.png          网页用图片
  mark-print.png    印刷用高分辨率图片（{recommended:g} mm 宽时 {s["print_dpi"]:g} dpi）
  qr.svg / qr.png   单独的二维码
  display.pdf       经营场所展示用 A4 证书展示页

尺寸
  最小宽度 {minimum:g} mm（此时标志上的大写字母、数字和汉字高度不小于 {letter:g} mm）。
  推荐宽度 {recommended:g} mm 及以上（标志上所有文字不小于 5 pt）。
  单独使用二维码时，含 4 模块空白区的边长不小于 {qr_minimum_mm(info, style):g} mm。
保护空间
  标志四周至少留出标志宽度的 {clear * 100:g}%（{minimum:g} mm 宽时为 {minimum * clear:.1f} mm），
  其中不得有文字、图形或裁切线。
颜色
{colours}
  单色印刷用 mark-mono.svg；深色底用 mark-reverse.svg。
正确使用
  按比例整体缩放；不得拉伸、旋转、裁切、改色、描边或加阴影；不得删改星级、证书编号或二维码；
  不得用于证书范围以外的产品或服务；二维码必须指向上述核验地址。
证书暂停、撤销、注销或过期时
  标志使用权随之终止：须立即停止在新印刷品、广告和经营场所使用标志，标志文件也将从登记网站撤下。

Files: mark.svg (colour vector, preferred for print; all text outlined), mark-mono.svg (one colour,
black), mark-reverse.svg (white, for dark backgrounds; the QR code keeps its light box), mark.png
(web), mark-print.png ({s["print_dpi"]:g} dpi at {recommended:g} mm), qr.svg / qr.png,
display.pdf (A4 sheet for premises).
Size: at least {minimum:g} mm wide (capitals, digits and Chinese then {letter:g} mm tall or more);
{recommended:g} mm or more is recommended (every word at least 5 pt). The QR code on its own,
quiet zone included: at least {qr_minimum_mm(info, style):g} mm.
Clear space: keep {clear * 100:g}% of the mark's width free on every side.
Colours: as listed above; match the CMYK values on press.
Use the mark whole and in proportion: do not stretch, rotate, crop, recolour, outline or shadow it,
and do not change the level, the number or the QR code. Use it only for the certified scope.
Suspension, withdrawal, cancellation or expiry of the certificate ends the right to use the mark:
stop using it at once; its files are removed from the registry.
"""


def qr_minimum_mm(info: MarkInfo, style: MarkStyle) -> float:
    """Smallest side of the QR code on its own: the module it has in the mark at the width where
    it is tested to decode (``sizes.qr_tested_mm``)."""
    return math.ceil(style.sizes["qr_tested_mm"] * style.layout["qr_width"] / 100)
