"""The screenshots in docs/screenshots/: the page at 1366x900 as a new user sees it.

Run: .venv/bin/python docs/screenshots.py [--store store] [--data data]
Serves a copy of STORE with no model configured (the default), drives Debian's Chromium, and
saves what a user sees first, after a cited answer, in Compare and in Collection; then serves an
empty store with `--ingest DATA` and saves the page while the collection is being indexed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

OUT = Path(__file__).parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"


@contextmanager
def served(store: Path, *extra: str) -> Iterator[str]:
    """`assistant serve` over ``store`` until its page is mounted; yields its URL."""
    with socket_port() as port:  # free now; uvicorn binds it a moment later
        pass
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "OPENAI_"))}
    cmd = [sys.executable, "-m", "assistant", "--store", str(store), "serve", "--port", str(port)]
    server = subprocess.Popen([*cmd, *extra], env=env, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while server.poll() is None:
            try:
                if httpx.get(url + "/healthz", timeout=30).json()["ui"] == "ready":
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait()


@contextmanager
def socket_port() -> Iterator[int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def shoot(tab: Any, name: str) -> None:
    tab.wait_for_timeout(500)  # let transitions settle; a picture, not a test
    tab.screenshot(path=str(OUT / name))
    print("wrote", OUT / name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument("--data", type=Path, default=Path("data"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        copy = Path(tmp) / "store"
        shutil.copytree(args.store, copy)
        with served(copy) as url:
            tab = browser.new_page(viewport={"width": 1366, "height": 900})
            tab.goto(url + "/ui/")
            tab.wait_for_selector("#question textarea", timeout=60000)
            tab.wait_for_function("document.querySelector('#heading').innerText.includes('papers')")
            shoot(tab, "1-chat-first-view.png")
            box = tab.locator("#question textarea")
            box.fill("How does LSUV initialization work?")
            box.press("Enter")
            tab.wait_for_function(
                "document.querySelector('#sources').innerText.includes('cited by')", timeout=60000
            )
            shoot(tab, "2-chat-cited-answer.png")
            tab.get_by_role("tab", name="Compare").click()
            tab.locator("#compare-prompt textarea").fill("Compare SOAP and MARS")
            tab.locator("#compare-go").click()
            tab.wait_for_selector("#compare-table table", timeout=60000)
            shoot(tab, "3-compare.png")
            tab.get_by_role("tab", name="Collection").click()
            tab.wait_for_function("document.querySelector('#count').innerText.includes('papers')")
            shoot(tab, "4-collection.png")
        with served(Path(tmp) / "empty", "--ingest", str(args.data)) as url:
            tab = browser.new_page(viewport={"width": 1366, "height": 900})
            tab.goto(url + "/ui/")
            tab.wait_for_function(
                "(document.querySelector('#heading')?.innerText || '').includes('indexing')",
                timeout=60000,
            )
            tab.get_by_role("tab", name="Collection").click()
            tab.wait_for_function(
                "document.querySelector('#ingest-status').innerText.includes('read')"
            )
            shoot(tab, "5-collection-while-indexing.png")
        browser.close()


if __name__ == "__main__":
    main()
