"""ImageNet-1k classes (standard 0-based index order) mapped to sound-source words.

Used on footage that SynthCanvas never showed: the frozen EfficientNet-Lite0 classifier
names what is in an object crop, and this table turns the ImageNet class into what it
sounds like and whether it makes impacts (hits, steps) or a sustained sound (engines,
water, wind). Ranges follow the ImageNet class order (animals 0-397, objects 398-999).
Classes not listed make no sound we can name; the planner then says "moving object".
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["impact", "sustained"]

# (first index, last index inclusive, label, description, kind)
_RANGES: list[tuple[int, int, str, str, Kind]] = [
    (0, 6, "fish splash", "a fish splashing in water", "impact"),
    (7, 24, "bird", "a bird chirping and flapping its wings", "sustained"),
    (25, 32, "frog", "a frog croaking", "impact"),
    (33, 68, "reptile", "a reptile rustling over the ground", "sustained"),
    (69, 126, "small creature", "a small creature scuttling", "sustained"),
    (127, 146, "bird", "a bird calling and flapping its wings", "sustained"),
    (147, 150, "sea mammal", "a sea mammal splashing and calling", "sustained"),
    (151, 268, "dog", "a dog barking and panting", "impact"),
    (269, 280, "wild dog", "a wolf or fox howling and yelping", "sustained"),
    (281, 293, "cat", "a cat meowing", "impact"),
    (294, 297, "bear", "a bear growling", "sustained"),
    (298, 299, "small mammal", "a small mammal squeaking", "impact"),
    (300, 326, "insect", "an insect buzzing", "sustained"),
    (327, 329, "sea creature", "water lapping", "sustained"),
    (330, 338, "small mammal", "a small animal squeaking and rustling", "impact"),
    (339, 339, "horse", "a horse neighing and its hooves clopping", "impact"),
    (340, 340, "zebra", "hooves galloping", "impact"),
    (341, 343, "pig", "a pig grunting", "impact"),
    (344, 344, "hippopotamus", "a hippopotamus grunting and splashing", "impact"),
    (345, 347, "cattle", "cattle mooing", "impact"),
    (348, 353, "sheep or goat", "a sheep or goat bleating", "impact"),
    (354, 355, "camel", "a camel grunting", "impact"),
    (356, 364, "small mammal", "a small mammal rustling", "impact"),
    (365, 384, "monkey", "a monkey chattering and screeching", "impact"),
    (385, 386, "elephant", "an elephant trumpeting", "impact"),
    (387, 388, "animal", "an animal rustling", "impact"),
    (389, 397, "fish splash", "water splashing", "impact"),
]

_SINGLE: dict[int, tuple[str, str, Kind]] = {
    401: ("accordion", "an accordion playing", "sustained"),
    402: ("acoustic guitar", "an acoustic guitar being strummed", "impact"),
    403: ("ship", "a large ship's engine and horn", "sustained"),
    404: ("airplane", "a jet airplane roaring", "sustained"),
    405: ("airship", "a propeller drone", "sustained"),
    407: ("ambulance", "an ambulance siren", "sustained"),
    409: ("clock", "a clock ticking", "impact"),
    413: ("gunshot", "gunshots", "impact"),
    420: ("banjo", "a banjo being picked", "impact"),
    432: ("bassoon", "a bassoon playing", "sustained"),
    436: ("car", "a car engine and tyres on the road", "sustained"),
    442: ("bell", "a church bell ringing", "impact"),
    444: ("bicycle", "a bicycle rattling and its bell", "sustained"),
    466: ("train", "a train rushing past on its rails", "sustained"),
    468: ("car", "a taxi engine and horn", "sustained"),
    472: ("canoe", "paddles splashing in water", "impact"),
    484: ("boat", "a boat on the water", "sustained"),
    486: ("cello", "a cello playing", "sustained"),
    487: ("telephone", "a phone ringing", "sustained"),
    494: ("chime", "wind chimes ringing", "impact"),
    497: ("bell", "church bells ringing", "impact"),
    510: ("ship", "a container ship's engine and horn", "sustained"),
    511: ("car", "a sports car engine", "sustained"),
    513: ("trumpet", "a cornet playing", "sustained"),
    528: ("telephone", "an old telephone ringing", "sustained"),
    530: ("clock", "a digital clock beeping", "impact"),
    541: ("drum", "a drum being hit", "impact"),
    546: ("electric guitar", "an electric guitar playing", "impact"),
    547: ("train", "an electric train humming on its rails", "sustained"),
    555: ("fire engine", "a fire engine siren", "sustained"),
    558: ("flute", "a flute playing", "sustained"),
    565: ("train", "freight wagons clattering", "sustained"),
    566: ("french horn", "a french horn playing", "sustained"),
    569: ("truck", "a garbage truck engine", "sustained"),
    576: ("boat", "a gondola in lapping water", "sustained"),
    577: ("gong", "a gong being struck", "impact"),
    579: ("grand piano", "a piano playing", "impact"),
    593: ("harmonica", "a harmonica playing", "sustained"),
    594: ("harp", "a harp being plucked", "impact"),
    609: ("car", "a jeep engine", "sustained"),
    625: ("boat", "a lifeboat engine", "sustained"),
    627: ("car", "a limousine engine", "sustained"),
    628: ("ship", "an ocean liner's horn", "sustained"),
    641: ("maracas", "maracas shaking", "impact"),
    642: ("marimba", "a marimba being played", "impact"),
    656: ("car", "a minivan engine", "sustained"),
    657: ("rocket", "a rocket roaring", "sustained"),
    661: ("car", "a car engine", "sustained"),
    665: ("motorcycle", "a moped engine buzzing", "sustained"),
    670: ("motorcycle", "a scooter engine buzzing", "sustained"),
    671: ("bicycle", "a mountain bike rattling", "sustained"),
    675: ("truck", "a moving van engine", "sustained"),
    683: ("oboe", "an oboe playing", "sustained"),
    684: ("ocarina", "an ocarina playing", "sustained"),
    687: ("organ", "an organ playing", "sustained"),
    699: ("pan flute", "a pan flute playing", "sustained"),
    705: ("train", "a passenger car on rails", "sustained"),
    707: ("telephone", "a pay phone ringing", "sustained"),
    717: ("truck", "a pickup truck engine", "sustained"),
    724: ("ship", "a ship creaking on the sea", "sustained"),
    734: ("police car", "a police siren", "sustained"),
    751: ("car", "a race car engine roaring", "sustained"),
    763: ("gunshot", "revolver shots", "impact"),
    764: ("gunshot", "rifle shots", "impact"),
    776: ("saxophone", "a saxophone playing", "sustained"),
    779: ("bus", "a school bus engine", "sustained"),
    812: ("rocket", "a space shuttle launch roaring", "sustained"),
    817: ("car", "a sports car engine revving", "sustained"),
    820: ("train", "a steam locomotive chugging and whistling", "sustained"),
    822: ("steel drum", "a steel drum being played", "impact"),
    829: ("tram", "a streetcar rumbling and ringing its bell", "sustained"),
    833: ("submarine", "a submarine's sonar and engine", "sustained"),
    847: ("tank", "a tank's tracks and engine", "sustained"),
    864: ("truck", "a tow truck engine", "sustained"),
    866: ("tractor", "a tractor engine", "sustained"),
    867: ("truck", "a lorry engine and air brakes", "sustained"),
    874: ("bus", "a trolleybus humming", "sustained"),
    875: ("trombone", "a trombone playing", "sustained"),
    881: ("piano", "an upright piano playing", "impact"),
    889: ("violin", "a violin playing", "sustained"),
    892: ("clock", "a wall clock ticking", "impact"),
    895: ("airplane", "a warplane roaring overhead", "sustained"),
    908: ("airplane", "an airplane flying over", "sustained"),
    914: ("boat", "a sailing boat in the wind", "sustained"),
    973: ("water", "waves over a reef", "sustained"),
    975: ("water", "water lapping at a lake shore", "sustained"),
    977: ("water", "waves on a sandbar", "sustained"),
    978: ("seashore", "waves breaking on the shore", "sustained"),
}


def imagenet_sound(index: int) -> tuple[str, str, Kind] | None:
    """(label, description, kind) for an ImageNet class index, or None when it has no sound word."""
    if index in _SINGLE:
        return _SINGLE[index]
    for lo, hi, label, desc, kind in _RANGES:
        if lo <= index <= hi:
            return label, desc, kind
    return None


def sound_from_probabilities(probs, top: int = 5, min_mass: float = 0.15) -> tuple[str, str, Kind, float] | None:
    """Pool ImageNet probability mass by sound word over the top classes; the heaviest word wins
    when it holds at least `min_mass`. Returns (label, description, kind, mass) or None."""
    import numpy as np

    p = np.asarray(probs, dtype=float)
    order = np.argsort(-p)[:top]
    mass: dict[str, float] = {}
    info: dict[str, tuple[str, Kind]] = {}
    for i in order:
        hit = imagenet_sound(int(i))
        if hit is None:
            continue
        label, desc, kind = hit
        mass[label] = mass.get(label, 0.0) + float(p[i])
        info.setdefault(label, (desc, kind))
    if not mass:
        return None
    label = max(mass, key=mass.get)
    if mass[label] < min_mass:
        return None
    return label, info[label][0], info[label][1], mass[label]
