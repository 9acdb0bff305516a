"""100k synthetic abstracts: resumable ingest (papers/s, peak RSS, store size), then hybrid and
filtered search against a raw Chroma query in the same run, and a projection to 1M and 10M.

Run: .venv/bin/python bench/scale.py [--papers 100000] [--work /tmp/scale] [--kill-at 0.5]

1. Writes the collection once as JSONL files under WORK/collection: abstracts of 6-9 sentences
   recombined from the sample collection's, with rare words swapped in so that BM25 postings grow
   as in a real collection; titles, authors, dates, venues and categories drawn like the sample's.
2. Times the bundled MiniLM embedder on 2,000 of those chunks: the embedding rate of this machine.
3. Runs `ingest()` (parse, merge, chunk, upsert in batches, BM25, calibration) in a child process
   that kills itself with SIGKILL when KILL_AT of the papers are committed, then runs it again to
   resume, and checks that every paper is stored exactly once. Embedding 100k abstracts with
   MiniLM takes 1.5-2.5 h on 2 cores, so these runs embed with `ReplayEmbedding`: each chunk gets
   the real vector of the sample chunks its sentences came from, plus noise. Ingest time with
   real embedding = pipeline time + chunks / the embedding rate of step 2.
4. Times hybrid search (real MiniLM query embedding, BM25, fusion, coverage verdict) and filtered
   searches against a raw Chroma top-10 query given the vector, on the same store.
The store is embedded with `minilm` (ASSISTANT_EMBED__MODEL=minilm), the model for collections
this size: the default MPNet embeds about 4x slower.
Re-running reuses the collection and the store (the ingest resumes or finds nothing to do).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from harness import percentiles

from assistant.config import EmbedSettings, Settings, StoreSettings
from assistant.embed import MINILM_NAME, MiniLMEmbedding

FILES = 10
SAMPLE_CHUNKS = 2000


def _settings(work: Path) -> Settings:
    # MiniLM: the model for collections this size (MPNet would embed for about 8 h here).
    return Settings(store=StoreSettings(path=work / "store"), embed=EmbedSettings(model="minilm"))


def _sentence_vectors(sample_dir: Path, work: Path) -> dict[str, np.ndarray]:
    """Each sample sentence, with the real MiniLM vector of the chunk it belongs to (cached)."""
    from assistant.chunk import chunk_paper
    from assistant.ingest import read_collection

    cache = work / "sentences.npz"
    if cache.exists():
        saved = np.load(cache, allow_pickle=False)
        return dict(zip(saved["sentences"].tolist(), saved["vectors"], strict=True))
    sample, _ = read_collection([sample_dir])
    embedder = MiniLMEmbedding()
    found: dict[str, np.ndarray] = {}
    for paper in sample:
        chunks = chunk_paper(paper, Settings().chunk)
        vectors = embedder.embed_batch([c.embed_text(paper.title) for c in chunks])
        for chunk, vector in zip(chunks, vectors, strict=True):
            for sentence in _sentences(chunk.text):
                if len(sentence.split()) >= 6:
                    found.setdefault(sentence, vector)
    np.savez(cache, sentences=np.array(list(found)), vectors=np.stack(list(found.values())))
    return found


def _sentences(text: str) -> list[str]:
    return [s.strip().rstrip(".") + "." for s in text.split(". ") if s.strip()]


class ReplayEmbedding(MiniLMEmbedding):
    """Vectors without running the model: the mean of the real vectors of the sample sentences a
    text contains, plus noise (sigma 0.02 per dimension), unit length. Search timings depend on
    the number and spread of vectors, not on what they mean."""

    def __init__(self, sentences: dict[str, np.ndarray]) -> None:
        super().__init__()
        self._replay = sentences
        self._noise = np.random.default_rng(7)
        self._fallback = np.stack(list(sentences.values()))

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            known = [self._replay[s] for s in _sentences(text) if s in self._replay]
            if not known:
                known = [self._fallback[self._noise.integers(len(self._fallback))]]
            vector = np.mean(known, axis=0) + self._noise.normal(0, 0.02, size=known[0].shape)
            rows.append(vector / np.linalg.norm(vector))
        return np.asarray(rows, dtype=np.float32)


def write_collection(sample_dir: Path, target: Path, papers: int) -> None:
    """PAPERS synthetic records in FILES JSONL files (skipped when they exist)."""
    from assistant.ingest import read_collection

    if target.exists() and len(list(target.glob("*.jsonl"))) == FILES:
        return
    sample, _ = read_collection([sample_dir])
    pool = [s for p in sample for s in _sentences(p.abstract) if len(s.split()) >= 6]
    vocabulary = sorted({w for s in pool for w in s.split() if w.isalpha() and len(w) > 6})
    title_words = [w for p in sample for w in p.title.split() if w.isalpha()]
    rng = random.Random(7)
    staging = target.with_suffix(".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    per_file = papers // FILES
    for f in range(FILES):
        with (staging / f"part-{f:02d}.jsonl").open("w") as handle:
            for i in range(f * per_file, (f + 1) * per_file):
                sentences = rng.sample(pool, rng.randint(6, 9))
                for _ in range(2):  # a rare word in a couple of sentences, as real abstracts have
                    k = rng.randrange(len(sentences))
                    words = sentences[k].split()
                    words[rng.randrange(len(words))] = rng.choice(vocabulary) + rng.choice("xyzqk")
                    sentences[k] = " ".join(words)
                template = rng.choice(sample)
                record: dict[str, Any] = {
                    "title": f"{' '.join(rng.sample(title_words, 6))} {i}",
                    "abstract": " ".join(sentences),
                    "authors": [
                        f"Author{rng.randrange(20000)} Synth" for _ in range(rng.randint(1, 6))
                    ],
                    "date": f"{rng.randint(2015, 2026)}-{rng.randint(1, 12):02d}",
                    "venue": template.venue,
                    "categories": template.categories,
                }
                handle.write(json.dumps(record) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def embedding_rate(collection: Path) -> tuple[float, float]:
    """Chunks per second of the real embedder on this machine, on the synthetic chunks, and
    how much memory (MB) the model's working buffers took on top of the loaded model: the
    ingest runs below replay vectors, so this is added to their peak."""
    from assistant.chunk import chunk_paper
    from assistant.parse import parse_file

    papers = parse_file(next(iter(sorted(collection.glob("*.jsonl"))))).papers
    texts = [
        c.embed_text(p.title)
        for p in papers[:SAMPLE_CHUNKS]
        for c in chunk_paper(p, Settings().chunk)
    ][:SAMPLE_CHUNKS]
    embedder = MiniLMEmbedding()
    embedder.embed_texts(texts[:16])  # load and warm up
    loaded = _rss_mb()
    started = time.perf_counter()
    embedder.embed_texts(texts)
    return len(texts) / (time.perf_counter() - started), _rss_mb() - loaded


def ingest_child(work: Path, sample_dir: Path, kill_at: float, batch: int) -> None:
    """One ingest run (in its own process, so that its peak RSS is its own); prints JSON."""
    from assistant.ingest import ingest

    settings = _settings(work)
    embedder = ReplayEmbedding(_sentence_vectors(sample_dir, work))
    marks: dict[str, float] = {"base_rss_mb": _rss_mb()}
    phase = ["parse + plan"]
    phase_peaks: dict[str, float] = {}

    def sample() -> None:  # the peak of each phase, sampled: VmHWM only knows the whole run
        while True:
            phase_peaks[phase[0]] = max(phase_peaks.get(phase[0], 0.0), _rss_mb())
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done == 0:
            marks["planned"] = time.perf_counter() - started
            marks["todo"] = total
            phase[0] = "chunk + upsert"
        if done == total:
            phase[0] = "store read + BM25"
        marks["stored"] = time.perf_counter() - started
        if kill_at and total and done >= kill_at * total:
            print(json.dumps({"killed_after": done, "todo": total}), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    def calibrating(done: int, total: int) -> None:
        marks.setdefault("indexed", time.perf_counter() - started)
        phase[0] = "calibration"

    report = ingest(
        [work / "collection"],
        settings,
        batch_papers=batch,
        on_progress=progress,
        on_calibrate=calibrating,
        embedder=embedder,
    )
    marks["total"] = time.perf_counter() - started
    peak = _rss_mb("VmHWM")
    print(
        json.dumps(
            {
                "added": report.added,
                "unchanged": report.unchanged,
                "chunks": report.embedded_chunks,
                "peak_rss_mb": peak,
                "phase_peaks_mb": phase_peaks,
                **marks,
            }
        ),
        flush=True,
    )


def _run_child(args: argparse.Namespace, kill_at: float) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--work",
        str(args.work),
        "--sample",
        str(args.sample),
    ]
    cmd += ["--kill-at", str(kill_at), "--batch", str(args.batch)]
    run = subprocess.run(cmd, capture_output=True, text=True)
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    if not lines:
        sys.exit(f"ingest child failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return lines[-1]


def _rss_mb(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmHWM: its peak so far), in MB. Not ru_maxrss,
    which also counts the process this one was forked from."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def check_store(work: Path, papers: int) -> tuple[int, int, int]:
    """(papers stored, duplicated paper ids, papers missing chunks)."""
    from collections import Counter

    from assistant.store import open_store

    with open_store(_settings(work).store, MINILM_NAME) as store:
        stored = store.stored_papers()
        listed = Counter(p.paper_id for p in store.papers())
    return (
        len(stored),
        sum(1 for n in listed.values() if n > 1),
        sum(1 for s in stored.values() if not s.complete),
    )


def search_timings(work: Path, questions: list[str]) -> dict[str, tuple[float, float]]:
    """p50/p95 ms of a raw Chroma query (vector given), hybrid search and filtered searches."""
    from assistant.records import Filters
    from assistant.retrieve import Retriever
    from assistant.store import open_store

    settings = _settings(work)
    timings: dict[str, list[float]] = {}

    def timed(name: str, call: Any) -> None:
        started = time.perf_counter()
        call()
        timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)

    embedder = MiniLMEmbedding()
    embedder.get_query_embedding("warm up")
    base = _rss_mb()  # the model and libraries, before the collection is loaded
    with (
        Retriever(settings, embedder) as retriever,
        open_store(settings.store, MINILM_NAME) as store,
    ):
        retriever.search("warm up")
        author = retriever.lexical().papers[123].authors[0]
        filters = {
            "filtered: one author": Filters(author=author),
            "filtered: since 2024 (a quarter)": Filters(since="2024"),
            "filtered: 2019 only (a twelfth)": Filters(since="2019", until="2019"),
            "filtered: March 2019 (0.7 %)": Filters(since="2019-03", until="2019-03"),
        }
        for f in filters.values():
            retriever.search("warm up", 10, f)  # the first use of a filter scans every paper
        for question in questions:
            vector = retriever.embedder.get_query_embedding(question)
            timed("raw Chroma top-10 (vector given)", lambda: store.query(vector, 10))  # noqa: B023
            # The embedder remembers the questions it embedded; each timed search embeds its own.
            retriever.embedder.forget()
            timed("hybrid search, top 10", lambda: retriever.search(question, 10))  # noqa: B023
            for name, f in filters.items():
                retriever.embedder.forget()
                timed(name, lambda: retriever.search(question, 10, f))  # noqa: B023
        rss = _rss_mb("VmHWM")
    result = {name: percentiles(samples) for name, samples in timings.items()}
    result["search process RSS MB (base, peak)"] = (base, rss)
    return result


def _questions(count: int) -> list[str]:
    """``count`` questions: the dev questions, repeated as needed."""
    questions_file = Path(__file__).parents[1] / ".." / "shared/eval/dev_questions.jsonl"
    if questions_file.exists():
        questions = [
            json.loads(line)["question"] for line in questions_file.read_text().splitlines()
        ]
    else:
        questions = ["diffusion models for robot control", "layer pruning of language models"]
    return (questions * (count // len(questions) + 1))[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/assistant-scale"))
    parser.add_argument("--sample", type=Path, default=Path("data"))
    parser.add_argument("--batch", type=int, default=32, help="papers per commit (CLI default)")
    parser.add_argument("--kill-at", type=float, default=0.5, help="0 to not interrupt")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--search-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.child:
        ingest_child(args.work, args.sample, args.kill_at, args.batch)
        return
    if args.search_child:  # its own process, so that its memory is the search's alone
        print(json.dumps(search_timings(args.work, _questions(args.queries))))
        return

    started = time.perf_counter()
    write_collection(args.sample, args.work / "collection", args.papers)
    size = _size_mb(args.work / "collection")
    seconds = time.perf_counter() - started
    print(f"collection: {args.papers} papers, {size:.0f} MB of JSONL ({seconds:.0f} s)")
    rate, working_mb = embedding_rate(args.work / "collection")
    print(
        f"MiniLM on this machine ({os.cpu_count()} cores): {rate:.0f} chunks/s, "
        f"{working_mb:.0f} MB of working memory above the loaded model"
    )
    _sentence_vectors(args.sample, args.work)

    runs = []
    if args.kill_at:
        first = _run_child(args, args.kill_at)
        if "killed_after" in first:
            print(f"ingest killed (SIGKILL) after {first['killed_after']}/{first['todo']} papers")
        runs.append(first)
    final = _run_child(args, 0)
    runs.append(final)
    measured = args.work / "ingest.json"
    if final["added"]:
        measured.write_text(json.dumps(runs))
    elif measured.exists():  # nothing left to ingest: report the run that built the store
        print("(the store was complete already: ingest figures are from the run that built it)")
        runs = json.loads(measured.read_text())
        final = runs[-1]
    stored, duplicated, partial = check_store(args.work, args.papers)
    print(
        f"resumed ingest: {final['added']} added, {final['unchanged']} already stored; "
        f"store holds {stored} papers, {duplicated} duplicated, {partial} missing chunks"
    )
    pipeline_s = final.get("stored", 0) - final.get("planned", 0)
    papers_done = max(final["added"], 1)
    print(
        f"  parse + plan {final.get('planned', 0):.0f} s; chunk + upsert {pipeline_s:.0f} s for "
        f"{final['added']} papers ({papers_done / max(pipeline_s, 1e-9):.0f} papers/s without "
        f"embedding); BM25 {final.get('indexed', 0) - final.get('stored', 0):.0f} s; "
        f"calibration {final['total'] - final.get('indexed', final['total']):.0f} s; "
        f"total {final['total']:.0f} s"
    )
    chunks_per_paper = final["chunks"] / papers_done if final["added"] else 1.3
    embed_s = args.papers * chunks_per_paper / rate
    fixed_s = final["total"] - pipeline_s  # parse, BM25 and calibration: once per run
    with_embedding = args.papers / (pipeline_s / papers_done * args.papers + fixed_s + embed_s)
    print(
        f"  {chunks_per_paper:.2f} chunks/paper; with real embedding: {embed_s / 3600:.1f} h "
        f"embedding, {with_embedding:.1f} papers/s overall"
    )
    replayed = max(r.get("peak_rss_mb", 0) for r in runs)
    peak = replayed + working_mb
    store_mb = _size_mb(args.work / "store")
    print(
        f"  peak RSS {replayed:.0f} MB with replayed vectors + {working_mb:.0f} MB for the real "
        f"model = {peak:.0f} MB (goal <= 2048); store {store_mb:.0f} MB on disk"
    )
    phases = final.get("phase_peaks_mb", {})
    print("  peak RSS by phase (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in phases.items()))

    cmd = [sys.executable, __file__, "--search-child", "--work", str(args.work)]
    search = subprocess.run(
        [*cmd, "--queries", str(args.queries)],
        capture_output=True,
        text=True,
    )
    if search.returncode != 0:
        sys.exit(f"search child failed ({search.returncode}):\n{search.stderr[-3000:]}")
    timings = json.loads(search.stdout.strip().splitlines()[-1])
    raw_p50, raw_p95 = timings["raw Chroma top-10 (vector given)"]
    print(f"search over {stored} papers, {args.queries} queries (ms):")
    for name, (p50, p95) in timings.items():
        if "MB" in name:
            print(f"  {name}: {p50:.0f}, {p95:.0f}")
            continue
        print(
            f"  {name:36s} p50 {p50:7.1f}  p95 {p95:7.1f}  ratio to raw p50 {p50 / raw_p50:4.1f}x "
            f"p95 {p95 / raw_p95:4.1f}x"
        )

    print("projection (memory above the model's base and disk grow linearly with papers):")
    search_base, search_peak = timings["search process RSS MB (base, peak)"]
    ingest_base = final.get("base_rss_mb", 0)
    for n in (1_000_000, 10_000_000):
        scale = n / args.papers
        hours = n * chunks_per_paper / (rate / (os.cpu_count() or 1)) / 3600
        search_gb = (search_base + (search_peak - search_base) * scale) / 1024
        ingest_gb = (ingest_base + working_mb + (replayed - ingest_base) * scale) / 1024
        print(
            f"  {n:>10,} papers: disk {store_mb * scale / 1024:6.1f} GB, search RAM "
            f"{search_gb:6.1f} GB, ingest RAM {ingest_gb:6.1f} GB, embedding "
            f"{hours:5.0f} core-hours"
        )


if __name__ == "__main__":
    main()
