"""`make screenshots`: phone and desktop screenshots of every page type, and the PDF's first page.

The sample trust is published as `make run` does it, through the `notices` CLI to an embedded
S3 (SeaweedFS) of its own in a temporary folder, twice (one school gets a new headteacher, so
an edition page and a "what changed" page exist). Each page is then fetched over HTTP in
Debian's Chromium with its own CSP in force, at 375 CSS px (a phone) and 1280 CSS px (a
desktop). The PDF's first page is drawn with pypdfium2. Everything lands in
templates/screenshots/, which the README shows. The server is stopped at the end by
`notices s3 stop` (by its PID).

Usage: python tests/tools/screenshots.py [--out templates/screenshots]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTICES = [str(Path(sys.executable).with_name("notices"))]
SLUG, OTHER = "oakfield-primary", "northgate-academy"
SIZES = {"phone": (375, 812), "desktop": (1280, 900)}


def _free_port() -> int:
    # `notices s3 start` uses the port and the next three: find four free in a row.
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and all(_is_free(port + i) for i in range(1, 4)):
            return port
    raise RuntimeError("no four free loopback ports in a row")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _notices(work: Path, *args: str) -> str:
    done = subprocess.run(
        [*NOTICES, *args],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "NOTICES_STATE_DIR": str(work / ".notices")},
    )
    if done.returncode != 0:
        raise SystemExit(f"notices {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def publish_sample(work: Path) -> dict[str, str]:
    """Publish the sample trust twice; page type → URL."""
    shutil.copytree(ROOT / "schools", work / "schools")
    shutil.copytree(ROOT / "shared_data", work / "shared_data")
    approver = ("--approved-by", "Alex Example (DPO)")
    _notices(work, "publish", "--prefix", "screens", *approver)
    school = work / "schools" / f"{SLUG}.yaml"
    school.write_text(school.read_text(encoding="utf-8").replace("Mr Sam Example", "Ms Jo Example"), encoding="utf-8")
    result = json.loads(_notices(work, "publish", "--prefix", "screens", "--school", SLUG, "--json", *approver))
    url = next(s["url"] for s in result["schools"] if s["slug"] == SLUG)
    base = url.rsplit("/", 1)[0]
    root = base.rsplit("/", 2)[0]
    return {
        "notice": f"{base}/index.html",
        "edition-notice": f"{base}/v1/index.html",
        "history": f"{base}/history.html",
        "changes": f"{base}/v2/changes.html",
        "trust-index": f"{root}/index.html",
        "error": f"{root}/error.html",
        "fragment": f"{base}/fragment.html",
        "pdf": f"{base}/notice.pdf",
    }


def _host_page(work: Path, fragment_url: str) -> str:
    """The fragment inside a plain school website page, as a file URL."""
    request = urllib.request.Request(fragment_url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        if response.headers.get("Content-Encoding") == "gzip":  # text objects are stored gzip-compressed
            body = gzip.decompress(body)
    fragment = body.decode("utf-8")
    host = work / "host.html"
    host.write_text(
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Our school: privacy</title></head>'
        f"<body><main><h1>Oakfield Primary School: privacy</h1>{fragment}</main></body></html>",
        encoding="utf-8",
    )
    return host.as_uri()


def shoot_pages(pages: dict[str, str], out: Path) -> list[Path]:
    """Screenshot each page at each size (the first screenful, as a visitor first sees it)."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))  # run as a script: make the tests package importable
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for kind, url in pages.items():
            for size, (width, height) in SIZES.items():
                context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
                page = context.new_page()
                page.goto(url)
                path = out / f"{kind}-{size}.png"
                page.screenshot(path=str(path))
                written.append(path)
                if kind == "notice" and size == "phone":  # a table, where phones used to struggle
                    page.evaluate("document.getElementById('sharing').scrollIntoView()")
                    path = out / f"{kind}-{size}-table.png"
                    page.screenshot(path=str(path))
                    written.append(path)
                context.close()
        browser.close()
    return written


def draw_pdf_page(pdf_url: str, out: Path) -> Path:
    """The PDF's first page at 100 dpi."""
    import pypdfium2

    with urllib.request.urlopen(pdf_url, timeout=30) as response:
        data = response.read()
    pdf = pypdfium2.PdfDocument(data)
    path = out / "pdf-page-1.png"
    pdf[0].render(scale=100 / 72).to_pil().save(path)
    pdf.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "templates" / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        work = Path(tmp)
        port = str(_free_port())
        _notices(work, "s3", "start", "--port", port)
        try:
            pages = publish_sample(work)
            pdf = pages.pop("pdf")
            pages["fragment"] = _host_page(work, pages["fragment"])
            written = [*shoot_pages(pages, args.out), draw_pdf_page(pdf, args.out)]
        finally:
            _notices(work, "s3", "stop")
    for path in written:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
