"""Pure signal-analysis functions shared by SynthCanvas checks, codec evaluation, rewards and metrics."""
