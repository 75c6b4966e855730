"""Feature cache: per-clip conditioning features (and codec latents) as safetensors.

`extract_manifest(manifest, out_dir)` writes `<out>/<id>.safetensors` holding
`semantic` [T8, 1280] (8 fps), `sync` [T25, D] (25 fps), `text` [4, 64, 384] (MiniLM token
states of the plan's four module texts, when the sample has a plan), `text_mask`, and
`latents` when a codec checkpoint is given. The header records the encoder settings; a file
whose header matches is skipped (idempotent, resumable); `shard=(i, n)` takes every n-th clip
so several processes split the work. Writes are atomic: a killed run leaves no partial file.
`reuse=DIR` takes the video and text features from an earlier cache made with the same
encoder settings and computes only the latents: changing the codec (for example adding its
pitch channels) costs an audio encode per clip, not a video one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from ..errors import ConfigError, MediaError
from ..fsutil import atomic_path, read_jsonl
from ..validate import excerpt

log = logging.getLogger(__name__)

CACHE_VERSION = 1


@dataclass
class ClipEntry:
    id: str
    video: Path
    audio: Path | None
    plan_texts: list[str] | None
    split: str | None = None


@dataclass
class ExtractConfig:
    semantic_fps: float = 8.0
    text_tokens: int = 64
    codec: str = ""  # codec checkpoint path; empty: no latents (audio is read at the codec's rate)


def read_manifest(path: str | Path, splits: list[str] | None = None) -> list[ClipEntry]:
    """Clips of a SynthCanvas manifest (or any JSONL with id, video[, audio, plan, split]);
    `splits`: keep only clips whose "split" is one of these."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.jsonl"
    if not path.is_file():
        raise MediaError(f"{path}: manifest not found")
    root = path.parent
    entries = []
    for n, d in read_jsonl(path):
        if "id" not in d or "video" not in d:
            raise ConfigError(f"{path}:{n}: each line needs 'id' and 'video'")
        for key in ("id", "video", "audio", "split"):  # paths and names: strings (or absent)
            if key in d and not (isinstance(d[key], str) and d[key]) and not (key == "id" and isinstance(d[key], int)):
                if key in ("audio", "split") and d[key] is None:
                    continue
                raise ConfigError(f"{path}:{n}: '{key}' must be a non-empty string, got {excerpt(d[key])}")
        texts = None
        if isinstance(d.get("plan"), dict):
            from ..planner.plan import Plan

            texts = list(Plan.from_dict(d["plan"], where=f"{path}:{n}: plan").module_texts().values())
        audio = root / d["audio"] if d.get("audio") else None
        entries.append(ClipEntry(str(d["id"]), root / d["video"], audio, texts, d.get("split")))
    if splits:
        entries = [e for e in entries if e.split in splits]
        if not entries:
            raise ConfigError(f"{path}: no clips in split(s) {', '.join(splits)}")
    return entries


def shard_of(entries: list, shard: tuple[int, int]) -> list:
    i, n = shard
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--shard: expected i/n with 0 <= i < n, got {i}/{n}")
    return [e for k, e in enumerate(sorted(entries, key=lambda e: e.id)) if k % n == i]


def header_for(cfg: ExtractConfig) -> dict:
    return {"version": CACHE_VERSION, **asdict(cfg)}


def read_header(path: Path) -> dict | None:
    """The cache header of a feature file (None: missing, damaged or not a cache file)."""
    if not path.is_file():
        return None
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = (f.metadata() or {}).get("prismaudio-cache")
        return json.loads(meta) if meta is not None else None
    except Exception:  # a damaged file is redone
        return None


def is_done(path: Path, header: dict) -> bool:
    return read_header(path) == header


VIDEO_AND_TEXT = ("semantic", "sync", "text", "text_mask")


def reusable_features(path: Path, header: dict) -> dict[str, torch.Tensor] | None:
    """The video and text features of an earlier cache file made with the same encoder settings
    (any codec), or None when there is no such file."""
    old = read_header(path)
    if old is None or {k: v for k, v in old.items() if k != "codec"} != {k: v for k, v in header.items() if k != "codec"}:
        return None
    from safetensors.torch import load_file

    return {k: v for k, v in load_file(str(path)).items() if k in VIDEO_AND_TEXT}


class Extractor:
    def __init__(self, cfg: ExtractConfig, sync=None):
        """`sync`: a SyncEncoder to use instead of the trained one (e.g. the tiny-random pipeline's)."""
        from .semantic import SemanticEncoder
        from .sync import SyncEncoder

        self.cfg = cfg
        self.semantic = SemanticEncoder(fps=cfg.semantic_fps)
        self.sync = sync if sync is not None else SyncEncoder()
        self._text = None
        self._codec = None
        if cfg.codec:
            try:
                from ..codec import StereoCodec  # imported only when latents are asked for
            except ImportError as e:
                raise ConfigError(f"--codec: the codec module is not available ({e})") from None
            self._codec = StereoCodec.load(cfg.codec)

    def features(self, entry: ClipEntry, reused: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """All features of a clip; those in `reused` (video and text, see reusable_features) are kept."""
        from .. import media

        if reused:
            out = dict(reused)
        else:
            out = {"semantic": self.semantic.encode_video(entry.video)[0]}
            out["sync"] = self.sync.encode_video(entry.video)[0]
        if entry.plan_texts and "text" not in out:
            if self._text is None:
                from .text import TextEncoder

                self._text = TextEncoder(max_tokens=self.cfg.text_tokens)
            states, mask = self._text.encode_with_mask(entry.plan_texts)
            out["text"], out["text_mask"] = states, mask.to(torch.uint8)
        if self._codec is not None:
            if entry.audio is None:
                raise MediaError(f"{entry.id}: no audio in the manifest, cannot encode codec latents")
            wave = media.read_audio(entry.audio, self._codec.sample_rate, channels=2)
            with torch.inference_mode():
                out["latents"] = self._codec.encode(wave[None])[0]  # [C, frames]
        return {k: v.contiguous().cpu() for k, v in out.items()}


def extract_manifest(manifest: str | Path, out_dir: str | Path, cfg: ExtractConfig | None = None,
                     shard: tuple[int, int] = (0, 1), extractor: Extractor | None = None,
                     splits: list[str] | None = None, reuse: str | Path | None = None) -> dict[str, int]:
    """Write missing feature files; returns counts of done/skipped/failed clips (and how many
    took their video and text features from the `reuse` folder)."""
    from safetensors.torch import save_file

    cfg = cfg or ExtractConfig()
    entries = shard_of(read_manifest(manifest, splits), shard)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    header = header_for(cfg)
    todo = [e for e in entries if not is_done(out_dir / f"{e.id}.safetensors", header)]
    counts = {"done": 0, "skipped": len(entries) - len(todo), "failed": 0, "reused": 0}
    if not todo:
        return counts
    extractor = extractor or Extractor(cfg)
    for entry in tqdm(todo, desc=f"extract {shard[0]}/{shard[1]}"):
        reused = reusable_features(Path(reuse) / f"{entry.id}.safetensors", header) if reuse else None
        counts["reused"] += reused is not None
        try:
            feats = extractor.features(entry, reused)
        except MediaError as e:
            log.error("%s", e)
            counts["failed"] += 1
            continue
        with atomic_path(out_dir / f"{entry.id}.safetensors") as tmp:
            save_file(feats, str(tmp), metadata={"prismaudio-cache": json.dumps(header)})
        counts["done"] += 1
    return counts
