"""PhysWorld part of the planner benchmark (`bench_planner.py --physics DIR`): the planner on
PhysWorld clips against the simulator's ground truth, and the printed report."""

from __future__ import annotations

import numpy as np

from planner_scoring import match_pairs, match_sources, pct
from prismaudio import media
from prismaudio.planner.plan import side_of
from prismaudio.planner.planner import plan_video
from prismaudio.planner_training.canvas_clips import GroundTruthSource


def physics_evaluate(root: str, splits: list[str], limit: int, cfg=None) -> dict:
    """The planner on PhysWorld clips, against the simulator's ground truth."""
    from prismaudio.canvas.manifest import load_manifest
    from prismaudio.canvas.physics.names import named_right, plain_label
    from prismaudio.canvas.physics.objects import model

    out: dict = {}
    manifest = load_manifest(root)
    for split in splits:
        clips = [s for s in manifest if s.split == split]
        clips = clips[:limit] if limit else clips
        ev = {"impact": [0, 0, 0], "all": [0, 0, 0], "heard_seen": [0, 0, 0]}
        dropped = {"inaudible": 0, "unseen": 0, "merged": 0}
        seen_strength: tuple[list, list] = ([], [])
        named, side, still_clips, still_invented = [0, 0], [0, 0], 0, 0
        planned_strength, true_strength = [], []
        names = []  # each sounding object's plan label, and whether it names the object right
        per_clip = []  # where it fails: each clip's impact hits / planned / true, against its camera and fps
        canvas_path = []  # clips the canvas gate sent down the SynthCanvas path (their contacts are not from motion)
        for s in clips:
            trace: list = []
            plan = plan_video(s.video_path, cfg, trace=trace)
            if trace[0].mode == "canvas":
                canvas_path.append(s.id)
            srcs = [GroundTruthSource(src.class_name, src.kind, np.asarray(src.track.x), np.asarray(src.track.y),
                                      np.asarray(src.track.visible, bool), []) for src in s.sources]
            if s.background.get("still") or all(src.motion == "still" for src in s.sources):
                still_clips += 1
                still_invented += bool(plan.semantic.sources)
            for kind in ("impact", "all"):
                pred = [e for e in plan.temporal.events if kind == "all" or e.kind == "impact"]
                true = [e for e in s.plan.temporal.events if kind == "all" or e.kind == "impact"]
                pairs = match_pairs([e.onset for e in pred], [e.onset for e in true])
                ev[kind][0] += len(pairs)
                ev[kind][1] += len(pred)
                ev[kind][2] += len(true)
                if kind == "impact":
                    planned_strength += [pred[i].strength for i, _ in pairs]
                    true_strength += [true[j].strength for _, j in pairs]
                    heard = perceptible_truth(s, true)
                    for k in dropped:
                        dropped[k] += getattr(heard, k)
                    hpairs = match_pairs([e.onset for e in pred], [c.onset for c in heard.contacts])
                    ev["heard_seen"] = [ev["heard_seen"][0] + len(hpairs), ev["heard_seen"][1] + len(pred),
                                        ev["heard_seen"][2] + len(heard.contacts)]
                    seen_strength[0].extend(pred[i].strength for i, _ in hpairs)
                    seen_strength[1].extend(heard.contacts[j].strength for _, j in hpairs)
                    per_clip.append({"id": s.id, "camera": s.background.get("camera", {}).get("motion"), "fps": s.fps,
                                     "impacts": [len(pairs), len(pred), len(true)],
                                     "heard_seen": [len(hpairs), len(pred), len(heard.contacts)],
                                     "planned": [round(e.onset, 3) for e in pred], "true": [round(e.onset, 3) for e in true],
                                     "true_heard_seen": [round(c.onset, 3) for c in heard.contacts]})
            # side and name are scored over the objects that make a sound: a still, silent object
            # is rightly not planned ("no invented sources"), and must not take a plan track either
            sounding = {e.source for e in s.plan.temporal.events}
            heard = [(src, gt) for src, gt in zip(s.sources, srcs) if src.id in sounding and gt.visible.any()]
            matched = match_sources(plan, [gt for _, gt in heard], s.fps)
            for j, (src, gt) in enumerate(heard):
                sid = matched.get(j)
                label = plan.source(sid).label if sid is not None else None
                try:
                    right = named_right(label, model(src.sprite))
                except KeyError:  # an object this build's table does not know: its sound class only
                    right = label is not None and plain_label(label) == src.class_name
                named[0] += right
                named[1] += 1
                track = plan.track(sid) if sid is not None else None
                frames = np.flatnonzero(gt.visible)[::5]
                good = sum(track is not None and side_of(float(track.x_at(f / s.fps))) == side_of(float(gt.x[f]))
                           for f in frames)
                side[0] += good
                side[1] += len(frames)
                names.append({"id": s.id, "object": src.sprite, "label": label, "right": bool(right),
                              "side": [int(good), len(frames)]})
        out[split] = {"clips": len(clips), "events": ev, "strength_spearman": _spearman(planned_strength, true_strength),
                      "strength_pairs": len(planned_strength), "heard_seen_dropped": dropped,
                      "heard_seen_strength_spearman": _spearman(*seen_strength), "heard_seen_strength_pairs": len(seen_strength[0]),
                      "named": named, "side": side, "still_clips": still_clips, "still_clips_with_sources": still_invented,
                      "canvas_path": canvas_path, "per_clip": per_clip, "names": names}
    return out


def _spearman(planned: list[float], true: list[float]) -> float | None:
    """Spearman between planned and true strengths; None with too few pairs or all equal."""
    from scipy.stats import spearmanr

    defined = len(planned) >= 3 and len(set(planned)) > 1 and len(set(true)) > 1
    return float(spearmanr(planned, true)[0]) if defined else None


def perceptible_truth(s, true_events: list):
    """The clip's true impacts a viewer hears and sees (`canvas.physics.perceptible`): levels
    from its own reference audio, visibility from its manifest tracks."""
    from prismaudio.canvas.physics.perceptible import TrueContact, heard_and_seen, onset_levels

    wave = media.read_audio(s.audio_path, s.sample_rate).numpy()
    mono = wave.mean(0) if wave.ndim > 1 else wave
    contacts = [TrueContact(e.source, e.onset, e.strength) for e in true_events]
    levels = onset_levels(mono, s.sample_rate, [c.onset for c in contacts])
    visible = {src.id: np.asarray(src.track.visible, bool) for src in s.sources}
    return heard_and_seen(contacts, levels, visible, s.fps)


def print_physics(res: dict, root: str) -> None:
    for split, r in res.items():
        h, p, t = r["events"]["impact"]
        ha, pa, ta = r["events"]["all"]
        hs, ps, ts = r["events"]["heard_seen"]
        print(f"PhysWorld {split} ({root}, {r['clips']} clips):")
        print(f"  contacts (impacts) within +-40 ms: precision {h / max(p, 1):.3f} ({h}/{p}), recall {h / max(t, 1):.3f} ({h}/{t})"
              "   (targets >= 0.90 / >= 0.90; every impact the simulator reports)")
        d = r["heard_seen_dropped"]
        print(f"  contacts heard and seen within +-40 ms: precision {hs / max(ps, 1):.3f} ({hs}/{ps}), recall {hs / max(ts, 1):.3f} ({hs}/{ts})"
              f"   (of the simulator's: {d['inaudible']} inaudible, {d['unseen']} unseen, {d['merged']} merged into one sound)")
        print(f"  all events within +-40 ms: precision {ha / max(pa, 1):.3f} ({ha}/{pa}), recall {ha / max(ta, 1):.3f} ({ha}/{ta})")
        rho = r["strength_spearman"]
        rho_text = f"{rho:.3f}" if rho is not None else "undefined (fewer than 3 matched impacts, or all planned strengths equal)"
        print(f"  event strength rank correlation (Spearman, {r['strength_pairs']} matched impacts): {rho_text}   (target >= 0.7)")
        rho = r["heard_seen_strength_spearman"]
        print(f"  ... on contacts heard and seen ({r['heard_seen_strength_pairs']} matched): " + (f"{rho:.3f}" if rho is not None else "undefined"))
        print(f"  side (left/centre/right) accuracy, objects that make a sound: {pct(*r['side'])}   (target >= 95%)")
        print(f"  object named right (what it is, its class or one that sounds alike), objects that make a sound: {pct(*r['named'])}   (target >= 70%)")
        print(f"  clips with no moving object that got a source planned: {r['still_clips_with_sources']} of {r['still_clips']}   (target 0)")
        cp = r.get("canvas_path", [])
        print(f"  clips the canvas gate sent down the SynthCanvas path: {len(cp)} of {r['clips']}" + (f" ({', '.join(cp)})" if cp else ""))
