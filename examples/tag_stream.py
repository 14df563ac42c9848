"""Denoise and tag in one chain, block by block: events print as sounds start and end (16 kHz mono)."""

from streamdl import Chain, Streamer, StreamingDenoiser, StreamingTagger, read_mono, sample_path

audio = read_mono(sample_path(), 16000)
tagger = StreamingTagger()  # a tap: it sees the input spectrum, before denoising
streamer = Streamer(Chain(stages=[StreamingDenoiser()], taps=[tagger]))
for start in range(0, len(audio), 480):  # 30 ms blocks, as a device callback might deliver them
    streamer.feed(audio[start : start + 480])
    while tagger.events:
        event = tagger.events.popleft()
        print(event if "offset_s" in event else f"{event['onset_s']:.2f} s: {event['label']} started")
tagger.finish()
print(*tagger.events, sep="\n")
print("latest probabilities:", dict(zip(tagger.labels, tagger.probs.round(2))))
