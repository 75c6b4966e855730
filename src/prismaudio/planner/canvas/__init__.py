"""SynthCanvas-only pieces of the runtime planner: the gate that tells SynthCanvas footage from the rest."""
