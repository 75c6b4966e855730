"""Render one planned sample to its files and return its manifest line (worker side)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import from_dict
from ..media import write_audio, write_video
from .backgrounds import choose_background, render_background
from .choreography import make_scene
from .degrade import DESCRIPTIONS, KINDS, degrade, measure_snr_db
from .manifest import CanvasEvent, CanvasSample, CanvasSource, Degradation, Track
from .manifest import class_from_dict
from .options import CanvasConfig
from .reference import reference_plan
from .render_audio import render_audio
from .render_video import render_frames
from .sampler import IN_DIST_SPEED, OOD_SPEED, SampleSpec
from .soundbank import SoundBank

log = logging.getLogger(__name__)


class SampleRenderer:
    """Per-process state: the config, the classes and a sound bank (soundfont loaded once)."""

    def __init__(self, cfg: dict, classes: list[dict], outdir: str, soundfont: str | None):
        self.cfg = from_dict(CanvasConfig, cfg)
        self.classes = {d["name"]: class_from_dict(d) for d in classes}
        self.sprites = {name: c.sprite for name, c in self.classes.items()}
        self.outdir = Path(outdir)
        self.bank = SoundBank(self.cfg.sample_rate, soundfont)

    def render(self, spec: SampleSpec) -> dict:
        cfg, out = self.cfg, self.outdir
        sr, W, H, fps = cfg.sample_rate, cfg.width, cfg.height, cfg.fps
        scene_rng, sound_rng, degrade_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(3))
        ood = spec.group == "ood"
        speed = float(scene_rng.uniform(*(OOD_SPEED if ood else IN_DIST_SPEED)))
        background = choose_background(scene_rng, ood)
        scene = make_scene(scene_rng, [self.classes[n] for n in spec.classes], W, H, fps, cfg.duration, speed, spec.group == "single")
        audio, events, mix_gain = render_audio(scene, self.classes, self.bank, sound_rng, cfg.duration)

        audio_rel = f"audio/{spec.id}.wav"
        write_audio(out / audio_rel, audio, sr)
        degradations = []
        if degrade_rng.random() < cfg.degraded_fraction:
            kind = str(degrade_rng.choice(KINDS))
            wave, params, target = degrade(audio, kind, degrade_rng, sr)
            rel = f"degraded/{spec.id}.{kind}.wav"
            write_audio(out / rel, wave, sr)
            ref_written, _ = sf.read(str(out / audio_rel), dtype="float64", always_2d=True)
            deg_written, _ = sf.read(str(out / rel), dtype="float64", always_2d=True)
            snr = round(measure_snr_db(ref_written, deg_written), 3)
            degradations.append(Degradation(kind, rel, params, snr, target, DESCRIPTIONS[kind]))

        frames = render_frames(scene, render_background(background, W, H), self.sprites, cfg.emoji_font)
        video_rel = f"video/{spec.id}.mp4"
        write_video(out / video_rel, frames, fps)

        sources = []
        for s in scene.sprites:
            x, y = scene.normalised(s)
            track = Track(np.round(x, 4).tolist(), np.round(y, 4).tolist(), np.round(s.scale, 4).tolist(), s.visible.tolist())
            sources.append(CanvasSource(s.source_id, s.class_name, s.kind, s.style, self.sprites[s.class_name], track))
        plan = reference_plan(scene, events, self.classes, cfg.duration)
        sample = CanvasSample(
            id=spec.id, split=spec.split, group=spec.group, seed=spec.seed, duration=cfg.duration, sample_rate=sr,
            fps=fps, size=(H, W), num_frames=scene.num_frames, video=video_rel, audio=audio_rel,
            background=background, speed=round(speed, 4), sources=sources,
            events=[CanvasEvent(e.source, round(e.onset, 6), round(e.offset, 6), e.kind, e.frame, e.end_frame, e.visual, e.key, e.velocity)
                    for e in events],
            plan=plan, plan_text=plan.module_texts(), degradations=degradations, ood_factors=list(spec.ood_factors),
            mix_gain=round(mix_gain, 6),
        )
        return sample.to_dict()
