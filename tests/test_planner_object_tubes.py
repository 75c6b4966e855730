"""Tubes around tracked objects (the contact network's object view) and their contacts."""

import numpy as np

from prismaudio.planner.events.contact_net import ContactNet, ContactNetConfig
from prismaudio.planner.events.motion import shown_times
from prismaudio.planner.events.object_tubes import TubeConfig, cut_tube, smooth_path, track_tube, window_side
from prismaudio.planner.events.picture_contacts import PictureContactConfig, tube_contacts
from prismaudio.planner.tracks import Track


def test_window_side_follows_the_object_within_bounds():
    cfg = TubeConfig(reach=3.0, min_side=40, max_side=128)
    assert window_side(20.0, cfg) == 60
    assert window_side(2.0, cfg) == 40  # a speck still gets room to bounce
    assert window_side(100.0, cfg) == 128


def test_smooth_path_fills_gaps_holds_the_ends_and_smooths():
    x = np.array([0.0, 0.0, 10.0, 0.0, 40.0, 0.0])
    known = np.array([False, True, True, False, True, False])
    raw = smooth_path(x, x, known, 0.0)
    assert raw[:, 0].tolist() == [0.0, 0.0, 10.0, 25.0, 40.0, 40.0]  # held before, linear inside, held after
    smooth = smooth_path(x, x, known, 1.0)
    assert np.all(np.diff(smooth[:, 0]) >= -1e-9) and smooth[2, 0] > 10.0  # the same rise, its corners rounded
    assert np.isnan(smooth_path(x, x, np.zeros(6, bool), 1.0)).all()  # nothing known: nothing guessed


def test_the_tube_keeps_a_moving_object_centred():
    grey = np.zeros((6, 100, 100), np.uint8)
    for k in range(6):
        grey[k, 40:50, 10 + 10 * k : 20 + 10 * k] = 255  # a 10-pixel square moving right 10 px a frame
    centres = np.array([[15.0 + 10 * k, 45.0] for k in range(6)])
    tube = cut_tube(grey, centres, 30, 15)
    assert tube.shape == (6, 15, 15)
    assert np.abs(tube[1:].astype(int) - tube[:-1]).max() == 0  # steady motion is taken out
    assert tube[:, 7, 7].min() == 255 and tube[:, 0, 0].max() == 0  # the object in the middle, floor around


def test_track_tube_follows_the_tracks_boxes():
    grey = np.zeros((5, 80, 120), np.uint8)
    grey[:, 60:70, 90:100] = 200  # the object sits low on the right
    n = 3
    track = Track(1, np.arange(1, 4), np.full(n, 95 / 120), np.full(n, 65 / 80), np.full(n, 10 / 120), np.full(n, 10 / 80),
                  np.ones(n), np.ones(n), np.ones(n, bool))
    tube = track_tube(track, grey, TubeConfig(reach=3.0, min_side=20, max_side=60), 30)
    assert tube.shape == (5, 30, 30) and tube[:, 15, 15].min() == 200  # every frame, before and after the track too


def test_tube_contacts_are_the_tracks_own_and_only_while_it_is_seen(monkeypatch):
    from prismaudio.planner.events import contact_net

    seen_sizes = []

    def judged(net, tube, threshold=0.0):  # the network's verdict on a tube: peaks at frames 1, 5 and 10
        seen_sizes.append(tube.shape)
        prob = np.zeros(len(tube))
        prob[[1, 5, 10]] = 0.9
        return contact_net.FrameContacts(prob, np.full(len(tube), 0.5), np.full(len(tube), 0.7), [1, 5, 10])

    monkeypatch.setattr(contact_net, "grey_contacts", judged)
    net = ContactNet(ContactNetConfig(size=16, channels=(4, 8), temporal=8, view="object"))
    n = 4
    track = Track(7, np.arange(4, 8), np.full(n, 0.5), np.full(n, 0.5), np.full(n, 0.1), np.full(n, 0.1),
                  np.ones(n), np.ones(n), np.ones(n, bool))
    times = shown_times(12, 25.0)
    found = tube_contacts(net, np.zeros((12, 60, 60), np.uint8), [track], times, PictureContactConfig())
    assert seen_sizes == [(12, 16, 16)]  # the whole clip's tube at the network's size
    assert [c.frame for c in found[7]] == [5]  # 1 and 10 are when the track is not there
    assert abs(found[7][0].time - (times[5] - 0.5 / 25.0)) < 1e-9 and found[7][0].strength == 0.7


def test_an_ensemble_of_object_view_networks_judges_each_tube_through_its_members_windows():
    import torch

    from prismaudio.planner.events.contact_net import ContactEnsemble, ContactEnsembleConfig

    torch.manual_seed(0)
    windows = TubeConfig(reach=2.0, min_side=20, max_side=40)
    members = [ContactNetConfig(size=16, channels=(4, 8), temporal=8, view="object", tube=windows),
               ContactNetConfig(size=16, channels=(4, 8), blocks=2, temporal=8, view="object", tube=windows)]
    ensemble = ContactEnsemble(ContactEnsembleConfig(members, threshold=0.0))
    assert ensemble.cfg.view == "object" and ensemble.cfg.tube == windows
    n = 4
    track = Track(3, np.arange(2, 6), np.full(n, 0.5), np.full(n, 0.5), np.full(n, 0.1), np.full(n, 0.1),
                  np.ones(n), np.ones(n), np.ones(n, bool))
    found = tube_contacts(ensemble, np.zeros((10, 60, 60), np.uint8), [track], shown_times(10, 25.0),
                          PictureContactConfig(threshold=0.0))
    assert set(found) == {3} and all(track.start - 1 <= c.frame <= track.end + 1 for c in found[3])
