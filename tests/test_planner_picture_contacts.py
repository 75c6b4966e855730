"""The contact network's pieces: labels, peaks, timing, who made a contact, fusion with the motion's contacts."""

import numpy as np
import pytest
import torch

from prismaudio.planner.events.contact_net import (
    CONTACT_ENSEMBLE_KIND,
    ContactEnsemble,
    ContactEnsembleConfig,
    ContactNet,
    ContactNetConfig,
    FrameContacts,
    clip_features,
    contact_peaks,
    contact_times,
    grey_contacts,
    grey_frames,
    load_contact_net,
)
from prismaudio.planner.events.motion import Contact, shown_times
from prismaudio.planner.events.picture_contacts import (
    PictureContact,
    PictureContactConfig,
    fuse,
    owner,
    picture_rate,
    velocity_change,
)
from prismaudio.planner.tracks import Track
from prismaudio.planner_training.contact_net import frame_labels, match_count


def test_labels_mark_the_first_frame_that_can_show_the_contact():
    times = np.arange(10) / 25.0
    label, before, strength = frame_labels(times, np.array([0.13, 0.2, 0.15]), np.array([0.5, 1.0, 0.8]))
    assert np.flatnonzero(label).tolist() == [4, 5]  # 0.13 s is between frames 3 (0.12) and 4 (0.16)
    assert abs(before[5]) < 1e-5 and strength[5] == 1.0
    assert abs(before[4] - 0.25) < 1e-5 and strength[4] == np.float32(0.8)  # two in one interval: the stronger's


def test_labels_on_a_frame_shown_twice_go_to_its_first_showing():
    times = shown_times(10, 25.0, 24.0)  # 24 fps at 25: frames 0 and 1 both show source frame 0
    label, _, _ = frame_labels(times, np.array([0.01]))
    assert np.flatnonzero(label).tolist() == [2]  # the first frame showing time after 0.01 s
    assert times[2] > 0.01 and times[1] == 0.0


def test_matches_are_one_to_one_within_the_tolerance():
    assert match_count([1.0, 1.01, 2.0], [1.005, 2.05]) == 1
    assert match_count([1.0, 1.05], [1.03, 1.06]) == 2


def test_peaks_are_local_maxima_over_the_threshold():
    p = np.array([0.1, 0.6, 0.7, 0.2, 0.9, 0.9, 0.1, 0.4])
    assert contact_peaks(p, 0.5) == [2, 4]


def test_contact_times_step_back_by_the_networks_timing():
    times = np.arange(5) / 25.0
    found = FrameContacts(np.zeros(5), np.array([0, 0, 0.5, 0, 0]), np.zeros(5), [2])
    (t, _), = contact_times(found, times)
    assert abs(t - (0.08 - 0.02)) < 1e-9


def test_network_shapes_and_chunking():
    torch.manual_seed(0)
    net = ContactNet(ContactNetConfig(size=32, channels=(4, 8), temporal=8)).eval()
    frames = np.random.default_rng(0).integers(0, 255, (70, 40, 50, 3), dtype=np.uint8)
    grey = grey_frames(frames, 32)
    assert grey.shape == (70, 32, 32)
    with torch.no_grad():
        whole = net.frame_features(torch.cat([torch.from_numpy(grey[:1]).float().expand(2, -1, -1),
                                              torch.from_numpy(grey).float(),
                                              torch.from_numpy(grey[-1:]).float().expand(2, -1, -1)]) / 255.0)
        chunked = clip_features(net, grey)  # 64 + 6 frames, each chunk with its context
    assert torch.allclose(whole, chunked, atol=1e-5)


def test_an_ensemble_averages_its_members_and_ships_in_one_file(tmp_path):
    from prismaudio.train.checkpoint import export_weights

    torch.manual_seed(0)
    shapes = [ContactNetConfig(size=32, channels=(4, 8), temporal=8),
              ContactNetConfig(size=32, channels=(4, 8), blocks=2, temporal=8)]  # members may differ in shape
    ensemble = ContactEnsemble(ContactEnsembleConfig(shapes, threshold=0.3))
    grey = np.random.default_rng(1).integers(0, 255, (30, 32, 32), dtype=np.uint8)
    each = [grey_contacts(m, grey, 0.3) for m in ensemble.members]
    both = grey_contacts(ensemble, grey)  # the ensemble's own threshold
    assert np.allclose(both.probability, (each[0].probability + each[1].probability) / 2, atol=1e-6)
    assert np.allclose(both.before, (each[0].before + each[1].before) / 2, atol=1e-6)
    assert both.peaks == contact_peaks(both.probability, 0.3)
    path = export_weights(tmp_path / "nets.safetensors", CONTACT_ENSEMBLE_KIND, 1, ensemble.cfg, ensemble)
    loaded = load_contact_net(str(path))
    assert isinstance(loaded, ContactEnsemble) and loaded.cfg.threshold == 0.3 and loaded.members[1].cfg.blocks == 2
    assert np.allclose(grey_contacts(loaded, grey).probability, both.probability, atol=1e-6)


def test_ensemble_members_must_see_one_view_at_one_picture_size():
    with pytest.raises(ValueError, match="same view at one picture size"):
        ContactEnsembleConfig([ContactNetConfig(size=32), ContactNetConfig(size=64)])
    with pytest.raises(ValueError, match="same view"):
        ContactEnsembleConfig([ContactNetConfig(size=48), ContactNetConfig(size=48, view="object")])
    from prismaudio.planner.events.object_tubes import TubeConfig

    with pytest.raises(ValueError, match="same windows"):
        ContactEnsembleConfig([ContactNetConfig(size=48, view="object"),
                               ContactNetConfig(size=48, view="object", tube=TubeConfig(reach=4.0))])
    with pytest.raises(ValueError, match="view must be"):
        ContactNetConfig(view="tube")


def _track(tid, boxes, frames=None):
    n = len(boxes)
    frames = np.arange(n) if frames is None else frames
    return Track(tid, np.asarray(frames), np.zeros(n), np.zeros(n), np.ones(n), np.ones(n), np.ones(n), np.ones(n),
                 np.ones(n, bool), boxes)


def test_owner_is_the_track_whose_box_changed():
    frames = np.zeros((3, 40, 40, 3), np.uint8)
    frames[2, 25:30, 25:30] = 255  # something jolts in the lower right at frame 1 -> 2
    still = _track(1, [(2, 2, 10, 10)] * 3)
    moving = _track(2, [(22, 22, 32, 32)] * 3)
    assert owner(1, [still, moving], frames, 0.5) == 2
    assert owner(1, [still], frames, 0.5) == 1  # alone on screen: it
    assert owner(5, [still, moving], frames, 0.5) is None  # nobody seen then


def test_velocity_change_of_a_bounce():
    t = np.arange(20) / 25.0
    y = np.where(t < 0.4, 1.0 - 2.0 * (0.4 - t), 1.0 - 1.0 * (t - 0.4))  # down at 2 /s, up at 1 /s after 0.4 s
    pos = np.stack([np.zeros(20), y], 1)
    change, vb, va = velocity_change(t, pos, np.ones(20, bool), 0.4, 3)
    assert abs(vb[1] - 2.0) < 1e-6 and abs(va[1] + 1.0) < 1e-6 and abs(change - 3.0) < 1e-6


def test_fuse_snaps_adds_and_keeps():
    t = np.arange(50) / 25.0
    pos = np.stack([np.zeros(50), np.where(t < 1.0, t, 2.0 - t)], 1)  # reverses at 1.0 s
    motion = [Contact(7, 1.01, "bounce", 2.0, 0.9, margin=5.0), Contact(7, 1.6, "hit", 1.0, 0.5, margin=2.0)]
    picture = [PictureContact(0.995, 0.8, 25, 0.9), PictureContact(0.4, 0.7, 10, 0.3)]
    cfg = PictureContactConfig(snap=0.06, timing="picture", keep_margin=1.0, strength="motion")
    out = fuse(motion, picture, 7, t, pos, np.ones(50, bool), cfg)
    assert [round(c.time, 3) for c in out] == [0.4, 0.995, 1.6]
    fused = out[1]
    assert fused.strength == 2.0 and fused.kind == "bounce" and fused.confidence == 0.9
    assert fused.loudness < 0  # its loudness from the motion (strength "motion")
    lone = out[0]
    assert lone.confidence == 0.7 and lone.strength < 0.1  # nothing changed at 0.4 s: a weak contact
    assert lone.loudness == 0.3  # ... heard as loud as the network says
    out = fuse(motion, picture, 7, t, pos, np.ones(50, bool), PictureContactConfig(strength="picture"))
    assert [c.loudness for c in out] == [0.3, 0.9]
    out = fuse(motion, picture, 7, t, pos, np.ones(50, bool), PictureContactConfig(keep_margin=3.0, timing="picture"))
    assert [round(c.time, 3) for c in out] == [0.4, 0.995]  # the weak lone motion contact (margin 2) is dropped
    out = fuse(motion, picture, 7, t, pos, np.ones(50, bool), PictureContactConfig(keep_margin=3.0, timing="clean"))
    assert [round(c.time, 3) for c in out] == [0.4, 1.01]  # a clean bounce (margin 5) keeps its fitted time
    unsure = fuse(motion, [PictureContact(0.4, 0.5, 10, 0.3)], 7, t, pos, np.ones(50, bool), PictureContactConfig())
    assert [round(c.time, 3) for c in unsure] == [1.01]  # a lone contact needs the lone threshold (0.55)
    twice = picture + [PictureContact(1.03, 0.6, 26, 0.5)]  # the network's second peak of the same bounce
    out = fuse(motion, twice, 7, t, pos, np.ones(50, bool), PictureContactConfig(keep_margin=3.0))
    assert [round(c.time, 3) for c in out] == [0.4, 1.01]
    out = fuse(motion, picture[1:], 7, t, pos, np.ones(50, bool), PictureContactConfig(keep_margin=3.0))
    assert [round(c.time, 3) for c in out] == [0.4, 1.01]  # the strong one stands without the network
    out = fuse(motion, picture, 7, t, pos, np.ones(50, bool), PictureContactConfig(timing="motion", keep_margin=0.0))
    assert [round(c.time, 3) for c in out] == [0.4, 1.01]


def test_picture_rate_counts_new_pictures():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (50, 16, 16, 3), dtype=np.uint8)
    assert picture_rate(frames, 25.0) == 25.0 * 49 / 49
    slideshow = np.repeat(frames[:5], 10, axis=0)  # a new picture every 10 frames
    assert abs(picture_rate(slideshow, 25.0) - 25.0 * 4 / 49) < 1e-9


def test_pool_keeps_the_surest_of_a_contact_two_networks_saw():
    from prismaudio.planner.events.picture_contacts import pool

    picture = {1: [PictureContact(1.00, 0.6, 25), PictureContact(2.00, 0.7, 50)], 2: [PictureContact(3.0, 0.9, 75)]}
    tubes = {1: [PictureContact(1.03, 0.8, 26), PictureContact(1.50, 0.5, 38)], 3: []}
    pooled = pool([picture, tubes], snap=0.06)
    assert [(c.time, c.probability) for c in pooled[1]] == [(1.03, 0.8), (1.5, 0.5), (2.0, 0.7)]  # 1.00 and 1.03: one contact
    assert [c.time for c in pooled[2]] == [3.0] and pooled[3] == []
    assert pool([picture], snap=0.06) == picture  # one network: its contacts as they are
