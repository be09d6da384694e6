"""A person's rerun from the Prefect UI, in Debian's Chromium: Run → Custom run → one school.

Real parts only: `prefect server start` and `notices serve` in their own processes on
loopback, SeaweedFS from the session fixture, Playwright driving /usr/bin/chromium.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .support.browser import CHROMIUM_ARGS, _require_browser
from .support.web import read_body

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.browser


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen, sig: int = signal.SIGINT) -> None:
    """Stop a process we started, and the children it started, by its PID (its own group)."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def ui_stack(seaweed, tree: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    _require_browser()
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = dict(
        os.environ,
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_API_URL=api,
        PREFECT_UI_API_URL=api,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        NOTICES_STATE_DIR=str(Path(seaweed.state_dir).parent),
        NOTICES_S3_BUCKET=seaweed.bucket,
        NOTICES_S3_PREFIX="ui",
        NOTICES_SCHOOLS=str(tree / "schools"),
        NOTICES_SHARED_DATA=str(tree / "shared_data"),
    )
    logs = {name: open(tmp_path / f"{name}.log", "wb") for name in ("server", "serve")}  # noqa: SIM115
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=logs["server"],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    serve = None
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{api}/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError((tmp_path / "server.log").read_text()[-2000:]) from None
                time.sleep(0.5)
        serve = subprocess.Popen(
            [str(BIN / "notices"), "serve"],
            env=env,
            stdout=logs["serve"],
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=tree,
        )
        deadline = time.monotonic() + 90
        while b'"rerun"' not in _post(api, "/deployments/filter", {}):
            assert time.monotonic() < deadline and serve.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            time.sleep(0.5)
        yield {"ui": f"http://127.0.0.1:{port}", "api": api}
    finally:
        if serve is not None:
            _stop(serve)
        _stop(server, signal.SIGTERM)
        for log in logs.values():
            log.close()


def _post(api: str, path: str, body: dict) -> bytes:
    request = urllib.request.Request(
        api + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def test_custom_run_of_one_school_from_the_ui_publishes_its_new_edition(ui_stack, seaweed, tree: Path) -> None:
    from playwright.sync_api import sync_playwright

    from flows.notice.prepare import load_and_compose

    from tests.support.publishing import _publish

    before = _publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data", only=("oakfield-primary",)), "ui")
    url = before.schools[0].url
    path = tree / "schools" / "oakfield-primary.yaml"
    path.write_text(path.read_text().replace("Mr Sam Example", "Ms Jo Example"), encoding="utf-8")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.goto(ui_stack["ui"] + "/deployments")
        page.get_by_role("link", name="rerun").first.click()
        page.get_by_role("button", name="Run", exact=True).click()
        page.get_by_text("Custom run").click()
        page.get_by_role("button", name="Add item").click()
        page.locator("textarea").last.fill("oakfield-primary")  # Schools: one list item
        page.get_by_role("button", name="Submit").click()
        # 60 s: on a 2-CPU CI machine mid-suite the submit round trip once took over 30 s
        page.wait_for_url("**/deployments/deployment/*?tab=Runs", timeout=60000)
        browser.close()

    deadline = time.monotonic() + 180
    run = None
    while time.monotonic() < deadline:
        runs = [r for r in json.loads(_post(ui_stack["api"], "/flow_runs/filter", {})) if r["name"] == "rerun-oakfield-primary"]
        if runs and runs[0]["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            run = runs[0]
            break
        time.sleep(1)
    assert run is not None and run["state_type"] == "COMPLETED", run
    assert run["parameters"]["params"]["schools"] == ["oakfield-primary"]
    assert b"Ms Jo Example" in read_body(url, timeout=10)
    latest = json.loads(read_body(url.replace("index.html", "latest.json"), timeout=10))
    assert latest["edition"] == 2 and latest["change_class"] == "minor"
