"""Build an independent tagger test set from Debian packages that training never uses.

shared/DATA.md lists the packages training may use and reserves the others for independent
evaluation. This script takes labelled recordings (labelled by their file and folder names
and the packages' sound catalogues) from five reserved game packages and writes
``DEST/PART/LABEL/PACKAGE-NAME.flac``: 16 kHz mono, the middle 8 s of each recording. PART splits the
packages: ``look`` (lincity-ng, scorched3d, supertuxkart) may be looked at while choosing between
taggers, ``test`` (0ad, megaglest) is only scored, once per shipped tagger. ``DEST/PART/none/`` holds sounds that fit
no label (foley, weapons, interface sounds, animals the vocabulary lacks, and held test tones made here):
a tagger should report no event of a sound for them. Score a tagger on a part
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
    "none": [  # sounds of no label: foley, weapons, interface sounds, animals the vocabulary lacks
        *[("supertuxkart-data", f"{STK}/{name}.ogg") for name in ("anvil", "boing", "bzzt", "clock", "forcefield", "goo", "hammer", "inflate",
                                                                   "metal_clang", "plunger", "portal", "swatter", "tractor_beam")],  # fmt: skip
        *[("lincity-ng-data", f"{LC}/{name}.wav") for name in ("Build?", "Click", "Pottery?", "Raze?", "WindowClose", "WindowOpen")],
        ("scorched3d-data", f"{SC}/none/data/wav/explosions/*.wav"),
        ("scorched3d-data", f"{SC}/apoc/data/wav/shoot/*.wav"),
        ("scorched3d-data", f"{SC}/apoc/data/wav/misc/[cms][oh][oe]*.wav"),  # cows, moo, sheep
        *[("0ad-data", f"{ZAD}!audio/{kind}_0[1-4].ogg") for kind in ("attack/weapon/bow_attack", "attack/weapon/pike_attack",
          "attack/impact/arrow_metal", "resource/mining/mine_stone", "resource/lumbering/lumber_tree", "resource/construction/con_saw",
          "resource/construction/con_wood", "actor/fauna/cattle")],  # fmt: skip
        ("0ad-data", f"{ZAD}!audio/interface/select/building/sel_[a-f]*.ogg"),
        *[("megaglest-data", f"{MG}/techs/megapack/commondata/sounds/{kind}[1-3].wav") for kind in ("arrow_hit", "tech_building_fall",
          "technician_build", "tower_attack", "tower_hit", "worker_build", "worker_harvest_wood", "worker_mine")],  # fmt: skip
        ("megaglest-data", f"{MG}/tilesets/pine_peat/sounds/mudchute_cow_1.ogg"),
    ],
}
TONES = {"look": 1, "test": 2}  # seeds of each part's held test tones (none/tone-*), made here


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


def _tones(seed: int, rate: int = 16000) -> dict[str, np.ndarray]:
    """Held test tones of no label, SECONDS each: a sine, mains hum with its harmonics, a logarithmic sweep."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SECONDS * rate)) / rate
    hum = rng.choice([50.0, 60.0])
    tones = {
        "sine": np.sin(2 * np.pi * rng.uniform(300, 3000) * t),
        "hum": sum(np.sin(2 * np.pi * hum * k * t + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 8)),
        "sweep": np.sin(2 * np.pi * 100 * SECONDS / np.log(70) * (70 ** (t / SECONDS) - 1)),  # 100 Hz to 7 kHz
    }
    return {name: (rng.uniform(0.05, 0.3) * x / np.abs(x).max()).astype(np.float32) for name, x in tones.items()}


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
        for part, seed in TONES.items():
            for name, audio in _tones(seed).items():
                sf.write(dest / part / "none" / f"tone-{name}.flac", audio, 16000)
                counts["none"] = counts.get("none", 0) + 1
    print("wrote", dest, ", ".join(f"{k}: {v}" for k, v in counts.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dest", nargs="?", default="data/tagger_eval")
    parser.add_argument("--debs", help="folder that already holds the .deb files")
    args = parser.parse_args()
    main(Path(args.dest), Path(args.debs) if args.debs else None)
