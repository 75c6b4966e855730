"""The stem generator: one planned source at a time (issue 21).

A flow-matching DiT makes one source's mono audio (the shipped codec's mid latent) from that
source's plan rows only: its label/description text, its event track, and an exemplar
embedding. See docs/stem-generator.md.
"""
