"""The documentation's examples are real: the plan example in docs/plan-format.md loads."""

from __future__ import annotations

import re
from pathlib import Path

from prismaudio.planner.plan import Plan

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_plan_format_example_loads_and_validates():
    block = re.search(r"```json\n(.*?)```", (DOCS / "plan-format.md").read_text(), re.S).group(1)
    plan = Plan.from_json(block)
    assert [e.onset for e in plan.temporal.events] == [1.88, 3.24, 5.12]
    assert all(e.offset > e.onset for e in plan.temporal.events)
    assert plan.track("s2").x_at(4.0) == -0.6
