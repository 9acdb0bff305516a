"""Time from pressing Enter in the browser to the first visible answer token, against the model
server's own time to first token, measured in the same run.

Run: .venv/bin/python bench/ui.py [--store DIR] [--runs 15]
Starts `assistant serve` (a subprocess) over an existing store with the OpenAI-compatible test
server as its model, drives Debian's Chromium with Playwright, and times in the page itself
(keydown to the first token appearing in the chat, by a MutationObserver).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from harness import percentiles, served_assistant

QUESTIONS = [  # questions the sample collection covers, so that the model is called
    "How does LSUV initialization work?",
    "Gumbel-TopK layer pruning of large language models",
    "Which papers study optimization dynamics at the edge of stability?",
    "marine mammal calls recorded in the St. Lawrence Estuary",
]
FIRST_WORD = "Zebrafish"  # the stub's reply starts with it; no source text does

WATCH = """(word) => { window.firstToken = new Promise((resolve) => {
  const box = document.querySelector('#question textarea');
  let start = 0;
  box.addEventListener('keydown', (e) => { if (e.key === 'Enter') start = performance.now(); },
                       {once: true});
  const chat = document.querySelector('#chat');
  const seen = new MutationObserver(() => {
    if (start && chat.innerText.includes(word)) {
      seen.disconnect(); resolve(performance.now() - start);
    }
  });
  seen.observe(chat, {childList: true, subtree: true, characterData: true});
  setTimeout(() => { seen.disconnect(); resolve(-1); }, 20000);
}); }"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    import openai
    from playwright.sync_api import sync_playwright

    ui: list[float] = []
    ttft: list[float] = []
    reply = f"{FIRST_WORD} answer from the sources [1]."
    with served_assistant(args.store, reply) as (url, stub):
        client = openai.OpenAI(base_url=stub.url, api_key="x", max_retries=0)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                ],
            )
            page = browser.new_page()
            page.goto(url + "/ui/")
            page.wait_for_selector("#question textarea", timeout=60000)
            for run in range(args.runs + 1):  # the first run warms up and is not counted
                page.locator("#new-chat").click()
                page.wait_for_timeout(300)
                page.evaluate(WATCH, FIRST_WORD)
                page.locator("#question textarea").fill(QUESTIONS[run % len(QUESTIONS)])
                page.locator("#question textarea").press("Enter")
                elapsed = float(page.evaluate("() => window.firstToken"))
                if elapsed < 0:
                    print(f"no answer token for {QUESTIONS[run % len(QUESTIONS)]!r}; skipped")
                    continue
                page.wait_for_selector("#chat a.cite", timeout=30000)
                started = time.perf_counter()
                stream = client.chat.completions.create(
                    model="stub", messages=[{"role": "user", "content": "hi"}], stream=True
                )
                next(iter(stream))
                stream.close()
                if run:
                    ui.append(elapsed)
                    ttft.append((time.perf_counter() - started) * 1000)
            browser.close()
    (ui_p50, ui_p95), (ttft_p50, _) = percentiles(ui), percentiles(ttft)
    print(f"{len(ui)} questions in Chromium")
    print(f"Enter -> first visible token: p50 {ui_p50:.0f} ms, p95 {ui_p95:.0f} ms")
    print(f"model server's own time to first token: p50 {ttft_p50:.1f} ms")
    print(
        f"ratio: p50 {ui_p50 / ttft_p50:.0f}x; our overhead p50 {ui_p50 - ttft_p50:.0f} ms "
        f"(goal <= 150 ms: {'met' if ui_p50 - ttft_p50 <= 150 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
