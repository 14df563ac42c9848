"""How good and how fast: speech-quality scores, tagger scores, and the per-hop bench of the live chain."""
