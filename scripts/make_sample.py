"""Rebuild streamdl/assets/sample_noisy.flac (and its clean reference) from unpacked Debian packages.

Speech: lines of the 'hs' character of fillets-ng-data-cs (a held-out test speaker, GPL-2+).
Noise: the vacuum cleaner of tuxpaint-stamps-default (a held-out test noise, GPL-2).
Usage: python scripts/make_sample.py PACKAGE_ROOT   (the folder scripts/fetch_debian_audio.sh fills)
"""

import sys
from pathlib import Path

import numpy as np

from streamdl.data.corpus import prepare_clip
from streamdl.data.sources import decode_clips
from streamdl.io.audiofile import write_audio

SR = 16000
root = Path(sys.argv[1])
lines = ["city/cs/vit-hs-vitejteA.ogg", "city/cs/vit-hs-reklama1.ogg", "city/cs/vit-hs-klid1.ogg", "city/cs/vit-hs-jidelna1.ogg"]
speech = []
for line in lines:
    (_, x, rate), = decode_clips(root / "fillets-ng-data-cs/usr/share/games/fillets-ng/sound" / line)
    speech += [prepare_clip(x, rate, "speech", SR), np.zeros(SR // 3, np.float32)]
clean = np.concatenate([np.zeros(SR // 2, np.float32)] + speech)[: 12 * SR]
(_, x, rate), = decode_clips(root / "tuxpaint-stamps-default/usr/share/tuxpaint/stamps/household/vacuum_cleaner.ogg")
noise = np.resize(prepare_clip(x, rate, "noise", SR), len(clean))
snr_db = 5.0
active = clean[np.abs(clean) > 0]
noise *= np.sqrt(np.mean(active**2) / np.mean(noise**2)) * 10 ** (-snr_db / 20)
noisy = clean + noise
gain = 0.5 / np.abs(noisy).max()
out = Path(__file__).resolve().parent.parent / "streamdl/assets"
write_audio(out / "sample_noisy.flac", noisy * gain, SR)
write_audio(out / "sample_clean.flac", clean * gain, SR)
print(f"{len(clean) / SR:.1f} s written to {out}")
