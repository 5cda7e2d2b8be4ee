"""QR codes: exact URL, level Q, smallest version, 4-module quiet zone, two independent decoders.

The symbols are made by zxing-cpp; the ``qrcode`` library is the independent judge of "smallest":
no segmentation it can make fits a smaller version.
"""

from __future__ import annotations

import io

import cairosvg
import cv2
import numpy as np
import pytest
import qrcode
import qrcode.exceptions
import zxingcpp
from PIL import Image

from generator import qr

# qrcode's ``optimize`` argument: the shortest run of digits / upper-case characters worth a
# segment of its own (0: one byte segment for the whole URL).
SEGMENT_MINIMUMS = (0, 1, 2, 3, 4, 6, 8, 12, 16, 20)

URLS = [
    "https://registry.example.org/c/ASC-2025-000123/",
    "https://registry.example.org/c/ASC-2026-999999/",
    "https://a.example/c/X-1/",
    "https://www.example-certification-centre.com.cn/public/registry/c/ASC-2025-000123/",
]


def decode_both(image: Image.Image) -> tuple[list[str], str]:
    """The texts that zxing-cpp and OpenCV read from ``image`` (on white)."""
    rgba = image.convert("RGBA")
    flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    flat.alpha_composite(rgba)
    gray = flat.convert("L")
    zxing = [r.text for r in zxingcpp.read_barcodes(gray)]
    opencv = cv2.QRCodeDetector().detectAndDecode(np.array(gray))[0]
    return zxing, opencv


@pytest.mark.parametrize("url", URLS)
def test_png_decodes_to_exact_url_with_both_decoders(url: str) -> None:
    zxing, opencv = decode_both(Image.open(io.BytesIO(qr.qr_png(url))))
    assert zxing == [url]
    assert opencv == url


@pytest.mark.parametrize("url", URLS)
def test_svg_rasterised_decodes(url: str) -> None:
    svg = qr.qr_svg(url)
    assert "<text" not in svg
    png = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=400)
    zxing, opencv = decode_both(Image.open(io.BytesIO(png)))
    assert zxing == [url]
    assert opencv == url


@pytest.mark.parametrize("url", URLS)
def test_level_q_and_smallest_version(url: str) -> None:
    code = qr.symbol(url)
    assert code.error_correction == "Q"
    result = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.qr_png(url))))[0]
    assert result.ec_level == "Q"
    extra = result.extra
    assert isinstance(extra, dict) and int(extra["Version"]) == code.version
    assert code.size == 17 + 4 * code.version
    if code.version > 1:
        for minimum in SEGMENT_MINIMUMS:
            smaller = qrcode.QRCode(
                version=code.version - 1, error_correction=qrcode.constants.ERROR_CORRECT_Q
            )
            smaller.add_data(url, optimize=minimum)
            with pytest.raises(qrcode.exceptions.DataOverflowError):
                smaller.make(fit=False)


def test_sample_url_fits_version_4() -> None:
    """The registry's URLs fit 33 × 33 modules at Q, as M would without segmenting."""
    assert qr.symbol("https://registry.example.org/c/ASC-2025-000123/").version == 4


def test_quiet_zone_is_four_modules() -> None:
    url = URLS[0]
    code = qr.symbol(url)
    image = Image.open(io.BytesIO(qr.qr_png(url, module_px=1))).convert("L")
    pixels = np.array(image)
    assert image.size == (code.size + 8, code.size + 8)
    border = np.concatenate(
        [pixels[:4].ravel(), pixels[-4:].ravel(), pixels[:, :4].ravel(), pixels[:, -4:].ravel()]
    )
    assert border.min() == 255
    assert pixels[4, 4] == 0  # the finder pattern starts right after the quiet zone
    assert f'viewBox="0 0 {code.size + 8} {code.size + 8}"' in qr.qr_svg(url)


def test_png_and_svg_print_at_the_same_size_and_png_is_reproducible() -> None:
    for url in URLS:
        png = qr.qr_png(url, size_mm=25)
        assert png == qr.qr_png(url, size_mm=25)
        assert b"tIME" not in png
        image = Image.open(io.BytesIO(png))
        inches = image.width / image.info["dpi"][0]
        assert abs(inches * 25.4 - 25) < 0.01, url
        assert 'width="25mm" height="25mm"' in qr.qr_svg(url, size_mm=25)
