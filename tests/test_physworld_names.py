"""What counts as naming a PhysWorld object right (the benchmark's ground truth)."""

from prismaudio.canvas.physics.names import named_right, plain_label
from prismaudio.canvas.physics.objects import MODELS, model


def test_what_it_is_or_what_it_sounds_like():
    red = model("red rubber ball")
    assert named_right("croquet ball", red) and named_right("ping-pong ball 2", red)  # a ball is a ball
    assert named_right("bongo", red) and named_right("acoustic high tom", red)  # its class, a recorded alike
    assert not named_right("ball boy", red) and not named_right("throwing", red) and not named_right(None, red)
    assert named_right("coffee mug", model("coffee mug")) and not named_right("brown bear", model("teddy bear"))
    assert plain_label("Soccer Ball 3") == "soccer ball" and plain_label("footsteps") == "footsteps"


def test_every_object_has_names_a_viewer_would_use():
    assert all(m.names for m in MODELS)
