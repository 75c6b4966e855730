"""prismaudio.validate: the checks every command runs where input enters."""

from __future__ import annotations

import argparse

import pytest

from prismaudio.errors import ConfigError
from prismaudio import validate as v


def test_excerpt_and_clip_keep_messages_short():
    assert v.excerpt("abc") == "'abc'"
    big = v.excerpt([0.5] * 1_000_000)
    assert big.startswith("list of 1000000 items starting [0.5, 0.5, 0.5]") and len(big) < 120
    assert v.excerpt("x" * 10_000).endswith("(10002 chars)") and len(v.excerpt("x" * 10_000)) < 90
    assert len(v.excerpt(10**5000)) < 90  # repr of a huge int raises ValueError past 4300 digits
    assert v.clip("a\n  b", 10) == "a b" and v.clip("y" * 500, 20).endswith("(500 chars)")


def test_finite_and_bounded_int():
    assert v.finite(2, "x", 0, 3) == 2.0
    for bad, words in [(float("nan"), "finite"), (float("inf"), "finite"), (10**400, "too large"), ("1", "number"),
                       (True, "number"), (-1, "at least 0"), (4, "at most 3")]:
        with pytest.raises(ConfigError, match=f"x: .*{words}"):
            v.finite(bad, "x", 0, 3)
    with pytest.raises(ConfigError, match="greater than 0"):
        v.finite(0, "x", 0, lo_open=True)
    assert v.bounded_int(5, "n", 0, 5) == 5
    for bad in (6, -1, 1.0, True, "3"):
        with pytest.raises(ConfigError, match="^n: "):
            v.bounded_int(bad, "n", 0, 5)
    assert v.seed(2**32 - 1) == 2**32 - 1
    with pytest.raises(ConfigError, match="--seed"):
        v.seed(2**32)


def test_argparse_types():
    parse = v.int_arg(1, 10)
    assert parse(" 7 ") == 7
    for bad in ("0", "11", "1e3", "", "9" * 5000, "nan"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(bad)
    number = v.float_arg(0, 1)
    assert number("0.25") == 0.25 and number("1e-3") == 0.001
    for bad in ("nan", "inf", "-inf", "2", "-0.1", "x", "1e999"):
        with pytest.raises(argparse.ArgumentTypeError):
            number(bad)
    assert v.SEED("0") == 0 and v.THREADS("2") == 2


def test_read_text_and_parse_json(tmp_path):
    good = tmp_path / "a.json"
    good.write_text('{"k": [1, 2]}')
    assert v.parse_json(v.read_text(good, "plan"), "a.json") == {"k": [1, 2]}
    cases = {
        "latin1": ("café".encode("latin-1"), "not a UTF-8 text plan .byte 0xe9 at offset 3"),
        "nul": (b"{}\x00", "NUL"),
        "big": (b" " * 2000, "too large"),
    }
    for name, (data, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ConfigError, match=words):
            v.read_text(path, "plan", max_bytes=1000)
    with pytest.raises(ConfigError, match="not found"):
        v.read_text(tmp_path / "missing", "plan")
    with pytest.raises(ConfigError, match="is a folder"):
        v.read_text(tmp_path, "plan")
    for text, words in [("[" * 100_000 + "]" * 100_000, "nested too deeply"), ("9" * 5000, "usable JSON"),
                        ("{", "not valid JSON")]:
        with pytest.raises(ConfigError, match=words):
            v.parse_json(text, "p")


def test_output_paths(tmp_path):
    afile = tmp_path / "f.txt"
    afile.write_text("x")
    assert v.output_file(tmp_path / "new" / "deeper" / "o.json", "-o") == tmp_path / "new" / "deeper" / "o.json"
    assert not (tmp_path / "new").exists()  # checked, not created
    assert v.output_file(afile, "-o") == afile  # an existing file is overwritten atomically, as before
    assert v.output_dir(tmp_path / "d", "-o") == tmp_path / "d"
    for check, path, words in [
        (v.output_file, tmp_path, "is a folder"),
        (v.output_file, afile / "x.json", "is a file, not a folder"),
        (v.output_dir, afile, "is a file, expected a folder"),
        (v.output_dir, afile / "sub", "is a file, not a folder"),
        (v.output_file, "/proc/prismaudio_x.json", "cannot write in /proc"),
        (v.output_file, tmp_path / ("x" * 300), "too long"),
    ]:
        with pytest.raises(ConfigError, match=words):
            check(path, "-o")
    with pytest.raises(ConfigError, match="is an input"):
        v.output_file(tmp_path / "." / "f.txt", "-o", inputs=[afile])
    with pytest.raises(ConfigError, match="is an input"):
        v.output_dir(tmp_path, "-o", inputs=[None, str(tmp_path)])
    assert v.same_path(tmp_path / "a" / ".." / "f.txt", afile)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]  # the write probes leave nothing


def test_outside_package_and_urls(tmp_path):
    assert v.outside_package(tmp_path / "runs", "--out") == tmp_path / "runs"
    with pytest.raises(ConfigError, match="inside the installed prismaudio package"):
        v.outside_package(v.package_root() / "assets" / "x", "--out")
    assert v.http_url("http://localhost:8000/v1", "--llm-url")
    for bad in ("notaurl", "ftp://x", "http://", "http://h:99999/"):
        with pytest.raises(ConfigError, match="--llm-url"):
            v.http_url(bad, "--llm-url")
