"""The stem generator as a StemEngine (engines/base.py): one mono stem per planned source.

All sources of a clip are sampled together as one batch. Each source is conditioned on its
own plan rows only: text "label: description", its event track, and an exemplar (the
request's recording for that source, else its class's entry in the exemplar bank, else none).
Stems come out unplaced and unnormalised; the spatial renderer places them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from ..engines.base import StemRequest
from ..errors import CheckpointError
from .exemplar import ExemplarBank, ExemplarError, check_exemplar, embed_waves
from .latent import MonoLatent, default_codec_path
from .model import StemConditions, StemDiT
from .pool import source_text
from .sampling import sample_latents
from .tracks import event_track, plan_events

log = logging.getLogger(__name__)
# where the flow starts from a source's template (template.py): the template's timbre and
# envelope are kept and the detail redrawn. 0.3 redrew too much of the timbre for the tiny
# generator: the class of a single-source clip was recognised in 70% of 40 test and 67% of 33
# val clips at 0.3, 79% of the val clips at 0.2 and 0.15, against 95% for the sketches
# themselves; plan-edit class changes on val 70% -> 82% at 0.15 (docs/stem-generator.md).
# From a sketch the engine takes max(2, round(num_steps x sigma)) steps: 2 at 0.15 as at 0.3.
DEFAULT_TEMPLATE_SIGMA = 0.15
# classifier-free guidance for a source started from its sketch: the sketch already says what
# the source is, and guidance extrapolates past it towards what the tiny model takes the text
# to mean. On the 22 plan-edit stems of bench_plan_edit's first 12 test clips (11 edited, 11
# controls) the class was kept in 19 of 22 at 1.0 (no extrapolation), 17 at 2.0, 16 at 3.0
# and 15 at 5.0 (the sketches themselves: 20). Sources from noise keep `cfg_strength`.
SKETCH_CFG_STRENGTH = 1.0
# The codec (sketch encoding, sketch detail, decoding) runs on one source at a time
# (MonoLatent.encode_each / decode_each); only the flow model samples a window's sources as one
# batch. Batched, the codec's arrays grew with a window's source count, so a long video's memory
# peak was set by its busiest window, and the heap's holes came in as many sizes as there were
# counts; one at a time they are the same few sizes in every window.
# the stem generator and its exemplar bank ship in the default model's bundle, with the codec
# they were trained on (recipe stage "stems")
ASSET_DIR = Path(__file__).resolve().parents[1] / "assets" / "models" / "tiny"


def default_model_path() -> Path:
    return ASSET_DIR / "stem_generator.safetensors"


def default_bank_path() -> Path:
    return ASSET_DIR / "exemplar_bank.safetensors"


def load_stem_model(path: str | Path) -> StemDiT:
    """A stem generator from a shipped file or a training checkpoint (EMA weights when present)."""
    from ..config import from_dict
    from ..train.checkpoint import load_checkpoint
    from .config import StemModelConfig
    from .trainer import CHECKPOINT_KIND

    ckpt = load_checkpoint(path, kind=CHECKPOINT_KIND)
    try:
        config = from_dict(StemModelConfig, ckpt.config, where=f"{path} config")
    except Exception as e:
        raise CheckpointError(f"{path}: stem generator config inside is invalid ({e})") from None
    model = StemDiT(config)
    try:
        model.load_state_dict(ckpt.group("ema") or ckpt.group("model"))
    except RuntimeError as e:
        raise CheckpointError(f"{path}: weights do not fit the config inside ({str(e).splitlines()[0][:120]})") from None
    return model.eval()


def _resample(wave: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return wave.astype(np.float32)
    from scipy.signal import resample_poly

    g = np.gcd(int(src), int(dst))
    return resample_poly(wave, dst // g, src // g).astype(np.float32)


class StemGeneratorEngine:
    name = "stem"  # the `generate --engine` name

    def __init__(self, model: StemDiT, latent: MonoLatent, bank: ExemplarBank | None = None, num_steps: int = 8,
                 cfg_strength: float = 3.0, template_engine=None, template_sigma: float = DEFAULT_TEMPLATE_SIGMA,
                 keep_detail: bool = True, sketch_cfg_strength: float = SKETCH_CFG_STRENGTH):
        """`template_engine`: a LibraryEngine that sketches each source from its exemplar, the
        sound library or the sound bank (template.py); `template_sigma`: the noise level the
        flow starts at from that sketch (1.0 or no engine: every source from pure noise);
        `keep_detail`: add back the sketch's detail the codec loses (detail.py);
        `sketch_cfg_strength`: the guidance of sources started from a sketch."""
        self.model = model.eval()
        self.latent = latent
        self.bank = bank
        self.num_steps = num_steps
        self.cfg_strength = cfg_strength
        self.template_engine = template_engine
        self.template_sigma = float(template_sigma)
        self.keep_detail = keep_detail
        self.sketch_cfg_strength = float(sketch_cfg_strength)
        self.model_path: Path | None = None  # where the weights came from (recorded in the saved plan)
        self._text_cache: dict[str, np.ndarray] = {}

    @classmethod
    def load(cls, model_path: str | Path | None = None, bank_path: str | Path | None = None, num_steps: int = 8,
             cfg_strength: float = 3.0, phase_iterations: int = 16, library=None,
             template_sigma: float = DEFAULT_TEMPLATE_SIGMA, codec=None) -> "StemGeneratorEngine":
        """`library`: a SoundLibrary the templates take recordings from (None: exemplars and
        the sound bank only). `codec`: a StereoCodec already loaded from the shipped codec file
        (a pipeline's, on the CPU), used instead of loading the same weights a second time."""
        from ..engines.library import LibraryEngine

        model_path = Path(model_path or default_model_path())
        if not model_path.is_file():
            raise CheckpointError(f"{model_path}: stem generator not found (train it: python -m prismaudio.stemgen.train)")
        bank_path = Path(bank_path or default_bank_path())
        bank = ExemplarBank.load(bank_path) if bank_path.is_file() else None
        templates = LibraryEngine(library) if template_sigma < 1.0 else None
        same = codec is not None and getattr(codec, "source_path", None) == default_codec_path().resolve() \
            and all(p.device.type == "cpu" for p in codec.parameters())
        latent = MonoLatent(codec, phase_iterations) if same else MonoLatent.load(phase_iterations=phase_iterations)
        engine = cls(load_stem_model(model_path), latent, bank, num_steps, cfg_strength, templates, template_sigma)
        engine.model_path = model_path.resolve()
        return engine

    def _texts(self, texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self._text_cache})
        if todo:
            from ..encoders.text import TextEncoder

            self._text_cache.update(zip(todo, TextEncoder().embed(todo).numpy()))
        return np.stack([self._text_cache[t] for t in texts])

    def exemplar_vectors(self, request: StemRequest) -> tuple[np.ndarray, np.ndarray]:
        """(embeddings [S, D], has-exemplar [S]) for the plan's sources, in plan order."""
        sources = request.plan.semantic.sources
        ids = {s.id for s in sources}
        unknown = sorted(set(request.exemplars) - ids)
        if unknown:
            raise ExemplarError(f"exemplar for unknown source id '{unknown[0]}' (plan sources: {', '.join(sorted(ids)) or 'none'})")
        dim = self.model.config.exemplar_dim
        vectors, have = np.zeros((len(sources), dim), np.float32), np.zeros(len(sources), bool)
        waves, rows = [], []
        for i, s in enumerate(sources):
            if s.id in request.exemplars:
                wave = check_exemplar(request.exemplars[s.id], request.sample_rate, f"exemplar of source '{s.id}'")
                waves.append(_resample(wave, request.sample_rate, self.latent.sample_rate))
                rows.append(i)
            elif self.bank is not None and (v := self.bank.get(s.label)) is not None:
                vectors[i], have[i] = v, True
        if waves:
            vectors[rows], have[rows] = embed_waves(waves, self.latent), True
        return vectors, have

    def conditions(self, request: StemRequest) -> StemConditions:
        plan = request.plan
        sources = plan.semantic.sources
        frames = self.latent.frames(int(round(request.duration * self.latent.sample_rate)))
        ex, have = self.exemplar_vectors(request)
        text = self._texts([source_text(s.label, s.description) for s in sources])
        track = np.stack([event_track(plan_events(plan, s.id), frames, self.latent.latent_rate) for s in sources])
        return StemConditions(torch.from_numpy(text).float(), torch.from_numpy(ex), torch.from_numpy(track),
                              torch.zeros(len(sources), dtype=torch.bool), torch.from_numpy(~have))

    @property
    def library(self):
        """The sound library the templates come from (None: exemplars and the sound bank)."""
        return getattr(self.template_engine, "library", None)

    def templates(self, request: StemRequest) -> dict[str, np.ndarray]:
        """source id -> template stem at request.sample_rate (template.py); {} when disabled."""
        if self.template_engine is None or self.template_sigma >= 1.0:
            return {}
        from .template import template_stems

        return template_stems(request, self.template_engine)

    def render_stems(self, request: StemRequest) -> dict[str, np.ndarray]:
        sources = request.plan.semantic.sources
        if not sources:
            return {}
        cond = self.conditions(request)
        frames = cond.track.shape[-1]
        n_codec = int(round(request.duration * self.latent.sample_rate))
        sketches = self.templates(request)
        quiet = silent_rows(cond.track, [s.id in sketches for s in sources])
        sketched = [i for i, s in enumerate(sources) if s.id in sketches]
        free = [i for i in range(len(sources)) if sources[i].id not in sketches and i not in quiet]
        latents = torch.zeros(len(sources), self.model.config.latent_channels, frames)
        waves = np.zeros((len(sources), n_codec), np.float32)
        if free:
            latents[free] = sample_latents(self.model, cond.select(free), frames, self.num_steps, self.cfg_strength,
                                           request.seed, rows=free)
            waves[free] = self.latent.decode_each(latents[free], n_codec)
        if sketched:
            drawn = np.stack([_resample(sketches[sources[i].id], request.sample_rate, self.latent.sample_rate)[:n_codec]
                              for i in sketched])
            drawn = np.pad(drawn, ((0, 0), (0, max(0, n_codec - drawn.shape[1]))))
            start = self.latent.encode_each(drawn)[..., :frames]
            steps = max(2, round(self.num_steps * self.template_sigma))  # the same step size over a shorter path
            latents[sketched] = sample_latents(self.model, cond.select(sketched), frames, steps,
                                               self.sketch_cfg_strength, request.seed, rows=sketched, start=start,
                                               start_sigma=self.template_sigma)
            # the codec cannot carry a sketch's fine timbre: its decoding error is added back (detail.py)
            waves[sketched] = self.latent.decode_each(latents[sketched], n_codec, *((drawn, start) if self.keep_detail else ()))
        out = {}
        for s, w in zip(sources, waves):
            w = _resample(w, self.latent.sample_rate, request.sample_rate)
            n = request.num_samples
            out[s.id] = np.pad(w, (0, max(0, n - len(w))))[:n].astype(np.float32)
        return out


def silent_rows(tracks: torch.Tensor, sketched: list[bool]) -> set[int]:
    """Rows (sources) whose stem is silence without running the model: an empty event track
    (no event sounds in the clip; on a long video, in this window) and no sketch to start
    from. The generator was trained to be silent where the track is: measured on 7 such
    sources of planned windows, its stems peaked at -84 dBFS or below (most exactly 0), for
    the price of a full flow from noise and a decode each, a fifth of a window's sources."""
    empty = (tracks.flatten(1).abs().amax(dim=1) == 0).tolist()
    return {i for i, (none, has) in enumerate(zip(empty, sketched)) if none and not has}
