"""Object-based rendering: place mono stems in the stereo image, mix, normalise loudness, limit."""
