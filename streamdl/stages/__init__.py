"""Each trained model as a stage of the streaming chain: the denoiser, the restorer with the repair
of clipping and gaps before it, the tagger (a tap) with its event detector, the codec."""
