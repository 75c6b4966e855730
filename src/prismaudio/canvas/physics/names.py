"""Is a plan's label for a PhysWorld object right? (ground truth for the benchmark only)

A label names an object right when it says what the object is or what it sounds like:
- the object's sound class, or a class that sounds alike (`ObjectModel.sound_class` /
  `alike`), also as a recorded version of it ("acoustic high tom" for "high tom");
- what a viewer would call it: the label is one of `ObjectModel.names` or ends in one as its
  head noun ("croquet ball" for a red rubber ball, "coffee mug" for a mug; not "ball boy").
The plan's numbering of same-named sources ("soccer ball 2") is not part of the name.
"""

from __future__ import annotations

from .objects import ObjectModel


def plain_label(label: str) -> str:
    """The label without the plan's numbering of namesakes, lowercased."""
    head, _, tail = label.strip().rpartition(" ")
    return (head if head and tail.isdigit() else label.strip()).lower()


def named_right(label: str | None, model: ObjectModel) -> bool:
    if not label:
        return False
    text = plain_label(label)
    sounds = {model.sound_class, *model.alike}
    if any(text == s or text.endswith(" " + s) for s in sounds):
        return True
    return any(text == n or text.endswith(" " + n) for n in model.names)
