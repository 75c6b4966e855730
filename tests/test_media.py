"""media.py on real files the tests make: probing, decoding, audio, mux exactness."""

from __future__ import annotations

import av
import numpy as np
import pytest
import soundfile as sf
import torch

from media_factory import make_video
from prismaudio import media
from prismaudio.errors import MediaError


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("a.mp4", dict(audio_rate=44100)),
        ("b.mp4", dict()),
        ("c.mkv", dict(audio_rate=48000, container="matroska")),
        ("d.webm", dict(audio_rate=48000, video_codec="libvpx-vp9", audio_codec="libopus", container="webm")),
        ("e.webm", dict(video_codec="libvpx", container="webm")),
    ],
)
def test_probe_containers(tmp_path, name, kwargs):
    path = make_video(tmp_path / name, seconds=1.2, fps=25, **kwargs)
    info = media.probe(path)
    assert info.duration == pytest.approx(1.2, abs=0.041)
    assert info.fps == pytest.approx(25, rel=0.04)
    assert (info.width, info.height) == (96, 64)
    assert not info.variable_fps
    assert len(info.audio_streams) == (1 if "audio_rate" in kwargs else 0)
    if info.audio_streams:
        assert info.audio_streams[0].sample_rate == kwargs["audio_rate"]
        assert info.audio_streams[0].channels == 2


def test_probe_variable_fps(tmp_path):
    times = [0.0, 0.04, 0.08, 0.2, 0.24, 0.5, 0.54, 0.58, 0.9, 0.94]
    path = make_video(tmp_path / "vfr.mp4", seconds=1.0, frame_times=times)
    info = media.probe(path)
    assert info.variable_fps
    assert info.num_frames == len(times)
    assert info.duration == pytest.approx(0.98, abs=0.05)


@pytest.mark.parametrize("fps, size, mode", [(25, None, "pad"), (8, (32, 32), "crop"), (4, (48, 48), "pad"), (10, (64, 128), "stretch")])
def test_decode_frames_fps_and_size(mp4, fps, size, mode):
    frames = media.decode_frames(mp4, fps=fps, size=size, resize_mode=mode)
    assert frames.dtype == torch.uint8
    assert frames.shape[0] == int(2.0 * fps)
    assert frames.shape[1:3] == ((64, 96) if size is None else size)
    assert frames.shape[3] == 3


def test_decode_is_uniform_in_time(tmp_path):
    """Sample k at fps 5 from a 25 fps clip must show source frame 5k (index coded in the grey strip)."""
    path = make_video(tmp_path / "x.mp4", seconds=2.0, fps=25)
    frames = media.decode_frames(path, fps=5)
    red = frames[:, :4, :, :].float().mean(dim=(1, 2, 3))
    expected = torch.arange(10) * 5 * 4
    assert torch.allclose(red, expected.float(), atol=6)


def test_decode_variable_fps_holds_frames(tmp_path):
    times = [0.0, 0.04, 0.08, 0.5, 0.54, 0.58, 0.62, 0.66, 0.7, 0.74, 0.78, 0.82, 0.86, 0.9, 0.94]
    path = make_video(tmp_path / "vfr.mp4", seconds=1.0, frame_times=times)
    frames = media.decode_frames(path, fps=10)
    red = frames[:, :4, :, :].float().mean(dim=(1, 2, 3)) / 4
    # At t = 0.1 .. 0.4 the last shown frame is index 2 (t=0.08); at 0.5 it is index 3.
    assert torch.allclose(red[1:5], torch.full((4,), 2.0), atol=1.5)
    assert abs(red[5].item() - 3) < 1.5


def test_pad_keeps_aspect_with_black_bars(mp4):
    frames = media.decode_frames(mp4, fps=5, size=(96, 96), resize_mode="pad")
    assert frames[:, :10].max() == 0 and frames[:, -10:].max() == 0  # letterbox rows
    cropped = media.decode_frames(mp4, fps=5, size=(96, 96), resize_mode="crop")
    assert cropped[:, :4, :, 0].float().mean() > 0  # crop keeps the top strip, no bars


def test_fit_image_resizes_each_way_and_leaves_a_frame_of_the_right_size_as_it_is():
    from prismaudio.media.frame_stream import fit_image

    image = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    assert fit_image(image, (48, 64), "stretch") is image  # nothing to do: the same pixels, not a resampled copy
    assert fit_image(image, (24, 24), "stretch").shape == (24, 24, 3)
    padded = fit_image(image, (64, 64), "pad")
    assert padded.shape == (64, 64, 3) and not padded[:8].any() and not padded[-8:].any()  # black bars above and below
    assert fit_image(image, (32, 32), "crop").shape == (32, 32, 3)


def test_read_audio_resamples_and_remixes(tmp_path):
    sr = 44100
    t = np.arange(sr) / sr
    wave = np.stack([np.sin(2 * np.pi * 1000 * t), 0.5 * np.sin(2 * np.pi * 1000 * t)]).T * 0.5
    sf.write(tmp_path / "a.wav", wave, sr)
    out = media.read_audio(tmp_path / "a.wav", 16000)
    assert out.shape == (2, 16000) and out.dtype == torch.float32
    spectrum = np.abs(np.fft.rfft(out[0].numpy()))
    assert abs(np.argmax(spectrum) - 1000) <= 2  # 1 Hz bins: the tone survives resampling
    assert out[1].abs().max() == pytest.approx(0.25, rel=0.05)
    mono = media.read_audio(tmp_path / "a.wav", 16000, channels=1)
    assert mono.shape == (1, 16000)
    assert mono.abs().max() == pytest.approx(0.375, rel=0.05)  # the mean of 0.5 and 0.25 peaks
    sf.write(tmp_path / "m.flac", wave[:, 0], sr)
    up = media.read_audio(tmp_path / "m.flac", 22050, channels=2)
    assert up.shape == (2, 22050) and torch.allclose(up[0], up[1])
    assert up[0].abs().max() == pytest.approx(0.5, rel=0.05)  # copied, not -3 dB


def test_read_audio_from_video_container(tmp_path):
    path = make_video(tmp_path / "v.mkv", seconds=1.0, audio_rate=48000, container="matroska")
    out = media.read_audio(path, 16000)
    assert out.shape[0] == 2 and abs(out.shape[1] - 16000) <= 1024


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_write_audio_roundtrip(tmp_path, suffix):
    wave = torch.rand(2, 8000) * 0.5 - 0.25
    path = media.write_audio(tmp_path / f"o{suffix}", wave, 16000)
    back = media.read_audio(path, 16000)
    assert back.shape == wave.shape
    assert torch.allclose(back, wave, atol=1e-3)
    assert not list(tmp_path.glob(".*"))  # no temp file left behind


def test_write_audio_rejects_nan_and_leaves_nothing(tmp_path):
    wave = torch.zeros(2, 100)
    wave[0, 5] = float("nan")
    with pytest.raises(MediaError, match="NaN"):
        media.write_audio(tmp_path / "o.wav", wave, 16000)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("num_samples", [32000, 31000, 33333, 100])
@pytest.mark.parametrize("rate", [16000, 44100])
def test_mux_duration_is_sample_exact(tmp_path, num_samples, rate):
    src = make_video(tmp_path / "in.mp4", seconds=2.0, fps=25, audio_rate=48000, metadata={"title": "my clip"})
    wave = np.random.default_rng(0).standard_normal((2, int(num_samples * rate / 16000))).astype(np.float32) * 0.1
    out = media.mux(src, wave, rate, tmp_path / "out.mp4")
    info = media.probe(out)
    assert len(info.audio_streams) == 1 and info.audio_streams[0].codec == "aac"
    decoded = media.read_audio(out, rate)
    assert decoded.shape == (2, round(info.duration * rate)) == (2, 2 * rate)
    with av.open(str(out)) as c:
        assert c.metadata.get("title") == "my clip"


def test_mux_keeps_audio_aligned(tmp_path):
    src = make_video(tmp_path / "in.mp4", seconds=2.0, fps=25)
    rate = 16000
    wave = np.zeros((2, 2 * rate), np.float32)
    wave[0, 8000:8400] = 0.8  # a burst at 0.5 s in the left channel only
    out = media.mux(src, wave, rate, tmp_path / "out.mp4")
    decoded = media.read_audio(out, rate).numpy()
    envelope = np.convolve(np.abs(decoded[0]), np.ones(64) / 64, mode="same")
    onset = np.argmax(envelope > 0.2)
    assert abs(onset - 8000) < 80  # within 5 ms
    assert np.abs(decoded[1]).max() < 0.1


def test_mux_copies_video_bit_for_bit(tmp_path):
    src = make_video(tmp_path / "in.mp4", seconds=1.0, fps=25, audio_rate=44100)
    out = media.mux(src, np.zeros((2, 16000), np.float32), 16000, tmp_path / "out.mp4")

    def packets(path):
        with av.open(str(path)) as c:
            return [(bytes(p), p.pts, p.is_keyframe) for p in c.demux(c.streams.video[0]) if p.size]

    assert packets(src) == packets(out)


def test_mux_replaces_existing_audio_and_is_atomic(tmp_path):
    src = make_video(tmp_path / "in.mp4", seconds=1.0, audio_rate=44100)
    with pytest.raises(MediaError):
        media.mux(src, np.zeros((2, 100), np.float32), 16000, tmp_path / "bad.webm")
    assert not (tmp_path / "bad.webm").exists()
    out = media.mux(src, np.zeros((1, 16000), np.float32), 16000, tmp_path / "o.mp4")
    assert len(media.probe(out).audio_streams) == 1


def test_paths_with_spaces_and_non_ascii(tmp_path):
    folder = tmp_path / "my vidéos 映像"
    folder.mkdir()
    path = make_video(folder / "clip ü.mp4", seconds=1.0)
    assert media.probe(path).num_frames == 25
    out = media.mux(path, np.zeros((2, 16000), np.float32), 16000, folder / "out é.mp4")
    assert media.read_audio(out, 16000).shape == (2, 16000)
