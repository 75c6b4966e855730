"""`prismaudio extract --reuse`: after a codec change, only the latents are encoded again."""

import json

import torch
from safetensors.torch import load_file

from codec_helpers import micro_config
from prismaudio.codec.stereo_codec import StereoCodec
from prismaudio.train.checkpoint import export_weights


def test_reuse_keeps_video_and_text_features_and_encodes_new_latents(short_canvas_root, tmp_path):
    from prismaudio.encoders.cache import ExtractConfig, Extractor, extract_manifest
    from prismaudio.pipeline import PrismAudio

    pipe = PrismAudio.tiny_random(seed=0)
    bundle = pipe.save_bundle(tmp_path / "bundle")
    first_id = sorted(json.loads(l)["id"] for l in (short_canvas_root / "manifest.jsonl").read_text().splitlines()
                      if l.strip())[0]
    manifest = tmp_path / "one.jsonl"
    rows = [json.loads(l) for l in (short_canvas_root / "manifest.jsonl").read_text().splitlines() if l.strip()]
    row = next(r for r in rows if r["id"] == first_id)
    row["video"], row["audio"] = str(short_canvas_root / row["video"]), str(short_canvas_root / row["audio"])
    manifest.write_text(json.dumps(row) + "\n")
    old_cfg = ExtractConfig(codec=str(bundle / "codec.safetensors"), semantic_fps=pipe.config.semantic_rate,
                            text_tokens=pipe.config.text_tokens)
    extract_manifest(manifest, tmp_path / "old", old_cfg, extractor=Extractor(old_cfg, sync=pipe.sync_encoder))

    pitch_codec = tmp_path / "pitch_codec.safetensors"
    export_weights(pitch_codec, "codec", 1, micro_config(pitch=True), StereoCodec(micro_config(pitch=True)).eval())
    new_cfg = ExtractConfig(codec=str(pitch_codec), semantic_fps=pipe.config.semantic_rate,
                            text_tokens=pipe.config.text_tokens)
    counts = extract_manifest(manifest, tmp_path / "new", new_cfg, reuse=tmp_path / "old",
                              extractor=Extractor(new_cfg, sync=pipe.sync_encoder))
    assert counts["done"] == 1 and counts["reused"] == 1
    old = load_file(str(tmp_path / "old" / f"{first_id}.safetensors"))
    new = load_file(str(tmp_path / "new" / f"{first_id}.safetensors"))
    for key in ("semantic", "sync", "text", "text_mask"):
        assert torch.equal(old[key], new[key]), key
    assert new["latents"].shape[0] == micro_config(pitch=True).latent_channels != old["latents"].shape[0]

    # other encoder settings: nothing is reused
    other = ExtractConfig(codec=str(pitch_codec), semantic_fps=pipe.config.semantic_rate + 1.0,
                          text_tokens=pipe.config.text_tokens)
    counts = extract_manifest(manifest, tmp_path / "other", other, reuse=tmp_path / "old",
                              extractor=Extractor(other, sync=pipe.sync_encoder))
    assert counts["done"] == 1 and counts["reused"] == 0
