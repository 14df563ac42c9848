"""Each trained model as a stage of the streaming chain: the denoiser, the tagger (a tap) with its event detector, the codec."""
