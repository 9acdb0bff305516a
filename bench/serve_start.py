"""From `assistant serve` to the first answered question, against loading the embedder alone.

Run: .venv/bin/python bench/serve_start.py [--store store] [--rounds 2] [--before]

Each case starts a fresh process and asks POST /v1/ask as soon as the port answers, until an
answer comes back; the baseline is a fresh process that loads the embedder and embeds one
question. Cases:

- serve on a copy of STORE (a collection already indexed), in use: the copy's files are
  flushed, dropped from the page cache and read back, as a store that has been read before is;
- serve on a copy just written and flushed: Chroma's first query on it took 2-4 s longer at
  100k papers here (not after the copy's pages are dropped and read back, nor on a second
  start). On this VM, whose kernel pages out memory idle for a minute, page cache included, it
  measures the machine's memory more than a first start after an ingest (a store of 150k chunks
  that Chroma had just written answered its first query in 0.5 s: docs/measurements.md);
- `serve --ingest data/` on an empty store (`make run` the first time: the answer comes while
  the sample collection is still being indexed, and says so);
- with --before, the old `make run`: `assistant ingest data/` on an empty store, then serve.

All in this run, on this machine; the ratio is each case over the baseline. For the 100k store
of bench/scale.py: ASSISTANT_EMBED__MODEL=minilm .venv/bin/python bench/serve_start.py
--store /tmp/assistant-scale/store
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

QUESTION = "Which papers prune LLM layers?"
EMBEDDER_ALONE = (
    "from assistant.config import Settings\n"
    "from assistant.embed import load_embedder\n"
    "load_embedder(Settings().embed).get_query_embedding('warm up')\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    # The embedder is kept: the 100k store of bench/scale.py is embedded with MiniLM.
    kept = {"ASSISTANT_EMBED__MODEL"}
    return {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_") or k in kept}


def _in_use(folder: Path) -> None:
    """Flush the copy, drop its pages from the cache and read them back (see the docstring)."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as file:
                os.fsync(file.fileno())
                os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with path.open("rb") as file:
                while file.read(1 << 24):
                    pass


def _embedder_alone() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", EMBEDDER_ALONE], check=True, env=_env())
    return time.perf_counter() - started


def _first_answer(store: Path, *extra: str, before: list[str] | None = None) -> tuple[float, str]:
    """Seconds from starting (``before`` first, if given) to the first answer; its caveat."""
    port = _free_port()
    cli = [sys.executable, "-m", "assistant", "--store", str(store)]
    started = time.perf_counter()
    if before:
        subprocess.run([*cli, *before], check=True, env=_env(), stderr=subprocess.DEVNULL)
    with subprocess.Popen(
        [*cli, "serve", "--port", str(port), *extra],
        env=_env(),
        stderr=subprocess.DEVNULL,
    ) as server:
        try:
            while server.poll() is None:
                try:
                    reply = httpx.post(
                        f"http://127.0.0.1:{port}/v1/ask", json={"question": QUESTION}, timeout=60
                    )
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                reply.raise_for_status()
                return time.perf_counter() - started, reply.json()["coverage"]["caveat"] or ""
            raise SystemExit(f"the server exited with {server.returncode}")
        finally:
            server.terminate()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=Path("store"))
    parser.add_argument("--data", type=Path, default=Path("data"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", action="store_true", help="also time the old make run")
    args = parser.parse_args()

    # The baseline is measured in each round beside the cases: this machine's speed drifts
    # between minutes (the same baseline measured 1.8-3.4 s on different runs).
    alone: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        used: list[float] = []
        written: list[float] = []
        note = ""
        for n in range(args.rounds):
            alone.append(_embedder_alone())
            copy = Path(tmp) / f"full{n}"
            shutil.copytree(args.store, copy)
            os.sync()  # the copy's writeback (1.8 GB at 100k papers) is not the server's time
            seconds, _ = _first_answer(copy)
            written.append(seconds)
            shutil.rmtree(copy)
            shutil.copytree(args.store, copy)
            _in_use(copy)
            seconds, note = _first_answer(copy)
            used.append(seconds)
            shutil.rmtree(copy)
            print(
                f"round {n}: embedder alone {alone[-1]:.1f} s, in use {used[-1]:.1f} s, "
                f"just written {written[-1]:.1f} s",
                flush=True,
            )
        base = statistics.median(alone)
        rows = [("load the embedder alone (baseline)", base, "")]
        rows.append((f"serve, {args.store} already indexed", statistics.median(used), note))
        rows.append(
            (f"serve, {args.store} just written (first start)", statistics.median(written), "")
        )
        times = []
        for n in range(args.rounds):
            seconds, note = _first_answer(Path(tmp) / f"empty{n}", "--ingest", str(args.data))
            times.append(seconds)
        rows.append((f"serve --ingest {args.data}, empty store", statistics.median(times), note))
        if args.before:
            seconds, note = _first_answer(Path(tmp) / "before", before=["ingest", str(args.data)])
            rows.append((f"ingest {args.data}, then serve (before)", seconds, note))
    print(f"| case (median of {args.rounds}) | to first answer | ratio | the answer's caveat |")
    print("|---|---|---|---|")
    for name, seconds, caveat in rows:
        print(f"| {name} | {seconds:.1f} s | {seconds / base:.1f}x | {caveat[:90]} |")


if __name__ == "__main__":
    main()
