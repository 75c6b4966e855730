"""The plan pass: tracks, names and events become the four modules of a Plan."""
