"""Ingest throughput vs the raw embedder on the same texts, and re-ingest vs first ingest.

Run: .venv/bin/python bench/ingest.py [PATH ...]   (default: data/)
Both sides are measured in this run, on this machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assistant.config import Settings, StoreSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("data")])
    args = parser.parse_args()

    from assistant.chunk import chunk_paper
    from assistant.embed import load_embedder
    from assistant.ingest import ingest, read_collection

    papers, _ = read_collection(args.paths)
    base = Settings()
    texts = [c.embed_text(p.title) for p in papers for c in chunk_paper(p, base.chunk)]

    embedder = load_embedder(base.embed)  # loaded once: ingest below uses the same instance
    started = time.perf_counter()
    embedder.embed_texts(texts)
    raw_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        settings = base.model_copy(update={"store": StoreSettings(path=Path(tmp) / "store")})
        first = ingest(args.paths, settings)
        again = ingest(args.paths, settings)

    raw_rate = len(texts) / raw_s
    ingest_rate = first.embedded_chunks / first.seconds
    print(f"papers {len(papers)}, chunks {len(texts)}")
    print(f"raw embedder ({base.embed.model}) : {raw_s:7.2f} s  {raw_rate:6.1f} chunks/s")
    print(
        f"first ingest (parse..store): {first.seconds:7.2f} s  {ingest_rate:6.1f} chunks/s"
        f"  {len(papers) / first.seconds:6.1f} papers/s"
    )
    print(f"re-ingest (nothing changed): {again.seconds:7.2f} s  embedded {again.embedded_chunks}")
    print(f"ingest / raw embedder throughput: {ingest_rate / raw_rate:.2f}  (goal >= 0.8)")
    print(f"re-ingest / first ingest time:   {again.seconds / first.seconds:.3f} (goal <= 0.02)")


if __name__ == "__main__":
    main()
