"""Render one planned PhysWorld clip to its files and return its manifest line (worker side).

Files: video/<id>.mp4, audio/<id>.wav (the stereo reference, rendered by the canvas's
reference renderer from the ground truth), physics/<id>.json (the simulator's full ground
truth: every impact with partner, speed, impulse and peak force, rolling / sliding spans,
objects, camera and per-frame world positions). The manifest line is SynthCanvas's format.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ...config import from_dict
from ...fsutil import atomic_path
from ...media import write_audio, write_video
from ..choreography import Scene, SceneEvent, SpriteTrack
from ..manifest import CanvasEvent, CanvasSample, CanvasSource, Track
from ..reference import reference_plan
from ..render_audio import RenderedEvent, render_audio
from ..soundbank import SoundBank, default_soundfont
from .contacts import STATIC, relative_strengths
from .ground_truth import ObjectTrack, clip_events, object_tracks, sustain_gain
from .objects import model
from .options import PhysWorldConfig
from .scene import SceneSpec, sample_scene
from .simulate import Recording, simulate
from .sounds import choose_sounds
from .textures import add_noise, backdrop_frames, blur, composite


@dataclass
class ClipSpec:
    id: str
    split: str
    index: int
    seed: int
    objects: int
    still: bool


def _sprite(sid: str, class_name: str, kind: str, style: str, track: ObjectTrack, width: int, n: int, t_src: np.ndarray, t_dst: np.ndarray) -> SpriteTrack:
    """A canvas sprite track (what the audio renderer and the reference plan read), resampled."""
    x = np.interp(t_dst, t_src, track.x)
    scale = np.interp(t_dst, t_src, track.scale)
    vis = np.interp(t_dst, t_src, track.visible.astype(float)) > 0.5
    zero = np.zeros(n)
    return SpriteTrack(sid, class_name, kind, style, 1.0, (x + 1.0) / 2.0 * width, np.interp(t_dst, t_src, track.y), scale,
                       zero + 1, zero + 1, zero, zero, zero, zero, vis)


class ClipRenderer:
    """Per-process state: the config, the sound choice and the sound bank."""

    def __init__(self, cfg: dict, outdir: str, soundfont: str | None):
        self.cfg = from_dict(PhysWorldConfig, cfg)
        self.out = Path(outdir)
        self.sounds = choose_sounds(self.cfg.library)
        self.bank = SoundBank(self.cfg.sample_rate, soundfont or self.cfg.soundfont or default_soundfont())
        self.texture_dir = tempfile.mkdtemp(prefix="physworld-textures-")

    def scene(self, spec: ClipSpec) -> tuple[SceneSpec, np.random.Generator, np.random.Generator]:
        scene_rng, sound_rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(3))
        width, height = self.cfg.sizes[int(scene_rng.integers(len(self.cfg.sizes)))]
        fps = float(self.cfg.fps[int(scene_rng.integers(len(self.cfg.fps)))])
        scene = sample_scene(scene_rng, spec.split, spec.objects, spec.still, width, height, fps, self.cfg.duration,
                             self.cfg.moving_camera_fraction)
        return scene, sound_rng, noise_rng

    def render(self, spec: ClipSpec, scene: SceneSpec | None = None) -> dict:
        """Render `spec` (its scene sampled from its seed, or the `scene` given) and return its manifest line."""
        cfg, out = self.cfg, self.out
        sampled, sound_rng, noise_rng = self.scene(spec)
        scene = scene or sampled
        rec = simulate(scene, self.texture_dir)
        masses = [o.mass for o in scene.objects]
        events = clip_events(rec, masses)
        tracks = object_tracks(rec)
        ids = [f"s{i}" for i in range(len(scene.objects))]
        names = [o.model for o in scene.objects]
        classes = [self.sounds.objects[n] for n in names]

        audio, rendered, gains, mix_gain = self._audio(scene, rec, tracks, events, ids, classes, sound_rng)
        T, fps = rec.position.shape[0], scene.fps
        physics_rel = f"physics/{spec.id}.json"
        write_physics(out / physics_rel, spec, scene, rec, tracks, events, ids)
        audio_rel, video_rel = f"audio/{spec.id}.wav", f"video/{spec.id}.mp4"
        write_audio(out / audio_rel, audio, cfg.sample_rate)
        frames = composite(rec.frames, rec.background, backdrop_frames(scene.backdrop, scene.backdrop_colour, scene.camera, T, scene.width, scene.height))
        frames = add_noise(blur(frames, scene.blur), scene.noise, noise_rng)
        write_video(out / video_rel, frames, fps, crf=scene.crf)

        plan_scene = Scene(scene.width, scene.height, fps, T, 1.0)
        t_frames = np.arange(T) / fps
        for sid, cls, o, tr in zip(ids, classes, scene.objects, tracks):
            plan_scene.sprites.append(_sprite(sid, cls, "impact", o.motion, tr, scene.width, T, t_frames, t_frames))
        plan = reference_plan(plan_scene, rendered, self.sounds.classes, cfg.duration)
        for ev, s in zip(plan.temporal.events, strengths(rendered, gains)):
            ev.strength = s
        sources = [CanvasSource(sid, cls, "impact", o.motion, o.model,
                                Track(np.round(tr.x, 4).tolist(), np.round(tr.y, 4).tolist(), np.round(tr.scale, 4).tolist(), tr.visible.tolist()))
                   for sid, cls, o, tr in zip(ids, classes, scene.objects, tracks)]
        sample = CanvasSample(
            id=spec.id, split=spec.split, group="single" if len(ids) == 1 else "multi", seed=spec.seed, duration=cfg.duration,
            sample_rate=cfg.sample_rate, fps=fps, size=(scene.height, scene.width), num_frames=T, video=video_rel, audio=audio_rel,
            background=clip_background(scene, rec), speed=1.0, sources=sources,
            events=[CanvasEvent(e.source, round(e.onset, 6), round(e.offset, 6), e.kind, e.frame, e.end_frame, e.visual, e.key, e.velocity)
                    for e in rendered],
            plan=plan, plan_text=plan.module_texts(), degradations=[],
            ood_factors=(["held_out_objects", "held_out_floor", "held_out_backdrop"] if spec.split == "test" else []),
            mix_gain=round(mix_gain, 6),
        )
        return sample.to_dict()

    # ---- audio -------------------------------------------------------------------------------
    def _audio(self, scene: SceneSpec, rec: Recording, tracks, events, ids, classes, rng):
        """Stereo reference via the canvas renderer, on a scene at the simulation rate (so each
        impact sounds at its exact step, not at the nearest frame); rolling / sliding spans
        sound through extra texture sprites that share their object's track."""
        T, sub = rec.position.shape[0], rec.substeps
        rate = scene.fps * sub
        n = T * sub
        t_frames, t_steps = np.arange(T) / scene.fps, np.arange(n) / rate
        audio_scene = Scene(scene.width, scene.height, rate, n, 1.0)
        for sid, cls, o, tr in zip(ids, classes, scene.objects, tracks):
            audio_scene.sprites.append(_sprite(sid, cls, "impact", o.motion, tr, scene.width, n, t_frames, t_steps))
        for imp, gain in zip(events.impacts, events.gains):
            audio_scene.events.append(SceneEvent(ids[imp.source], imp.step, "impact", imp.visual, imp.step, gain))
        textures = {"roll": self.sounds.roll, "slide": self.sounds.slide}
        for span in events.spans:
            sid = f"{ids[span.source]}~{span.kind}"
            if all(s.source_id != sid for s in audio_scene.sprites):
                audio_scene.sprites.append(_sprite(sid, textures[span.kind], "sustained", span.kind, tracks[span.source],
                                                   scene.width, n, t_frames, t_steps))
            audio_scene.events.append(SceneEvent(sid, span.start_frame * sub, "sustained", span.kind, (span.end_frame + 1) * sub - 1,
                                                 sustain_gain(span.mean_speed)))
        audio, rendered, mix_gain = render_audio(audio_scene, self.sounds.classes, self.bank, rng, scene.duration)
        gain_of = {(e.source, e.frame): e.gain for e in audio_scene.events}
        out, gains = [], []
        for e in rendered:  # back to the objects' ids and to video frames
            source = e.source.split("~")[0]
            if e.kind == "impact":
                frame = end = min(T - 1, int(round(e.frame / sub)))
            else:
                frame, end = e.frame // sub, min(T - 1, (e.end_frame + 1) // sub - 1)
            out.append(RenderedEvent(source, e.onset, e.offset, e.kind, frame, end, e.visual, e.key, e.velocity))
            gains.append(gain_of[(e.source, e.frame)])
        return audio, out, gains, mix_gain


def strengths(rendered: list[RenderedEvent], gains: list[float]) -> list[float]:
    """The plan's event strength: loudness relative to the loudest event of its source."""
    out = [0.0] * len(rendered)
    for sid in {e.source for e in rendered}:
        idx = [i for i, e in enumerate(rendered) if e.source == sid]
        for i, v in zip(idx, relative_strengths([gains[i] for i in idx])):
            out[i] = v
    return out


def clip_background(scene: SceneSpec, rec: Recording) -> dict:
    cam = scene.camera
    return {
        "kind": "physics", "floor": scene.floor, "backdrop": scene.backdrop,
        "camera": {"motion": cam.motion, "fov": round(cam.fov, 3), "azimuth": [round(v, 3) for v in cam.azimuth],
                   "elevation": [round(v, 3) for v in cam.elevation], "distance": [round(v, 4) for v in cam.distance]},
        "light": {"direction": [round(v, 4) for v in scene.light.direction], "ambient": round(scene.light.ambient, 4),
                  "diffuse": round(scene.light.diffuse, 4), "specular": round(scene.light.specular, 4), "shadow": scene.light.shadow},
        "blur_sigma": scene.blur, "noise_sigma": scene.noise, "crf": scene.crf, "sim_hz": round(scene.fps * rec.substeps, 3),
        "still": scene.still, "held_out": list(scene.held_out),
    }


def write_physics(path: Path, spec: ClipSpec, scene: SceneSpec, rec: Recording, tracks, events, ids) -> None:
    partner = lambda j: "scenery" if j == STATIC else ids[j]  # noqa: E731
    data = {
        "id": spec.id, "sim_hz": scene.fps * rec.substeps, "fps": scene.fps,
        "objects": [{"id": sid, **asdict(o), "material": model(o.model).material, "shape": model(o.model).shape,
                     "held_out": model(o.model).held_out} for sid, o in zip(ids, scene.objects)],
        "impacts": [{"source": ids[i.source], "partner": partner(i.partner), "step": i.step, "time": round(i.time, 6),
                     "approach_speed": round(i.speed, 5), "impulse": round(i.impulse, 6), "peak_force": round(i.peak_force, 4),
                     "gain": round(g, 5), "visual": i.visual} for i, g in zip(events.impacts, events.gains)],
        "spans": [{"source": ids[s.source], "kind": s.kind, "start_frame": s.start_frame, "end_frame": s.end_frame,
                   "mean_speed": s.mean_speed} for s in events.spans],
        "camera": {"eye": np.round(rec.eye, 4).tolist(), "target": np.round(rec.target, 4).tolist(), "fov": scene.camera.fov},
        "tracks": {sid: {"position": np.round(rec.position[:, i], 4).tolist(), "distance_m": np.round(tr.distance, 4).tolist(),
                         "pixels": rec.pixels[:, i].tolist()} for i, (sid, tr) in enumerate(zip(ids, tracks))},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
