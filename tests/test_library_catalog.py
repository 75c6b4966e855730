"""The library reader: a built index and a plain user folder read the same way."""

import json

import numpy as np
import pytest
import soundfile as sf

from prismaudio.errors import ConfigError
from prismaudio.library import SoundLibrary


def _tone(path, sr=22050, seconds=0.3):
    t = np.arange(int(sr * seconds)) / sr
    sf.write(str(path), 0.3 * np.sin(2 * np.pi * 440 * t), sr)


def test_user_folder_is_a_library(tmp_path):
    (tmp_path / "door knock").mkdir()
    _tone(tmp_path / "door knock" / "a.wav")
    _tone(tmp_path / "door knock" / "b.wav")
    (tmp_path / "empty").mkdir()
    lib = SoundLibrary.load(tmp_path)
    assert list(lib.classes) == ["door knock"]
    recs = lib.recordings_of("door knock")
    assert len(recs) == 2
    audio = lib.audio(recs[0], 16000)
    assert audio.ndim == 1 and abs(len(audio) - 4800) <= 2


def test_index_round_trip_and_bad_index(tmp_path):
    (tmp_path / "glass").mkdir()
    _tone(tmp_path / "glass" / "x.wav")
    lib = SoundLibrary.load(tmp_path)
    (tmp_path / "library.json").write_text(json.dumps(lib.index_dict()))
    again = SoundLibrary.load(tmp_path)
    assert again.recordings_of("glass")[0].path == "glass/x.wav"
    with pytest.raises(ConfigError, match="unknown class"):
        again.recordings_of("dog")
    (tmp_path / "library.json").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match="library.json"):
        SoundLibrary.load(tmp_path)


def test_missing_or_empty_library(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        SoundLibrary.load(tmp_path / "nope")
    with pytest.raises(ConfigError, match="no audio"):
        SoundLibrary.load(tmp_path)
