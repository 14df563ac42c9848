"""The tagger's vocabulary: what models are trained to say and what the data's rules label.

New labels go at the end (a tagger trained on the old list grows into the new one:
``Tagger.with_labels``); how corpus clips get them is :mod:`streamdl.data.tags`.
"""

LABELS = ("speech", "music", "silence", "keyboard", "footsteps", "door", "dog", "bird", "vehicle", "water", "wind", "crowd", "alarm", "machine")
