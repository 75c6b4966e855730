import os
import stat

import pytest

from prismaudio.errors import PrismError
from prismaudio.fsutil import atomic_path


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_result_is_readable_by_others_like_any_new_file(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "out.wav") as tmp:
            tmp.write_bytes(b"RIFF")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "out.wav") == 0o644  # mkstemp alone would leave 0600


def test_atomic_rewrite_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text("{}")
    path.chmod(0o640)
    with atomic_path(path) as tmp:
        tmp.write_text('{"version": 1}')
    assert _mode(path) == 0o640 and path.read_text() == '{"version": 1}'


def test_failed_block_leaves_nothing_behind(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "x.bin") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_folder_in_the_way_is_one_clear_error(tmp_path):
    (tmp_path / "out.wav").mkdir()
    with pytest.raises(PrismError, match="is a folder"):
        with atomic_path(tmp_path / "out.wav"):
            pass
