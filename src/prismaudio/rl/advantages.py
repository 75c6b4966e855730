"""Group-relative advantages for several rewards, two ways (../shared/docs/method.md section 5).

    reward-sum  (the public PrismAudio code): R = sum_k w_k r_k;  A = (R - mean_g R) / (std_g R + 1e-4)
    per-reward  (MixGRPO's advantage aggregation): A = sum_k w_k (r_k - mean_g r_k) / (std_g r_k + 1e-8)

then A is clamped to [-clip, clip]. std is the population std (ddof 0) as in Flow-GRPO's
tracker. Samples with a non-finite reward are left out of their group's statistics and get
no advantage; a group whose advantages are all zero (every sample scored the same, or only
one valid sample) gives no update and is counted. Arithmetic in float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

SUM_EPS = 1e-4
PER_REWARD_EPS = 1e-8


@dataclass
class AdvantageResult:
    advantages: torch.Tensor  # [B] float32, 0 where not trained
    trained: torch.Tensor  # [B] bool: valid sample in a group that carries signal
    invalid: torch.Tensor  # [B] bool: some reward was NaN/inf (dropped)
    num_invalid: int
    num_flat_groups: int  # groups dropped because all their advantages were zero
    num_groups: int


def _normalise(values: torch.Tensor, valid: torch.Tensor, groups: torch.Tensor, eps: float) -> torch.Tensor:
    out = torch.zeros_like(values)
    for g in groups.unique():
        sel = (groups == g) & valid
        if int(sel.sum()) < 2:
            continue
        v = values[sel]
        if bool((v == v[0]).all()):
            continue  # all equal: exactly zero advantage (not rounding noise / eps)
        out[sel] = (v - v.mean()) / (v.std(unbiased=False) + eps)
    return out


def group_advantages(
    rewards: dict[str, torch.Tensor], groups: torch.Tensor, weights: dict[str, float],
    mode: str = "reward-sum", clip: float = 5.0,
) -> AdvantageResult:
    """Advantages of B samples from their K rewards (each [B]) and group ids [B]."""
    missing = [k for k in weights if k not in rewards]
    if missing:
        raise KeyError(f"no reward named {', '.join(missing)} (have {', '.join(rewards)})")
    names = [k for k in weights if weights[k] != 0]
    r = torch.stack([rewards[k].detach().double().cpu() for k in names], dim=1)  # [B, K]
    w = torch.tensor([weights[k] for k in names], dtype=torch.float64)
    groups = groups.cpu()
    valid = torch.isfinite(r).all(dim=1)
    r = torch.where(torch.isfinite(r), r, torch.zeros_like(r))
    if mode == "reward-sum":
        adv = _normalise((r * w).sum(dim=1), valid, groups, SUM_EPS)
    elif mode == "per-reward":
        adv = sum(w[k] * _normalise(r[:, k], valid, groups, PER_REWARD_EPS) for k in range(len(names)))
    else:
        raise ValueError(f"unknown advantage mode {mode!r} (reward-sum or per-reward)")
    adv = adv.clamp(-clip, clip)
    trained = torch.zeros_like(valid)
    flat = 0
    unique = groups.unique()
    for g in unique:
        sel = groups == g
        if bool((adv[sel] == 0).all()):
            flat += 1
        else:
            trained |= sel & valid
    return AdvantageResult(
        advantages=adv.float(), trained=trained, invalid=~valid, num_invalid=int((~valid).sum()),
        num_flat_groups=flat, num_groups=len(unique),
    )


@dataclass
class GroupStatTracker:
    """Running per-conditioning statistics (Flow-GRPO's per-prompt tracker, for logging):
    how often each conditioning was seen, its latest composite reward mean/std, and totals
    of dropped samples and flat groups."""

    seen: dict[str, int] = field(default_factory=dict)
    last_mean: dict[str, float] = field(default_factory=dict)
    last_std: dict[str, float] = field(default_factory=dict)
    total_invalid: int = 0
    total_flat_groups: int = 0

    def update(self, keys: list[str], composite: torch.Tensor, groups: torch.Tensor, result: AdvantageResult) -> None:
        """`keys[g]` names the conditioning of group id g; composite [B] the weighted reward sum."""
        for g in groups.unique().tolist():
            sel = (groups == g) & ~result.invalid
            key = keys[g]
            self.seen[key] = self.seen.get(key, 0) + 1
            vals = composite[sel].double()
            self.last_mean[key] = float(vals.mean()) if len(vals) else float("nan")
            self.last_std[key] = float(vals.std(unbiased=False)) if len(vals) else float("nan")
        self.total_invalid += result.num_invalid
        self.total_flat_groups += result.num_flat_groups

    def stats(self) -> dict[str, float]:
        return {
            "tracker/conditionings_seen": float(len(self.seen)),
            "tracker/mean_visits": float(sum(self.seen.values()) / max(1, len(self.seen))),
            "tracker/total_invalid_samples": float(self.total_invalid),
            "tracker/total_flat_groups": float(self.total_flat_groups),
        }

    def state_dict(self) -> dict:
        return {"seen": self.seen, "last_mean": self.last_mean, "last_std": self.last_std,
                "total_invalid": self.total_invalid, "total_flat_groups": self.total_flat_groups}

    def load_state_dict(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)
