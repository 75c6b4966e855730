"""Fuzzing the command line with hypothesis (issue 24): generated plans, manifests, YAML configs,
options and output paths through the real entry point. Each case must exit 0 or 2 with no
traceback, at most one error line, unchanged inputs and no file left behind (tests/cli_fuzz.py).

Fast by default (about 300 cases); `pytest -m slow tests/test_cli_fuzz.py` runs ten times as
many. benchmarks/fuzz_cli.py writes the counts to benchmarks/results/fuzz_cli.json.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

import cli_fuzz as fz

FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
SLOW = settings(FAST, max_examples=600, derandomize=False)


@pytest.fixture(scope="module")
def box(tmp_path_factory) -> fz.Sandbox:
    return fz.make_sandbox(tmp_path_factory.mktemp("fuzz"))


def check(outcome: fz.Outcome) -> None:
    assert not outcome.problems, f"{outcome.argv[:8]}: {outcome.problems}\n{outcome.err[-2000:]}"


def test_plans(box):
    @FAST
    @given(fz.PLAN_DOCUMENTS)
    def run(document):
        check(fz.case_plan(box, document))

    run()


def test_manifests(box):
    @FAST
    @given(fz.manifest_documents())
    def run(document):
        check(fz.case_manifest(box, document))

    run()


def test_yaml_configs(box):
    @FAST
    @given(fz.yaml_documents())
    def run(document):
        check(fz.case_config(box, document))

    run()


def test_options(box):
    @FAST
    @given(fz.option_cases())
    def run(case):
        check(fz.case_options(box, case))

    run()


def test_output_paths(box):
    @FAST
    @given(fz.output_cases())
    def run(case):
        check(fz.case_output(box, case))

    run()


@pytest.mark.slow
@pytest.mark.parametrize("family", ["plans", "manifests", "configs", "options", "outputs"])
def test_long_fuzz(box, family):
    strategy, case = {
        "plans": (fz.PLAN_DOCUMENTS, fz.case_plan), "manifests": (fz.manifest_documents(), fz.case_manifest),
        "configs": (fz.yaml_documents(), fz.case_config), "options": (fz.option_cases(), fz.case_options),
        "outputs": (fz.output_cases(), fz.case_output),
    }[family]

    @SLOW
    @given(strategy)
    def run(value):
        check(case(box, value))

    run()
