"""SynthCanvas: the files of a tiny build agree with its manifest.

Checks read the written files (WAV, decoded MP4) with independent analysis from
`prismaudio.dsp`, not the builder's bookkeeping.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from prismaudio.canvas.build import build
from prismaudio.canvas.manifest import load_classes, load_manifest
from prismaudio.canvas.options import CanvasConfig
from prismaudio.dsp.onsets import detect_onsets
from prismaudio.dsp.spatial import gcc_phat_itd, ild_db
from prismaudio.media import decode_frames

CLASSES = ["snare drum", "cowbell", "claves", "grand piano", "info blip", "helicopter", "alarm clock"]


def tiny(**kw) -> CanvasConfig:
    opts = dict(duration=2.0, width=96, height=96, single_per_class=2, multi=3, ood=2,
                degraded_fraction=1.0, seed=3, workers=1, classes=CLASSES)
    opts.update(kw)
    return CanvasConfig(**opts)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("canvas") / "out"
    build(out, tiny(), progress=False)
    return out


def _stereo(path: Path) -> tuple[np.ndarray, int]:
    data, sr = sf.read(str(path), dtype="float64", always_2d=True)
    return data.T, sr


def test_layout_splits_and_plan(built):
    samples = load_manifest(built)
    assert len(samples) == len(CLASSES) * 2 + 3 + 2
    assert len({s.id for s in samples}) == len(samples)
    for s in samples:
        assert s.video_path.is_file() and s.audio_path.is_file()
        for d in s.degradations:
            assert (built / d.path).is_file()
        assert s.plan.duration == pytest.approx(2.0)
        assert {src.label for src in s.plan.semantic.sources} == set(s.class_names)
        assert set(s.plan_text) == {"semantic", "temporal", "aesthetic", "spatial"}
        assert all(len(src.track.x) == s.num_frames for src in s.sources)
        assert all(-1 <= v <= 1 for src in s.sources for v in src.track.x)
    test_classes = {s.class_names[0] for s in samples if s.group == "single" and s.split == "test"}
    train_classes = {s.class_names[0] for s in samples if s.group == "single" and s.split == "train"}
    assert test_classes == train_classes == set(CLASSES)
    ood = [s for s in samples if s.split == "ood"]
    assert ood and all(len(s.sources) == 4 and s.speed >= 2.0 for s in ood)
    assert all(s.background["kind"] != "solid" and s.background.get("direction", "diagonal") in ("diagonal", "radial") for s in ood)
    assert [c.name for c in load_classes(built)] == CLASSES
    readme = (built / "README.md").read_text()
    assert "| 5 | helicopter | sustained |" in readme and "ood" in readme


def test_impact_onsets_are_in_the_audio(built):
    """Every impact of a single-source sample is detected within 20 ms; in mixtures (where a
    loud sustained source can mask a soft hit) at least 80 % are."""
    hits = {"single": [], "mixture": []}
    for s in load_manifest(built):
        wave, sr = _stereo(s.audio_path)
        detected = detect_onsets(wave.mean(axis=0), sr)
        for e in s.events:
            if e.kind == "impact":
                ok = bool(detected.size) and np.abs(detected - e.onset).min() <= 0.02
                hits["single" if s.group == "single" else "mixture"].append(ok)
                assert ok or s.group != "single", (s.id, e, detected)
    assert len(hits["single"]) >= 15 and len(hits["mixture"]) >= 5
    assert np.mean(hits["mixture"]) >= 0.8, hits["mixture"]


def test_sustained_sound_starts_and_stops_with_visibility(built):
    for s in load_manifest(built):
        if s.group != "single" or s.sources[0].kind != "sustained":
            continue
        wave, sr = _stereo(s.audio_path)
        e = s.events[0]
        level = np.abs(wave).max(axis=0)
        a, b = int(round(e.onset * sr)), int(round(e.offset * sr))
        assert level[:a].max(initial=0) < 1e-3 and level[b:].max(initial=0) < 1e-3
        assert level[a:b].max() > 0.01


def test_louder_channel_and_lag_follow_the_side(built):
    checked = 0
    for s in load_manifest(built):
        if s.group != "single":
            continue
        wave, sr = _stereo(s.audio_path)
        track = s.sources[0].track
        for e in s.events:
            x = track.x[e.frame]
            if abs(x) < 0.3:
                continue
            seg = wave[:, int(e.onset * sr) : int(min(e.offset, e.onset + 0.3) * sr)]
            taper = np.hanning(seg.shape[1])  # a rectangular cut of a ringing sound biases GCC-PHAT to lag 0
            assert np.sign(ild_db(seg[0], seg[1])) == -np.sign(x), (s.id, e, x)
            assert np.sign(gcc_phat_itd(seg[0] * taper, seg[1] * taper, sr)) == -np.sign(x), (s.id, e, x)
            checked += 1
    assert checked >= 5


def test_visual_events_peak_at_manifest_frames(built):
    checked = 0
    for s in load_manifest(built):
        frames = decode_frames(s.video_path, s.fps).numpy().astype(np.float32)
        assert frames.shape[0] == s.num_frames
        H, W = s.size
        for e in s.events:
            if e.kind != "impact":
                continue
            src = s.source(e.source)
            if s.group == "single":
                region = (slice(None), slice(None))
            else:  # around the source, so other sprites' motion does not count
                cx, cy = (src.track.x[e.frame] + 1) * W / 2, (src.track.y[e.frame] + 1) * H / 2
                r = int(0.3 * min(H, W))
                region = (slice(max(0, int(cy) - r), int(cy) + r), slice(max(0, int(cx) - r), int(cx) + r))
            crop = frames[:, region[0], region[1]]
            diff = np.concatenate([[0.0], np.abs(np.diff(crop, axis=0)).mean(axis=(1, 2, 3))])
            k = e.frame
            window = diff[max(1, k - 2) : k + 3]
            # a peak: the largest change of the five frames around it, a clear rise over the two before
            assert diff[k] == window.max(), (s.id, e.frame, diff[k - 2 : k + 3])
            assert diff[k] > 1.15 * diff[max(1, k - 2) : k].max(initial=0.0), (s.id, e.frame, diff[k - 2 : k + 3])
            checked += 1
    assert checked >= 20


def test_degraded_copies_have_the_snr_they_claim(built):
    kinds = set()
    for s in load_manifest(built):
        ref, _ = _stereo(s.audio_path)
        for d in s.degradations:
            kinds.add(d.kind)
            deg, _ = _stereo(built / d.path)
            measured = 10 * np.log10(np.sum(ref**2) / np.sum((deg - ref) ** 2))
            assert measured == pytest.approx(d.snr_db, abs=0.05), (s.id, d)
            if d.target_snr_db is not None:
                assert measured == pytest.approx(d.target_snr_db, abs=0.5), (s.id, d)
    assert {"noise", "hum"} & kinds and len(kinds) >= 3


def test_same_seed_same_files_on_two_workers(built, tmp_path):
    out = tmp_path / "again"
    build(out, tiny(workers=2), progress=False)
    assert (out / "manifest.jsonl").read_text() == (built / "manifest.jsonl").read_text()
    for sub in ("audio", "degraded"):
        for f in sorted((built / sub).iterdir()):
            assert (out / sub / f.name).read_bytes() == f.read_bytes(), f.name
    # The frames are identical; x264's SIMD paths are not bit-reproducible run to run, so the
    # decoded videos are compared instead of the mp4 bytes.
    for f in sorted((built / "video").iterdir()):
        a = decode_frames(f, 25).numpy().astype(np.float32)
        b = decode_frames(out / "video" / f.name, 25).numpy().astype(np.float32)
        psnr = 10 * np.log10(255.0**2 / max(np.mean((a - b) ** 2), 1e-9))
        assert a.shape == b.shape and psnr > 30, (f.name, psnr)


def test_resume_after_a_torn_manifest(built, tmp_path):
    out = tmp_path / "resume"
    shutil.copytree(built, out)
    manifest = out / "manifest.jsonl"
    full = manifest.read_text()
    lines = full.splitlines(keepends=True)
    victim = json.loads(lines[2])
    (out / victim["audio"]).unlink()  # a sample whose line exists but whose file does not
    manifest.write_text("".join(lines[:5]) + lines[5][: len(lines[5]) // 2])  # a torn last line
    (out / "video" / ".single_00009.tmp.mp4").write_bytes(b"partial")  # an interrupted temp file
    result = build(out, tiny(), progress=False)
    assert result.skipped == 4 and result.rendered == len(lines) - 4
    assert manifest.read_text() == full
    assert (out / victim["audio"]).read_bytes() == (built / victim["audio"]).read_bytes()
    assert not list((out / "video").glob(".*"))
    again = build(out, tiny(workers=2), progress=False)  # nothing left to do; workers may differ
    assert again.rendered == 0 and manifest.read_text() == full
