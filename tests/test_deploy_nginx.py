"""The sample nginx configuration (deploy/nginx.conf) serves a site as `starmark deploy` does.

nginx runs on 127.0.0.1 and a free port with the shipped file, only its addresses, paths and
certificate lines replaced; the test fetches pages, data and a missing page.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.deploy import plan

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)

pytestmark = pytest.mark.skipif(
    NGINX is None and not os.environ.get("CI"),
    reason="nginx is not installed (Debian: nginx-light; .ci/run installs it)",
)

PAGE = "<!doctype html><html lang=zh><title>证书</title>" + "<p>示例数据 sample</p>" * 200

SITE = {
    "index.html": PAGE,
    "404.html": "<!doctype html><title>未找到 Not found</title>",
    "c/ASC-2025-000123/index.html": PAGE,
    "c/ASC-2025-000123/mark.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    "c/ASC-2025-000123/feed.xml": "<feed xmlns='http://www.w3.org/2005/Atom'/>",
    "feed.xml": "<feed xmlns='http://www.w3.org/2005/Atom'/>",
    "api/v1/certificates.json": "[]",
    "api/v1/certificates.csv": "number\n",
    "api/v1/checkpoint.txt": "registry\n1\nAAAA\n",
    "api/v1/checkpoint.json": "{}",
    "assets/stylesheets/main.57a0d79d.min.css": "body{}",
    ".git/config": "private",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def config(site: Path, work: Path, port: int) -> str:
    """The sample file with this test's address and folder, inside a minimal nginx.conf."""
    sample = SAMPLE.read_text(encoding="utf-8")
    sample = re.sub(r"(?ms)^server \{\n    listen 80;.*?^\}\n", "", sample)  # the https redirect
    sample = re.sub(r"(?m)^    listen 443 .*$", f"    listen 127.0.0.1:{port};", sample)
    sample = re.sub(r"(?m)^    (listen \[::\]|ssl_).*\n", "", sample)
    sample = re.sub(r"(?m)^    root .*$", f"    root {site};", sample)
    temp = " ".join(f"{kind}_temp_path {work / kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (
        f"daemon off; master_process off; pid {work / 'nginx.pid'};\n"
        f"error_log {work / 'error.log'};\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n default_type application/octet-stream;\n"
        f" access_log off;\n {temp}\n{sample}\n}}\n"
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("nginx")
    site = base / "site"
    for path, text in SITE.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(text, encoding="utf-8")
    port = free_port()
    conf = base / "nginx.conf"
    conf.write_text(config(site, base, port), encoding="utf-8")
    assert NGINX is not None
    checked = subprocess.run([NGINX, "-t", "-c", str(conf), "-p", str(base)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(base)])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize(
    "path",
    ["index.html", "c/ASC-2025-000123/index.html", "c/ASC-2025-000123/mark.svg",
     "c/ASC-2025-000123/feed.xml", "feed.xml", "api/v1/certificates.json",
     "api/v1/certificates.csv", "api/v1/checkpoint.txt", "api/v1/checkpoint.json",
     "assets/stylesheets/main.57a0d79d.min.css"],
)
def test_headers_are_those_a_deploy_sets(server: str, path: str) -> None:
    status, headers, _ = fetch(f"{server}/{path}")
    assert status == 200
    assert headers["Content-Type"] == plan.content_type(path)
    assert headers["Cache-Control"] == plan.cache_control(path)
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_pages_are_served_at_folder_urls_and_compressed(server: str) -> None:
    status, headers, body = fetch(f"{server}/c/ASC-2025-000123/")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).decode() == SITE["c/ASC-2025-000123/index.html"]


def test_a_missing_page_gets_the_registry_404_page(server: str) -> None:
    status, headers, body = fetch(f"{server}/c/ASC-2099-000001/")
    assert status == 404
    assert body.decode() == SITE["404.html"]


def test_no_folder_listing_and_no_dot_files(server: str) -> None:
    status, _, body = fetch(f"{server}/c/")
    assert status in (403, 404) and b"ASC-2025-000123" not in body
    assert fetch(f"{server}/.git/config")[0] == 403
