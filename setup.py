"""Build hook: the repository's configs/*.yaml become package data (prismaudio/presets/).

Everything else is in pyproject.toml. The presets stay in configs/ in the checkout, where
users read them; an installed wheel finds its copy through prismaudio.presets.presets_dir().
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithPresets(build_py):
    def run(self):
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's configs/ directly
            return
        target = Path(self.build_lib) / "prismaudio" / "presets"
        target.mkdir(parents=True, exist_ok=True)
        for src in sorted(Path(__file__).resolve().parent.joinpath("configs").glob("*.yaml")):
            self.copy_file(str(src), str(target / src.name))


setup(cmdclass={"build_py": BuildWithPresets})
