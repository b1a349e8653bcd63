"""A real server and a real Chromium for the browser tests.

The server is `flask run` in a subprocess on a free port, over a temporary SQLite file migrated, seeded with
the demo data and indexed through the same `flask` commands `make run` uses. Chromium is Debian's
/usr/bin/chromium driven by Playwright; no browser is ever downloaded. Without /usr/bin/chromium the
tests skip, except in CI (CI=true) where that is a failure."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live_server import free_port, stop, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Quiet, sandbox-free Chromium: this machine has no network beyond loopback and runs as root.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def _flask(args: list[str], env: dict, log: Path, timeout: int = 300) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=timeout)
    with log.open("a") as out:
        out.write(f"$ flask {' '.join(args)}\n{result.stdout}\n{result.stderr}\n")
    if result.returncode != 0:
        pytest.fail(f"`flask {' '.join(args)}` failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Base URL of a seeded, indexed shop served by `flask run`."""
    folder = tmp_path_factory.mktemp("live")
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "TEST_DATABASE_URL", "SHOP_ENV", "UPLOAD_DIR", "SEARCH_INDEX_DIR")}
    env.update(DATABASE_URL=f"sqlite:///{folder / 'shop.sqlite'}", INSTANCE_PATH=str(folder),
               SECRET_KEY="browser-test-secret", PYTHONUNBUFFERED="1")
    env.pop("FLASK_APP", None)  # .flaskenv says where the app is, as for `make run`
    log = folder / "commands.log"
    for command in (["db", "upgrade"], ["seed", "demo"], ["search", "reindex"]):
        _flask(command, env, log)

    port = free_port()
    server_log = (folder / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port),
                               "--no-reload", "--no-debugger"], cwd=ROOT, env=env, stdout=server_log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, folder / "server.log")
        yield base
    finally:
        stop(server)
        server_log.close()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"{CHROMIUM} is missing (apt-get install chromium); Playwright never downloads a browser here"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
