"""Work we add before the model's first token (condense, retrieve, prompt), against the server's
own time to first token, measured in the same run against the OpenAI-compatible test server.

Run: .venv/bin/python bench/answer.py [--store DIR] [--questions FILE]
Uses an existing store (default store/). The test server answers instantly, so its time to first
token is the HTTP round trip alone: the ratio is an upper bound of our share of the wait.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from pathlib import Path

from harness import ROOT, percentiles

from assistant.config import LLMSettings, Settings, StoreSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument(
        "--questions", type=Path, default=ROOT.parent / "shared/eval/dev_questions.jsonl"
    )
    args = parser.parse_args()

    import openai

    from assistant.answer import Answerer, Final
    from assistant.evaluate import load_questions
    from tests.openai_stub import Reply, serve

    questions = [q.question for q in load_questions(args.questions) if q.gold_titles]
    server_gen = serve()
    server = next(server_gen)
    settings = Settings(
        store=StoreSettings(path=args.store),
        llm=LLMSettings(base_url=server.url, model="stub", max_retries=0),
    )
    answerer = Answerer(settings)
    client = openai.OpenAI(base_url=server.url, api_key="x", max_retries=0)
    reply = "The sources say so [1]."
    server.script(Reply(content=reply))
    answerer.ask("warm up the embedder and indexes")

    ours: list[float] = []
    per_stage: dict[str, list[float]] = {}
    first_token: list[float] = []
    server_ttft: list[float] = []
    refused = 0
    for question in questions:
        server.script(Reply(content=reply))
        answer = None
        for event in answerer.stream(question):
            if isinstance(event, Final):
                answer = event.answer
        assert answer is not None
        if answer.refused:
            refused += 1
            continue
        stages = answer.receipt.stage_ms
        ours.append(stages["condense"] + stages["retrieve"] + stages["prompt"])
        for name in ("condense", "retrieve", "prompt"):
            per_stage.setdefault(name, []).append(stages[name])
        first_token.append(stages["first_token"])
        server.script(Reply(content=reply))
        started = time.perf_counter()
        stream = client.chat.completions.create(
            model="stub", messages=[{"role": "user", "content": question}], stream=True
        )
        for _ in stream:
            server_ttft.append((time.perf_counter() - started) * 1000)
            break
        stream.close()
    answerer.close()
    o50, o95 = percentiles(ours)
    f50, f95 = percentiles(first_token)
    s50, s95 = percentiles(server_ttft)
    rows = [
        ("our work before the request (condense+retrieve+prompt)", o50, o95),
        ("request to first token through our client", f50, f95),
        ("test server's own time to first token (raw client)", s50, s95),
    ]
    print(f"{len(ours)} answered questions ({refused} refused before any model call)")
    for label, p50, p95 in rows:
        print(f"{label:<56} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    print(f"ratio ours / server TTFT: p50 {o50 / s50:.1f}x  p95 {o95 / s95:.1f}x")
    for name, times in per_stage.items():
        s50, s95 = percentiles(times)
        print(f"  {name:<9} p50 {s50:6.1f} ms  p95 {s95:6.1f} ms")
    print(f"goal: our p95 <= 100 ms: {'met' if o95 <= 100 else 'NOT met'}")
    with contextlib.suppress(StopIteration):
        next(server_gen)


if __name__ == "__main__":
    main()
