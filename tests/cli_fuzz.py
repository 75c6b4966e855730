"""Property-based fuzzing of the command line (issue 24): hypothesis strategies for plans,
manifests, YAML configs, options and output paths, and one runner that checks what a user
sees. Shared by tests/test_cli_fuzz.py (fast, and a longer `slow` run) and
benchmarks/fuzz_cli.py (the >= 300-case figure).

Every case runs the real entry point, `prismaudio.cli.main(argv)`, in-process, and must:
exit 0 or 2; print no traceback and at most one `error` line; leave every input byte for byte
unchanged; leave no file behind in the sandbox. Each case is built so that it ends before any
heavy work (a missing --plan, a split that does not exist, a sound bank that does not exist),
so hundreds of cases take about a minute.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hypothesis import strategies as st

from media_factory import make_video

# ---- values -------------------------------------------------------------------------------
HUGE_INTS = st.sampled_from([2**63, 2**64, -(2**63) - 1, 10**30, 18446744073709551616, 10**400])
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    HUGE_INTS,
    st.sampled_from([0, -0.0, 1e-30, 1e30, 1e308, -1e308, 5e-324]),
)
SCALARS = st.one_of(NUMBERS, st.booleans(), st.none(), st.text(max_size=30))
WEIRD = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                    st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                     max_leaves=12)


def _good_plan() -> dict:
    return {
        "duration": 1.0,
        "semantic": {"sources": [{"id": "s1", "label": "dog", "description": "barks"}]},
        "temporal": {"events": [{"source": "s1", "onset": 0.2, "offset": 0.5, "kind": "impact"}]},
        "aesthetic": {"quality": ["clean"], "style": ["realistic foley"], "avoid": ["music"]},
        "spatial": {"tracks": [{"source": "s1", "times": [0.0, 1.0], "x": [-0.5, 0.5], "distance": [1.0, 1.0]}]},
        "notes": [],
        "version": 1,
    }


# Paths of the plan that a mutation may replace: (keys...) into _good_plan().
PLAN_FIELDS = [
    ("duration",), ("version",), ("notes",), ("semantic",), ("semantic", "sources"),
    ("semantic", "sources", 0, "id"), ("semantic", "sources", 0, "label"), ("semantic", "sources", 0, "description"),
    ("temporal", "events"), ("temporal", "events", 0, "source"), ("temporal", "events", 0, "onset"),
    ("temporal", "events", 0, "offset"), ("temporal", "events", 0, "kind"), ("aesthetic", "quality"),
    ("spatial", "tracks"), ("spatial", "tracks", 0, "source"), ("spatial", "tracks", 0, "times"),
    ("spatial", "tracks", 0, "x"), ("spatial", "tracks", 0, "distance"), ("spatial", "tracks", 0, "times", 1),
    ("spatial", "tracks", 0, "x", 0), ("spatial", "tracks", 0, "distance", 1),
]


def _set(data, keys, value):
    for k in keys[:-1]:
        data = data[k]
    data[keys[-1]] = value


@st.composite
def plan_mutations(draw) -> dict:
    plan = _good_plan()
    for _ in range(draw(st.integers(1, 3))):
        keys = draw(st.sampled_from(PLAN_FIELDS))
        try:
            _set(plan, keys, draw(WEIRD))
        except (KeyError, IndexError, TypeError):  # an earlier mutation replaced the parent
            pass
    if draw(st.booleans()):
        plan[draw(st.text(min_size=1, max_size=12))] = draw(WEIRD)  # unknown key
    return plan


def _deep(depth: int, open_: str, close: str) -> bytes:
    return (open_ * depth + close * depth).encode()


RAW_DOCUMENTS = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8")),
    st.text(alphabet=st.characters(min_codepoint=0xA0, max_codepoint=0xFF), min_size=1, max_size=60).map(
        lambda t: ('{"duration": 1.0, "notes": ["' + t + '"]}').encode("latin-1")),
    st.integers(50, 20_000).map(lambda d: _deep(d, "[", "]")),
    st.integers(50, 20_000).map(lambda d: _deep(d, '{"a":', "}").replace(b"}", b"1}", 1)),
    st.integers(4300, 20_000).map(lambda n: ('{"duration": ' + "7" * n + "}").encode()),
    st.sampled_from([b"", b"null", b"[]", b"1", b'"plan"', b"\xef\xbb\xbf{}", b"\x00" * 64, b"NaN", b"-Infinity"]),
)


def _dumps(data) -> bytes:
    try:
        return json.dumps(data, allow_nan=True).encode()
    except (ValueError, RecursionError):
        return b"{}"


PLAN_DOCUMENTS = st.one_of(plan_mutations().map(_dumps), RAW_DOCUMENTS)


@st.composite
def manifest_documents(draw) -> bytes:
    if draw(st.integers(0, 3)) == 0:
        return draw(RAW_DOCUMENTS).replace(b"\n", b" ")
    rows = []
    for i in range(draw(st.integers(1, 4))):
        row = {"id": f"clip{i}", "video": "video/a.mp4", "audio": "audio/a.wav", "split": "train",
               "plan": _good_plan()}
        for _ in range(draw(st.integers(1, 3))):
            key = draw(st.sampled_from(["id", "video", "audio", "split", "plan", "class", draw(st.text(max_size=6))]))
            row[key] = draw(st.one_of(WEIRD, plan_mutations()))
        rows.append(_dumps(row))
    return b"\n".join(rows) + b"\n"


CANVAS_KEYS = ["sample_rate", "duration", "width", "height", "fps", "single_per_class", "multi", "ood",
               "degraded_fraction", "seed", "workers", "classes", "sound_bank_mode", "soundfont", "emoji_font"]


@st.composite
def yaml_documents(draw) -> bytes:
    if draw(st.integers(0, 3)) == 0:
        return draw(RAW_DOCUMENTS)
    data = {draw(st.sampled_from(CANVAS_KEYS + ["lr", draw(st.text(max_size=8))])): draw(WEIRD)
            for _ in range(draw(st.integers(1, 4)))}
    try:
        text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()))
    except (yaml.YAMLError, RecursionError, ValueError):
        text = "{}"
    if draw(st.booleans()):  # numbers as PyYAML 1.1 reads them: 3e-4 is a string, .nan a float
        text += f"{draw(st.sampled_from(CANVAS_KEYS))}: {draw(st.sampled_from(['3e-4', '.nan', '.inf', '1e999', '0x10', '1_0']))}\n"
    return text.encode("utf-8")


OPTION_TEXT = st.one_of(
    st.text(max_size=25),
    NUMBERS.map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e40", "-1", "0", "18446744073709551616", "4294967296", "1e-400",
                     "0x10", "", " ", "--", "-", "١٢", "1_000", "9" * 5000]),
).filter(lambda t: "\x00" not in t)  # argv cannot hold NUL

PATH_TEXT = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40),
    st.sampled_from(["", ".", "..", "/", "/proc/x", "/proc/x/y.json", "/dev/null", "/etc", "~", "a/../..",
                     "x" * 300, "a/" * 60 + "z", "é/ü.json", " ", "out.json/", "nul\u202e.json"]),
)


# ---- sandbox and runner -------------------------------------------------------------------
@dataclass
class Sandbox:
    root: Path
    video: Path
    plan: Path
    audio: Path
    inputs: list[Path] = field(default_factory=list)


def make_sandbox(root: Path) -> Sandbox:
    """A folder with one small video, a valid plan of it and one short stereo WAV (read-only
    inputs: each case checks them byte for byte)."""
    import numpy as np
    import soundfile as sf

    root.mkdir(parents=True, exist_ok=True)
    video = make_video(root / "in.mp4", seconds=1.0, audio_rate=16000)
    plan = root / "in.plan.json"
    plan.write_text(json.dumps(_good_plan()))
    audio = root / "audio"
    audio.mkdir(exist_ok=True)
    sf.write(str(audio / "a.wav"), np.zeros((1600, 2), np.float32), 16000)
    box = Sandbox(root, video, plan, audio)
    box.inputs = [video, plan, audio / "a.wav"]
    return box


@dataclass
class Outcome:
    argv: list[str]
    code: int | None
    out: str
    err: str
    problems: list[str]


@dataclass
class Tally:
    """What a fuzz run saw (the figures of benchmarks/fuzz_cli.py)."""

    cases: int = 0
    by_family: Counter = field(default_factory=Counter)
    exit_codes: Counter = field(default_factory=Counter)
    tracebacks: int = 0
    bad_exit_codes: int = 0
    multi_error_lines: int = 0
    changed_inputs: int = 0
    files_left: int = 0
    failures: list[dict] = field(default_factory=list)

    def add(self, family: str, outcome: Outcome) -> None:
        self.cases += 1
        self.by_family[family] += 1
        self.exit_codes[str(outcome.code)] += 1
        for p in outcome.problems:
            kind = p.split(":", 1)[0]
            if kind == "traceback":
                self.tracebacks += 1
            elif kind == "exit":
                self.bad_exit_codes += 1
            elif kind == "lines":
                self.multi_error_lines += 1
            elif kind == "changed":
                self.changed_inputs += 1
            elif kind == "left":
                self.files_left += 1
        if outcome.problems and len(self.failures) < 50:
            self.failures.append({"family": family, "argv": [a[:200] for a in outcome.argv],
                                  "code": outcome.code, "problems": outcome.problems, "stderr": outcome.err[-1500:]})


TALLY = Tally()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def run_case(box: Sandbox, argv: list, scratch: list[Path] = (), family: str = "cli", tally: Tally | None = None) -> Outcome:
    """Run `prismaudio <argv>` in-process in the sandbox; `scratch` are this case's own input
    files (checked unchanged too, removed afterwards)."""
    from prismaudio.cli import main

    argv = [str(a) for a in argv]
    inputs = [*box.inputs, *scratch]
    before = {p: _digest(p) for p in inputs}
    listing = _listing(box.root)
    out, err = io.StringIO(), io.StringIO()
    code: int | None
    cwd = os.getcwd()
    os.chdir(box.root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
            except BaseException:  # a traceback is what the user would see
                err.write("Traceback (most recent call last):\n" + traceback.format_exc())
                code = 1
    finally:
        os.chdir(cwd)
        import logging

        logging.getLogger("prismaudio").handlers[:] = []  # main() set a handler on the real stderr
    problems = []
    text = err.getvalue()
    if "Traceback" in text:
        problems.append("traceback: " + text.strip().splitlines()[-1][:300])
    if code not in (0, 2):
        problems.append(f"exit: code {code}")
    errors = [ln for ln in text.splitlines() if ln.startswith("error")]
    if len(errors) > 1:
        problems.append(f"lines: {len(errors)} error lines")
    for p in inputs:
        if not p.exists() or _digest(p) != before[p]:
            problems.append(f"changed: {p.name}")
    left = _listing(box.root) - listing
    if left:
        problems.append(f"left: {sorted(left)[:5]}")
        for name in sorted(left, key=len, reverse=True):  # clean up for the next case
            target = box.root / name
            if target.is_file() or target.is_symlink():
                target.unlink()
            elif target.is_dir():
                try:
                    target.rmdir()
                except OSError:
                    pass
    outcome = Outcome(argv, code, out.getvalue(), text, problems)
    (tally or TALLY).add(family, outcome)
    return outcome


def scratch_file(box: Sandbox, name: str, data: bytes) -> Path:
    path = box.root / "cases" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


# ---- the five families --------------------------------------------------------------------
def case_plan(box: Sandbox, document: bytes, tally: Tally | None = None) -> Outcome:
    """`plan VIDEO --check PLAN` on a generated plan document."""
    plan = scratch_file(box, "p.json", document)
    return run_case(box, ["plan", box.video, "--check", plan], [plan], "plan", tally)


def case_manifest(box: Sandbox, document: bytes, tally: Tally | None = None) -> Outcome:
    """`extract --manifest M --out F --split <none such>`: the manifest is read and checked,
    then nothing is extracted."""
    manifest = scratch_file(box, "manifest.jsonl", document)
    return run_case(box, ["extract", "--manifest", manifest, "--out", box.root / "feat", "--split", "nosuchsplit"],
                    [manifest], "manifest", tally)


def case_config(box: Sandbox, document: bytes, tally: Tally | None = None) -> Outcome:
    """`canvas build OUT --config CFG --sound-bank <missing>`: the config is loaded and checked;
    the missing sound bank stops the build before anything is written."""
    cfg = scratch_file(box, "c.yaml", document)
    return run_case(box, ["canvas", "build", box.root / "canvas_out", "--config", cfg, "--sound-bank",
                          box.root / "no_bank", "--sound-bank-mode", "replace"], [cfg], "config", tally)


OPTION_COMMANDS = {
    # each ends before heavy work whatever the options: a missing --plan, missing folders
    "generate": (["generate", "{video}", "-o", "{root}/gen", "--plan", "{root}/missing.json", "--model", "tiny-random"],
                 ["--seed", "--num-steps", "--cfg-strength", "--duration", "--batch-size", "--format", "--device"]),
    "eval": (["eval", "--pred-audio", "{root}/nopred", "--gt-audio", "{audio}", "-o", "{root}/ev"],
             ["--threads", "--plots"]),
    "codec": (["codec", "eval", "--audio", "{audio}", "--checkpoint", "{root}/missing.safetensors", "-o", "{root}/r.json"],
              ["--phase-iterations", "--limit", "--split"]),
    "canvas": (["canvas", "build", "{root}/canvas_out", "--sound-bank", "{root}/no_bank", "--sound-bank-mode", "replace"],
               ["--seed", "--duration", "--fps", "--workers", "--degraded-fraction", "--multi", "--size", "--classes"]),
    "classes": (["canvas", "classes"], ["--classes"]),
    "plan": (["plan", "{video}", "--check", "{plan}"], ["--format", "--llm-url"]),
    "extract": (["extract", "--manifest", "{root}/missing.jsonl", "--out", "{root}/feat"], ["--shard", "--semantic-fps", "--split"]),
}


def _fill(template: list[str], box: Sandbox) -> list[str]:
    return [t.format(video=box.video, root=box.root, audio=box.audio, plan=box.plan) for t in template]


@st.composite
def option_cases(draw) -> tuple[str, list[str]]:
    name = draw(st.sampled_from(sorted(OPTION_COMMANDS)))
    template, flags = OPTION_COMMANDS[name]
    extra: list[str] = []
    for flag in draw(st.lists(st.sampled_from(flags), min_size=1, max_size=3, unique=True)):
        extra += [flag, draw(OPTION_TEXT)]
    return name, extra


def case_options(box: Sandbox, case: tuple[str, list[str]], tally: Tally | None = None) -> Outcome:
    name, extra = case
    return run_case(box, [*_fill(OPTION_COMMANDS[name][0], box), *extra], [], "options", tally)


OUTPUT_COMMANDS = {
    "plan": ["plan", "{video}", "--check", "{plan}", "-o", "{out}"],
    "generate": ["generate", "{video}", "-o", "{out}", "--plan", "{root}/missing.json", "--model", "tiny-random"],
    "eval": ["eval", "--pred-audio", "{root}/nopred", "--gt-audio", "{audio}", "-o", "{out}"],
    "eval-cache": ["eval", "--pred-audio", "{root}/nopred", "--gt-audio", "{audio}", "-o", "{root}/ev", "--cache", "{out}"],
    "codec": ["codec", "eval", "--audio", "{audio}", "--checkpoint", "{root}/missing.safetensors", "-o", "{out}"],
    "codec-plots": ["codec", "eval", "--audio", "{audio}", "--checkpoint", "{root}/missing.safetensors", "--plots", "{out}"],
    "extract": ["extract", "--manifest", "{root}/missing.jsonl", "--out", "{out}"],
}


@st.composite
def output_cases(draw) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(OUTPUT_COMMANDS)))
    kind = draw(st.sampled_from(["text", "input", "inside_input", "input_folder", "audio_folder"]))
    out = {
        "text": None,
        "input": "{video}", "inside_input": "{video}/x", "input_folder": "{root}", "audio_folder": "{audio}/a.wav",
    }[kind]
    if out is None:
        out = draw(PATH_TEXT).replace("{", "(").replace("}", ")")
    return name, out


def case_output(box: Sandbox, case: tuple[str, str], tally: Tally | None = None) -> Outcome:
    name, out = case
    out = out.format(video=box.video, root=box.root, audio=box.audio)
    argv = [a.format(video=box.video, root=box.root, audio=box.audio, plan=box.plan, out=out) if "{" in a else a
            for a in OUTPUT_COMMANDS[name]]
    return run_case(box, argv, [], "output", tally)

