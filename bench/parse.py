"""Parsing bulk metadata: the arXiv snapshot format at two sizes, our reader against a bare
json.loads loop over the same file, records/s and peak memory per size.

"ours" streams the file through `parse.read_file` (what ingest reads with); "merged" is
`ingest.read_collection`, which keeps every merged Paper record for the store's plan.

Run: .venv/bin/python bench/parse.py [--sizes 10000 100000] [--work /tmp/parse-bench]

Each measurement runs in a fresh child process, so that its peak RSS is its own: the growth of
peak RSS over the process's RSS after imports is what reading the file cost.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
from pathlib import Path
mode, path = sys.argv[1], Path(sys.argv[2])
from assistant.parse import read_file
from assistant.ingest import read_collection
from assistant.records import Paper
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
if mode == "ours":
    count = sum(1 for item in read_file(path)[1] if isinstance(item, Paper))
elif mode == "merged":
    count = len(read_collection([path])[0])
else:
    with path.open() as handle:
        count = sum(1 for line in handle if json.loads(line).get("abstract"))
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"records": count, "seconds": seconds, "grew_mb": (peak - before) / 1024}))
"""


def _write_snapshot(path: Path, n: int) -> None:
    """``n`` arXiv-snapshot lines whose abstracts recombine the sample collection's sentences."""
    sys.path.insert(0, str(ROOT))
    from assistant.chunk import split_sentences
    from assistant.ingest import read_collection

    papers, _ = read_collection([ROOT / "data"])
    sentences = [s for p in papers for s in split_sentences(p.abstract)]
    rng = random.Random(0)
    with path.open("w") as out:
        for i in range(n):
            author = [rng.choice(["Smith", "Chen", "Garcia"]), rng.choice(["A.", "B."]), ""]
            record = {
                "id": f"{2000 + i // 100000}.{i % 100000:05d}",
                "title": f"Synthetic study {i} of "
                + " ".join(rng.sample(sentences, 1)[0].split()[:6]),
                "abstract": " ".join(rng.sample(sentences, 7)),
                "authors": "A. Smith",
                "authors_parsed": [author],
                "categories": rng.choice(["cs.LG", "cs.CL stat.ML", "cs.CV"]),
                "doi": None,
                "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
                "update_date": "2008-11-13",
            }
            out.write(json.dumps(record) + "\n")


def _run(mode: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/parse-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print(
        f"{'lines':>8} {'file MB':>8} {'ours rec/s':>11} {'raw rec/s':>10} {'ratio':>6} "
        f"{'ours +MB':>9} {'raw +MB':>8} {'merged +MB':>11}"
    )
    for n in args.sizes:
        path = args.work / f"arxiv-{n}.jsonl"
        if not path.exists():
            _write_snapshot(path, n)
        ours, raw, merged = _run("ours", path), _run("raw", path), _run("merged", path)
        assert ours["records"] == raw["records"] == merged["records"] == n, (ours, raw, merged)
        ours_rate, raw_rate = n / ours["seconds"], n / raw["seconds"]
        print(
            f"{n:>8} {path.stat().st_size / 2**20:>8.1f} {ours_rate:>11.0f} {raw_rate:>10.0f} "
            f"{raw_rate / ours_rate:>5.1f}x {ours['grew_mb']:>9.0f} {raw['grew_mb']:>8.0f} "
            f"{merged['grew_mb']:>11.0f}"
        )


if __name__ == "__main__":
    main()
