"""The Dagster UI in a real browser: headless Chromium (Playwright) against dagster-webserver.

A session fixture generates a small synthetic population, materialises the master source's
raw asset (which runs its source checks) into a temporary DAGSTER_HOME and DL_DATA_DIR, and starts
the webserver on a free loopback port in its own process group, stopped by `os.killpg`.
Screenshots go to `test-artifacts/` (git-ignored) for CI to keep.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
STATUS = re.compile(r"\b(Succeeded|Failed|Warning|Passed)\b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout_s:.0f}s")


def stop(process: subprocess.Popen) -> None:
    """Stop the webserver and its code server: the whole process group, politely then firmly."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def ui(tmp_path_factory):
    """Base URL of a webserver over a demo run of the raw assets and their checks."""
    from dl_platform.synthetic.generate import generate

    source = master_source()

    root = tmp_path_factory.mktemp("browser")
    data_dir, home = root / "data", root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    generate(300, 11, data_dir)
    env = {**os.environ, "DL_DATA_DIR": str(data_dir), "DAGSTER_HOME": str(home)}
    port = free_port()
    log = open(root / "webserver.log", "w")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-m", "dl_platform.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        # Materialise while the webserver starts; a blocking check may fail the run, which is fine.
        run = subprocess.run(
            [str(BIN / "dagster"), "asset", "materialize", "-m", "dl_platform.definitions", "--select", f"raw/{source}"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
        )
        assert "ASSET_CHECK_EVALUATION" in run.stdout + run.stderr, (run.stdout + run.stderr)[-3000:]
        wait_for(f"http://127.0.0.1:{port}/server_info", server, timeout_s=240)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)
        log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def open_page(page, url: str) -> None:
    """Open a UI page and wait until its data has loaded (the UI polls, so idle means loaded)."""
    page.goto(url, wait_until="networkidle")
    skip = page.get_by_role("button", name="Skip")  # the first-visit community dialog
    if skip.count():
        skip.first.click()


def master_source() -> str:
    """The registry's master source (else its first): the source whose checks the UI test opens."""
    from dl_platform.settings import get_settings
    from dl_platform.sources.registry import load_registry

    registry = load_registry(get_settings().sources_file)
    return (registry.master or next(iter(registry))).name


def expected_groups() -> dict[str, list[str]]:
    """Each asset group in the code location and its asset keys (from `defs`, not hard-coded)."""
    from dl_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    groups: dict[str, list[str]] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            groups.setdefault(node.group_name, []).append(key.to_user_string())
    return groups


def test_asset_graph_shows_every_stage_group(ui, page):
    groups = expected_groups()
    assert {"raw", "quality"} <= set(groups)
    open_page(page, f"{ui}/asset-groups")
    for group in groups:
        page.get_by_text(group, exact=True).filter(visible=True).first.wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / "asset_graph.png"))


def test_an_asset_of_every_group_opens(ui, page):
    for group, keys in sorted(expected_groups().items()):
        key = min(keys)
        open_page(page, f"{ui}/assets/{key}")
        page.get_by_text(key.split("/")[-1], exact=True).first.wait_for(state="visible")
        assert "not found" not in page.inner_text("body").lower()
        page.screenshot(path=str(ARTIFACTS / f"asset_{group}.png"))


def test_source_checks_tab_shows_results(ui, page):
    from dl_platform.quality.source_checks import CATALOGUE

    source = master_source()
    open_page(page, f"{ui}/assets/raw/{source}?view=checks")
    try:
        page.get_by_text(f"Checks ({len(CATALOGUE)})").first.wait_for(state="visible")
    finally:
        page.screenshot(path=str(ARTIFACTS / f"checks_raw_{source}_list.png"))
    body = page.inner_text("body")
    for check in CATALOGUE:
        assert check.name in body
    assert len(STATUS.findall(body)) >= len(CATALOGUE), body[:2000]
    page.get_by_text("volume_vs_previous_delivery", exact=True).first.click()
    page.get_by_text("Evaluation result").first.wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / f"checks_raw_{source}.png"))
