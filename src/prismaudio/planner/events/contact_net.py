"""Contacts seen in the picture: a small network that marks the frames where something hits.

The motion path (`motion.py`) finds contacts on tracks; it misses what the tracker loses or
never makes and every hop smaller than a pixel of the 112-pixel motion frames (a tumbling
box rattling on its corners, two blobs merging). This network looks at the frames
themselves: for each frame k it sees five grey frames around it at `size` x `size` (frame k
and the four differences between k-2 .. k+2), where a contact is an abrupt change of the
picture's motion, and says whether a contact happened between frame k-1 and frame k and
when (a fraction of the frame interval before frame k). Convolutions see each place of the
picture; a max over the picture keeps one small object's jolt; a temporal convolution over
the frames' features places it in time. It is trained on PhysWorld's exact contacts
(`prismaudio.planner_training.contact_net`, rendered clips without end); weights in
`assets/planner/contact_net.safetensors` (config inside). Without the file nothing changes.
The file may hold several networks trained apart (`ContactEnsemble`): their outputs are
averaged, since each misses other soft contacts.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .object_tubes import TubeConfig

CONTACT_NET_PATH = Path(__file__).resolve().parents[2] / "assets" / "planner" / "contact_net.safetensors"
CONTACT_TUBES_PATH = CONTACT_NET_PATH.with_name("contact_tubes.safetensors")  # the object view's
CONTACT_NET_KIND = "planner-contact-net"
CONTACT_ENSEMBLE_KIND = "planner-contact-nets"
CONTEXT = 2  # frames each side of the frame judged
CHUNK = 64  # frames judged per batch (memory stays flat on long videos)


@dataclass
class ContactNetConfig:
    size: int = 112  # grey frames are resized to size x size
    channels: tuple[int, ...] = (16, 32, 48, 64)  # stride-2 convolutions
    blocks: int = 1  # convolutions per stage: the first halves the picture, the others keep its size
    temporal: int = 64  # width of the temporal convolution
    kernel: int = 5  # frames the temporal convolution spans
    threshold: float = 0.5  # probability of a contact peak that counts (set on val by the trainer)
    fps: float = 25.0  # the frame rate it was trained at
    view: str = "picture"  # picture: whole frames; object: a tube around each tracked object (object_tubes.py)
    tube: TubeConfig = field(default_factory=TubeConfig)  # the object view's windows (as trained)

    def __post_init__(self):
        if self.view not in ("picture", "object"):
            raise ValueError(f"view must be picture or object, got '{self.view}'")


class ContactNet(nn.Module):
    def __init__(self, cfg: ContactNetConfig):
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        cin = 2 * CONTEXT + 1
        for cout in cfg.channels:
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), nn.GELU()]
            for _ in range(cfg.blocks - 1):
                layers += [nn.Conv2d(cout, cout, 3, padding=1), nn.GELU()]
            cin = cout
        self.picture = nn.Sequential(*layers)
        width = 2 * cin  # max and mean over the picture
        pad = cfg.kernel // 2
        self.time = nn.Sequential(nn.Conv1d(width, cfg.temporal, cfg.kernel, padding=pad), nn.GELU(),
                                  nn.Conv1d(cfg.temporal, cfg.temporal, cfg.kernel, padding=pad), nn.GELU())
        self.head = nn.Conv1d(cfg.temporal, 3, 1)  # contact logit, timing before the frame, strength
        for m in self.picture:
            if isinstance(m, nn.Conv2d):
                # variance-keeping start: with torch's default, each of eight convolutions
                # without normalisation shrinks the signal ~3x and a deep stack never leaves the base rate
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def frame_features(self, grey: torch.Tensor) -> torch.Tensor:
        """grey [T + 2 * CONTEXT, S, S] in [0, 1] -> [T, D]: each inner frame with its context."""
        t = grey.shape[0] - 2 * CONTEXT
        diffs = 4.0 * (grey[1:] - grey[:-1])  # diffs[i] = grey[i + 1] - grey[i]
        windows = [grey[CONTEXT : CONTEXT + t]] + [diffs[j : j + t] for j in range(2 * CONTEXT)]
        x = torch.stack(windows, dim=1)  # [T, 5, S, S]
        h = self.picture(x)
        return torch.cat([h.amax(dim=(2, 3)), h.mean(dim=(2, 3))], dim=1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """features [B, T, D] -> (contact logits [B, T], timing [B, T]: how far before frame k
        the contact was, in frame intervals, 0 .. 1; strength [B, T]: its loudness relative to
        the loudest contact of its object, 0 .. 1)."""
        out = self.head(self.time(features.transpose(1, 2)))
        return out[:, 0], torch.sigmoid(out[:, 1]), torch.sigmoid(out[:, 2])


@dataclass
class ContactEnsembleConfig:
    members: list[ContactNetConfig]
    threshold: float = 0.5  # on the members' mean probability (set on val by the trainer)

    def __post_init__(self):
        # one input for all: the members see the same view at one picture size (object view: through the same windows)
        if not self.members or len({(m.size, m.view, astuple(m.tube)) for m in self.members}) != 1:
            raise ValueError("an ensemble needs one or more member networks, all seeing the same view at one picture size"
                             " (and tubes through the same windows)")

    @property
    def size(self) -> int:
        return self.members[0].size

    @property
    def view(self) -> str:
        return self.members[0].view

    @property
    def tube(self) -> TubeConfig:
        return self.members[0].tube


class ContactEnsemble(nn.Module):
    """Networks trained apart whose outputs are averaged (`grey_contacts`)."""

    def __init__(self, cfg: ContactEnsembleConfig):
        super().__init__()
        self.cfg = cfg
        self.members = nn.ModuleList(ContactNet(m) for m in cfg.members)


def grey_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """uint8 [T, H, W, 3] -> uint8 [T, size, size] grey (area-averaged)."""
    import cv2

    out = np.empty((len(frames), size, size), np.uint8)
    for i, f in enumerate(frames):
        out[i] = cv2.resize(cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY), (size, size),
                            interpolation=cv2.INTER_AREA)
    return out


def padded(grey: np.ndarray) -> torch.Tensor:
    """uint8 [T, S, S] -> float [T + 2 * CONTEXT, S, S], the first and last frames repeated."""
    g = torch.from_numpy(np.ascontiguousarray(grey)).float() / 255.0
    return torch.cat([g[:1].expand(CONTEXT, -1, -1), g, g[-1:].expand(CONTEXT, -1, -1)])


def clip_features(net: ContactNet, grey: np.ndarray) -> torch.Tensor:
    """[T, D] picture features of every frame, CHUNK frames at a time."""
    g = padded(grey)
    t = len(grey)
    parts = [net.frame_features(g[a : min(t, a + CHUNK) + 2 * CONTEXT]) for a in range(0, t, CHUNK)]
    return torch.cat(parts)


@dataclass
class FrameContacts:
    probability: np.ndarray  # [T] a contact between frame k-1 and frame k
    before: np.ndarray  # [T] how long before frame k, in frame intervals
    strength: np.ndarray  # [T] the contact's loudness relative to its object's loudest
    peaks: list[int] = field(default_factory=list)  # frames of the contacts found


def contact_peaks(prob: np.ndarray, threshold: float) -> list[int]:
    """Frames whose probability is at least `threshold` and a local maximum (ties: the first)."""
    p = np.asarray(prob, float)
    n = len(p)
    return [k for k in range(n) if p[k] >= threshold and (k == 0 or p[k] > p[k - 1]) and (k == n - 1 or p[k] >= p[k + 1])]


@torch.no_grad()
def grey_contacts(net: ContactNet | ContactEnsemble, grey: np.ndarray, threshold: float = 0.0) -> FrameContacts:
    """The network's contacts in grey frames uint8 [T, S, S] at its size (0: its own threshold);
    an ensemble's probability, timing and strength are its members' means."""
    net.eval()
    outputs = []
    for member in net.members if isinstance(net, ContactEnsemble) else [net]:
        logits, before, strength = member(clip_features(member, grey)[None])
        outputs.append(torch.stack([torch.sigmoid(logits[0]), before[0], strength[0]]))
    prob, before, strength = torch.stack(outputs).mean(dim=0).numpy()
    return FrameContacts(prob, before, strength, contact_peaks(prob, threshold or net.cfg.threshold))


def frame_contacts(net: ContactNet | ContactEnsemble, frames: np.ndarray, threshold: float = 0.0) -> FrameContacts:
    """The network's contacts in analysis frames uint8 [T, H, W, 3] (0: its own threshold)."""
    return grey_contacts(net, grey_frames(frames, net.cfg.size), threshold)


def contact_times(found: FrameContacts, times: np.ndarray) -> list[tuple[float, float]]:
    """(time in seconds, probability) of each peak: the frame's shown time less the network's
    timing, in the interval between the frame and the one shown before it."""
    out = []
    for k in found.peaks:
        step = float(times[k] - times[k - 1]) if k > 0 else 0.0
        out.append((float(times[k] - found.before[k] * step), float(found.probability[k])))
    return out


def packaged_networks() -> list[str]:
    """The packaged networks' files: the picture view's and the object view's."""
    return [str(CONTACT_NET_PATH), str(CONTACT_TUBES_PATH)]


@lru_cache(maxsize=4)
def load_contact_net(path: str = str(CONTACT_NET_PATH)) -> ContactNet | ContactEnsemble | None:
    """The network (or ensemble of networks) in `path`; None where there is no such file."""
    from ...config import from_dict
    from ...train.checkpoint import load_checkpoint, read_header

    if not Path(path).is_file():
        return None
    ensemble = read_header(path).get("kind") == CONTACT_ENSEMBLE_KIND
    ckpt = load_checkpoint(path, kind=CONTACT_ENSEMBLE_KIND if ensemble else CONTACT_NET_KIND)
    net = ContactEnsemble(from_dict(ContactEnsembleConfig, ckpt.config)) if ensemble else \
        ContactNet(from_dict(ContactNetConfig, ckpt.config))
    net.load_state_dict(ckpt.group("model"))
    return net.eval()
