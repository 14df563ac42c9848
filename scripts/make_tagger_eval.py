"""Build an independent tagger test set from Debian packages that training never uses.

shared/DATA.md lists the packages training may use and reserves the others for independent
evaluation. This script takes labelled recordings (labelled by their file and folder names
and the packages' sound catalogues) from five reserved game packages and writes
``DEST/PART/LABEL/PACKAGE-NAME.flac``: 16 kHz mono, the middle 8 s of each recording. PART splits the
packages: ``look`` (lincity-ng, scorched3d, supertuxkart) may be looked at while choosing between
taggers, ``test`` (0ad, megaglest) is only scored, once per shipped tagger. Score a tagger on a part
with ``streamdl eval-tagger --clips DEST/PART``. Licences: 0ad-data, megaglest-data and
supertuxkart-data CC-BY-SA, lincity-ng-data and scorched3d-data GPL-2+; nothing built here ships.

Usage: python scripts/make_tagger_eval.py [DEST] [--debs DIR]
(DEST defaults to data/tagger_eval; downloads ~2.3 GB of .debs unless DIR already holds them)
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import tempfile
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import soundfile as sf

from streamdl.dsp.resample import resample
from streamdl.evaluation.tagger import middle

SECONDS = 8.0
TEST_PACKAGES = ("0ad-data", "megaglest-data")  # speech, music, water, wind, crowd, bird, dog; the rest is the "look" part
ZAD = "usr/share/games/0ad/mods/public/public.zip"  # 0ad keeps its audio in one zip
MG = "usr/share/games/megaglest"
LC = "usr/share/games/lincity-ng/sounds"
SC = "usr/share/games/scorched3d/data/globalmods"
STK = "usr/share/games/supertuxkart/data/sfx"

# label -> [(package, path glob inside the package, or "ZIP!member glob")]
ENTRIES = {
    "water": [
        ("0ad-data", f"{ZAD}!audio/ambient/water/*.ogg"),
        ("0ad-data", f"{ZAD}!audio/ambient/weather/rain_*.ogg"),
        ("megaglest-data", f"{MG}/tilesets/[abd]*/sounds/rain.*"),  # autumn, birch_forest, dark_forest, desert2: four recordings
        ("megaglest-data", f"{MG}/data/core/water_sounds/water*.wav"),
        ("lincity-ng-data", f"{LC}/Water?.wav"),
        ("scorched3d-data", f"{SC}/none/data/wav/misc/[ros]*[nhs].wav"),  # rain, oceanwaves, splash
        ("supertuxkart-data", f"{STK}/[rw]*_loop*.ogg"),  # river, waterfall (its rain.ogg is megaglest's dark_forest one)
    ],
    "wind": [
        ("0ad-data", f"{ZAD}!audio/ambient/weather/*wind*.ogg"),
        ("0ad-data", f"{ZAD}!audio/ambient/weather/snowstorm*.ogg"),
        ("megaglest-data", f"{MG}/tilesets/winter_forest/sounds/wind.ogg"),
    ],
    "crowd": [
        ("lincity-ng-data", f"{LC}/SportsCroud?.wav"),
        ("lincity-ng-data", f"{LC}/MarketFull1.wav"),
        ("scorched3d-data", f"{SC}/apoc/data/wav/misc/cheeringloop.wav"),
        ("supertuxkart-data", f"{STK}/lenautile_restaurant.ogg"),
        ("0ad-data", f"{ZAD}!audio/ambient/building/amb_trade_1?.ogg"),
    ],
    "vehicle": [
        ("lincity-ng-data", f"{LC}/Trafic*.wav"),
        ("lincity-ng-data", f"{LC}/RailTrain?.wav"),
        ("supertuxkart-data", f"{STK}/engine_*.ogg"),
        ("supertuxkart-data", f"{STK}/car_*.ogg"),
        ("supertuxkart-data", f"{STK}/airplane_jetEngine.ogg"),
    ],
    "speech": [
        ("megaglest-data", f"{MG}/techs/megapack/commondata/sounds/technician_ack[1-5].wav"),
        ("megaglest-data", f"{MG}/techs/megapack/commondata/sounds/archer_ack[1-5].wav"),
        ("supertuxkart-data", f"{STK}/sara_airport_pa.ogg"),
    ],
    "music": [
        ("megaglest-data", f"{MG}/techs/megapack/factions/*/music/*.ogg"),
        ("megaglest-data", f"{MG}/data/core/menu/music/*.ogg"),
    ],
    "bird": [
        ("supertuxkart-data", f"{STK}/exotic-birds*.ogg"),
        ("megaglest-data", f"{MG}/tilesets/*/sounds/hawk.ogg"),
        ("megaglest-data", f"{MG}/tilesets/*/sounds/owl.ogg"),
        ("megaglest-data", f"{MG}/tilesets/*/sounds/rooster.ogg"),
    ],
    "dog": [("megaglest-data", f"{MG}/tilesets/[bd]*/sounds/wolf.wav")],
    "machine": [("lincity-ng-data", f"{LC}/{kind}?.wav") for kind in ("IndustryHigh", "IndustryLight", "Mill", "Recycle")],  # factory floors
}


def _members(package_dir: Path, pattern: str) -> list[tuple[str, bytes | Path]]:
    """(name, file path or bytes) for one entry's glob."""
    if "!" in pattern:
        archive, inner = pattern.split("!")
        with zipfile.ZipFile(package_dir / archive) as z:
            return [(name, z.read(name)) for name in sorted(z.namelist()) if fnmatch(name, inner)]
    return [(str(p.relative_to(package_dir)), p) for p in sorted(package_dir.glob(pattern))]


def _middle(source: bytes | Path, rate_out: int = 16000) -> np.ndarray:
    """The middle SECONDS of a recording (the whole of a shorter one), mono float32 at ``rate_out``."""
    x, rate = sf.read(io.BytesIO(source) if isinstance(source, bytes) else source, dtype="float32", always_2d=True)
    return middle(resample(x.mean(axis=1), rate, rate_out), int(SECONDS * rate_out))


def _unpack(deb: Path, package: str, into: Path) -> None:
    """Only the folders ENTRIES reads from one package."""
    paths = [re.split(r"[*?\[]", p.split("!")[0])[0].rsplit("/", 1)[0] for entries in ENTRIES.values() for k, p in entries if k == package]
    folders = {f for f in paths if not any(f.startswith(g + "/") for g in paths)}  # tar fails on a pattern an earlier one covered
    into.mkdir()
    tar = subprocess.Popen(["dpkg", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(into), "--wildcards", *[f"./{f}*" for f in sorted(folders)]], stdin=tar.stdout, check=True)
    tar.wait()


def main(dest: Path, debs: Path | None) -> None:
    packages = sorted({package for entries in ENTRIES.values() for package, _ in entries})
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if debs is None:
            debs = work / "debs"
            debs.mkdir(mode=0o777)
            debs.chmod(0o777)  # apt-get download runs as the _apt user
            subprocess.run(["apt-get", "download", *packages], cwd=debs, check=True)
        for package in packages:
            _unpack(next(debs.glob(f"{package}_*.deb")), package, work / package)
        counts, seen = {}, set()
        for label, entries in ENTRIES.items():
            for package, pattern in entries:
                folder = dest / ("test" if package in TEST_PACKAGES else "look") / label
                folder.mkdir(parents=True, exist_ok=True)
                for name, source in _members(work / package, pattern):
                    parts = [p for p in Path(name).with_suffix("").parts[-3:] if p not in ("sounds", "sfx", "misc", "wav", "data")]
                    stem = "-".join([package.removesuffix("-data"), *parts])
                    audio = _middle(source)
                    key = hash(np.round(audio[:16000] * 1000).tobytes())
                    if key in seen:  # the same recording under two names (tilesets share sounds)
                        continue
                    seen.add(key)
                    sf.write(folder / f"{stem}.flac", audio, 16000)
                    counts[label] = counts.get(label, 0) + 1
    print("wrote", dest, ", ".join(f"{k}: {v}" for k, v in counts.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dest", nargs="?", default="data/tagger_eval")
    parser.add_argument("--debs", help="folder that already holds the .deb files")
    args = parser.parse_args()
    main(Path(args.dest), Path(args.debs) if args.debs else None)
