"""The not-found page: says whether a certificate number in the address is malformed, never issued
or a reported counterfeit, and what to do.

mkdocs renders ``theme/404.html`` (absolute URLs, because the page is served at any depth); the
plugin then replaces its marker with :func:`notfound_html`, which carries the registry's number
pattern and the reported counterfeit numbers for ``assets/starmark/notfound.js``. The script asks
for ``api/v1/certificates/<NUMBER>.json`` only when the address holds a well-formed number, so the
page never downloads the whole registry.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlsplit

from . import counterfeits
from .model import Registry

MARKER = "<!-- starmark:notfound -->"
# Python-only regex syntax that has no ES5 equivalent; a pattern using it is left to the server.
_NOT_ES5 = re.compile(r"\(\?P=|\(\?<[=!]|\(\?[aiLmsux]|\\[AZz]|\(\?#|\\N\{|\(\?>|[*+?}]\+")


def js_pattern(pattern: str) -> str | None:
    """The number pattern as an ES5 RegExp source that matches whole strings (like ``fullmatch``),
    with named groups dropped; None if it uses syntax that ES5 lacks."""
    if _NOT_ES5.search(pattern):
        return None
    return "^(?:" + re.sub(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>", "(", pattern) + ")$"


def base_path(site_url: str) -> str:
    """The site's path on its host ('/' or '/registry/'), for absolute links at any depth."""
    path = urlsplit(site_url).path or "/"
    return path if path.endswith("/") else path + "/"


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def notfound_html(registry: Registry) -> str:
    """The registry-specific part of the not-found page (every value escaped)."""
    s = registry.settings
    found = counterfeits.for_registry(registry)
    base = base_path(s.site_url)
    pattern = js_pattern(s.number.pattern)
    example = html.escape(s.number.example)
    data = {
        "data-sm-notfound": "",
        "data-base": base,
        "data-example": s.number.example,
        "data-counterfeits": json.dumps(sorted(found.number_set), ensure_ascii=False),
    }
    if pattern is not None:
        data["data-pattern"] = pattern
    attrs = " ".join(f'{k}="{_attr(v)}"' if v else k for k, v in data.items())
    num = "<code data-sm-number></code>"
    cf_url = _attr(base + counterfeits.PAGE_URL)
    search = _attr(base + "search/")
    verify = _attr(base + "verify/")
    home = _attr(base)
    site = html.escape(s.site_url)
    contact = counterfeits.contact_html(s)
    block = [
        f'<div class="sm-notfound" {attrs}>',
        f'<p data-sm-nf="checking" hidden>正在核对证书编号 {num} … '
        '<span lang="en">Checking the certificate number…</span></p>',
        '<div class="sm-warn sm-notfound__counterfeit" data-sm-nf="counterfeit" role="alert" '
        f"hidden><p><strong>编号 {num} 已被举报为假冒证书编号。</strong>"
        "本机构从未颁发该编号的证书，带有该编号的证书或认证标志都是假冒的。"
        f'<a href="{cf_url}">已举报的假冒证书与仿冒网站</a><br>'
        '<span lang="en"><strong>This number has been reported as a counterfeit.</strong> The '
        "certification body never issued it: any certificate or mark that carries it is fake. "
        f'<a href="{cf_url}">Reported counterfeits</a></span></p></div>',
        f'<p data-sm-nf="malformed" hidden>地址中的 {num} 不是本机构的证书编号：本机构的编号形如 '
        f"<code>{example}</code>。请核对二维码或标志上印的编号；编号不对，标志就不是本机构颁发的。<br>"
        f'<span lang="en">{num} is not a certificate number of this body, whose numbers look like '
        f"<code>{example}</code>. Check the number printed on the mark or next to the QR code: a "
        "mark with another kind of number was not issued by this body.</span></p>",
        f'<p data-sm-nf="unissued" hidden>编号 {num} 格式正确，但本机构<strong>从未颁发</strong>'
        "这一编号的证书。带有该编号的证书或标志不是本机构颁发的。<br>"
        f'<span lang="en">{num} is a well-formed number, but this body <strong>never issued'
        "</strong> a certificate with it. A certificate or mark carrying it was not issued by "
        "this body.</span></p>",
        f'<p data-sm-nf="issued" hidden>证书 {num} 在本登记库中：<a data-sm-link href="{home}">'
        f'打开证书页面</a>。<span lang="en">Certificate {num} is in this registry: '
        f'<a data-sm-link href="{home}">open its page</a>.</span></p>',
        f'<p data-sm-nf="unknown" hidden>暂时无法核对编号 {num}。请稍后重试，或在'
        f'<a href="{search}">查询页面</a>输入编号。<span lang="en">The number {num} cannot be '
        f'checked right now. Try again later, or enter it on the <a href="{search}">search page'
        "</a>.</span></p>",
        '<h2>该怎么办 <span lang="en">What to do</span></h2>',
        "<ul>",
        f"<li>核对浏览器地址是否以 <code>{site}</code> 开头，编号是否与标志上印的一致。"
        f'<span lang="en">Check that the address starts with <code>{site}</code> and that the '
        "number matches the one printed on the mark.</span></li>",
        f'<li>在<a href="{search}">查询页面</a>按编号或企业名称查找。<span lang="en">Look the '
        f'certificate up by number or enterprise name on the <a href="{search}">search page</a>.'
        "</span></li>",
        f"<li>如怀疑证书或标志是假冒的，请保留照片和网址并联系认证机构：{contact}。"
        '<span lang="en">If you suspect a counterfeit, keep photos and the address, and contact '
        f'the certification body.</span> <a href="{verify}#counterfeit">如何核验 <span lang="en">'
        f'How to verify</span></a> · <a href="{cf_url}">已举报的假冒 <span lang="en">Reported '
        "counterfeits</span></a></li>",
        "</ul>",
        "</div>",
    ]
    return "\n".join(block)


def fill(output: str, registry: Registry) -> str:
    """mkdocs' rendered 404.html with the marker replaced (for the plugin's on_post_template)."""
    return output.replace(MARKER, notfound_html(registry), 1)
