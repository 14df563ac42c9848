"""Feed audio in blocks of any size, as a network or a custom device would deliver it (16 kHz mono)."""

import numpy as np

from streamdl import Chain, Streamer, StreamingDenoiser, read_mono, sample_path

audio = read_mono(sample_path(), 16000)  # the bundled sample, float32 (samples,)
streamer = Streamer(Chain(stages=[StreamingDenoiser()]))
outputs = []
for start in range(0, len(audio), 333):  # 333-sample blocks: nothing needs to line up with the hop
    outputs.append(streamer.feed(audio[start : start + 333]))
outputs.append(streamer.flush())
out = np.concatenate(outputs)[streamer.chain.delay_samples :][: len(audio)]  # drop the 10 ms delay
print(f"{len(out)} samples out for {len(audio)} in, peak {np.abs(out).max():.3f}")
