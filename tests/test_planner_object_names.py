"""An object that sounds by its own motion is named by what ImageNet sees it is."""

import numpy as np

from prismaudio.planner.identify.naming import Naming, NamingConfig, imagenet_labels
from prismaudio.planner.identify.object_names import named_by_itself, thing_label


def one_hot(label: str, p: float = 0.9) -> np.ndarray:
    probs = np.full(1000, (1 - p) / 999)
    probs[imagenet_labels().index(label)] = p
    return probs


THROW = Naming("throwing", "a ball thrown", "impact", 0.9, False, ("soccer ball",))


def test_a_bouncing_ball_is_a_ball_not_a_throw():
    named = named_by_itself(THROW, one_hot("soccer ball"), ["bounce", "bounce", "stop"], NamingConfig())
    assert named.label == "soccer ball" and "hitting" in named.description and named.kind is None
    rolled = named_by_itself(THROW, one_hot("soccer ball"), ["rolling or sliding"], NamingConfig())
    assert rolled.label == "soccer ball" and "moving over" in rolled.description


def test_voices_engines_people_and_unsure_guesses_keep_their_class():
    cfg = NamingConfig()
    dog = Naming("dog barking", "a dog barking", "impact", 0.9)
    assert named_by_itself(dog, one_hot("Dalmatian"), ["bounce"], cfg) is dog  # animals sound by their voices
    engine = Naming("car passing", "a car engine", "sustained", 0.9)
    assert named_by_itself(engine, one_hot("sports car"), ["on screen"], cfg) is engine
    walker = Naming("footsteps", "a person walking", "impact", 0.8, person=True)
    assert named_by_itself(walker, one_hot("jeans"), ["step"], cfg) is walker
    assert named_by_itself(THROW, one_hot("soccer ball", 0.2), ["bounce"], cfg) is THROW  # not sure enough
    # as sure as the class it was named by needed to be
    assert named_by_itself(THROW, one_hot("soccer ball", 0.35), ["bounce"], cfg).label == "soccer ball"
    guess = Naming("throwing", "a ball thrown", "impact", 0.5, False, ("baseball",))
    assert named_by_itself(guess, one_hot("soccer ball", 0.3), ["bounce"], cfg) is guess
    # ... unless ImageNet's balls together are as sure as a ball needs (object_names.ball_label)
    assert named_by_itself(guess, one_hot("soccer ball", 0.4), ["bounce"], cfg).label == "soccer ball"
    assert named_by_itself(THROW, one_hot("soccer ball"), [], cfg) is THROW  # no events: nothing to name by
    assert thing_label(one_hot("Dalmatian"), 0.5) is None and thing_label(one_hot("coffee mug"), 0.5) == ("coffee mug", 0.9)


def test_an_unsure_animal_that_only_hit_things_or_moved_in_place_is_no_voice():
    cfg = NamingConfig()
    gull = Naming("seagull", "seagulls calling", "impact", 0.59, False, ("albatross",))
    unsure = one_hot("albatross", 0.59)
    assert named_by_itself(gull, unsure, ["moved"], cfg).label == "unknown object"
    assert named_by_itself(gull, unsure, ["topple or knock"], cfg).label == "toy bird"  # a thing that looks like a bird
    assert named_by_itself(gull, one_hot("albatross", 0.95), ["moved"], cfg) is gull  # a bird ImageNet is sure of: a real one
    assert named_by_itself(gull, unsure, ["moved", "moving"], cfg) is gull  # it also moved about: it may call
