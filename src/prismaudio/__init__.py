"""PrismAudio: video-to-audio with a four-module chain-of-thought plan, offline and on a CPU."""

__version__ = "0.1.0"
