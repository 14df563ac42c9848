"""Where training audio comes from: the Debian data packages of shared/DATA.md, and user folders.

Each :class:`Source` names a package, the files in it (glob patterns relative to the unpacked
package), its role (``speech``, ``noise`` or ``music``) and how its files are split. Test
material is held out by *speaker* where speakers are known (a language's narrator, a voice pack,
a game character) and by *file* for noise, so the test split shares neither with training.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf


@dataclass(frozen=True)
class Source:
    name: str  # short name, stored with every clip
    role: str  # "speech", "noise", "music" or "events" (labelled sounds only the tagger uses)
    packages: tuple[str, ...]  # unpacked Debian package folders holding the files
    patterns: tuple[str, ...]  # globs below a package folder
    exclude: str = r"$^"  # regex on the relative path: files to skip
    speaker: str = ""  # regex whose first group names the speaker/voice; empty: split by file
    test_speakers: tuple[str, ...] = ()  # speakers held out for the test split
    members: str = ""  # regex on member names: the clips an archive holds (.pk3, .wz, .zip: zip; .rcc: Qt resources; .1c: Queen)
    test_fraction: float = 0.15  # share of files held out for the test split when there are no speakers
    split_members: bool = False  # an archive's clips are split one by one (by member name), not with their archive
    made_by: str = "scripts/fetch_debian_audio.sh"  # the command that puts the package folders in place


SOURCES = (
    Source("fillets", "speech", ("fillets-ng-data-cs",), ("usr/share/games/fillets-ng/sound/*/cs/*.ogg",),
           speaker=r"/[a-z]+-([a-z]+)-[^/]*$", test_speakers=("hs", "c", "x", "r")),
    Source("tuxpaint-desc", "speech", ("tuxpaint-stamps-default",), ("usr/share/tuxpaint/stamps/**/*_desc*.ogg",),
           speaker=r"_desc_?([a-zA-Z_]*)\.ogg$", test_speakers=("el", "da")),
    Source("tuxpaint-symbols", "speech", ("tuxpaint-stamps-default",),
           ("usr/share/tuxpaint/stamps/symbols/math/**/*.ogg", "usr/share/tuxpaint/stamps/symbols/alphabets/**/*.ogg"),
           exclude=r"_desc", speaker=r"/[^/_]+_?([a-zA-Z_]*)\.ogg$", test_speakers=("el", "da", "ko")),
    Source("klettres", "speech", ("klettres-data",), ("usr/share/klettres/*/alpha/*.ogg", "usr/share/klettres/*/syllab/*.ogg"),
           speaker=r"klettres/([^/]+)/", test_speakers=("de", "it")),
    Source("hedgewars-voices", "speech", ("hedgewars-data",), ("usr/share/games/hedgewars/Data/Sounds/voices/*/*.ogg",),
           exclude=r"/Robot/", speaker=r"voices/([^/]+)/", test_speakers=("Pirate", "Mobster")),
    Source("asterisk", "speech", tuple(f"asterisk-core-sounds-{lang}-wav" for lang in ("en", "es", "fr", "it", "ru")), ("usr/share/asterisk/sounds/*/*.wav", "usr/share/asterisk/sounds/*/*/*.wav"),
           speaker=r"sounds/([a-z]+)", test_speakers=("fr",)),
    Source("widelands", "noise", ("widelands-data",), ("usr/share/games/widelands/data/sound/**/*.ogg",)),
    Source("widelands-music", "music", ("widelands-data",), ("usr/share/games/widelands/data/music/*.ogg",)),
    Source("bucklespring", "noise", ("bucklespring-data",), ("usr/share/buckle/wav/*.wav",)),
    Source("minetest", "noise", ("minetest-data",), ("usr/share/games/minetest/**/*.ogg",)),
    Source("wesnoth", "noise", ("wesnoth-1.16-data",), ("usr/share/games/wesnoth/1.16/**/sounds/**/*.wav", "usr/share/games/wesnoth/1.16/**/sounds/**/*.ogg"),
           exclude=r"/music/"),
    Source("hedgewars-sfx", "noise", ("hedgewars-data",), ("usr/share/games/hedgewars/Data/Sounds/*.ogg",)),
    Source("hedgewars-music", "music", ("hedgewars-data",), ("usr/share/games/hedgewars/Data/Music/*.ogg",)),
    Source("tuxpaint-sounds", "noise", ("tuxpaint-stamps-default",), ("usr/share/tuxpaint/stamps/**/*.ogg",),
           exclude=r"_desc|/symbols/"),
    Source("tuxpaint-ui", "noise", ("tuxpaint-data",), ("usr/share/tuxpaint/sounds/*.wav",)),
    Source("openttd", "noise", ("openttd-opensfx",), ("usr/share/games/openttd/baseset/opensfx/opensfx.cat",)),
    Source("openarena", "noise", ("openarena-data",), ("usr/share/games/openarena/baseoa/pak0.pk3",),
           members=r"^sound/(world|player/footsteps|movers/doors)/(?!new/moan).*\.(wav|ogg)$"),  # ambiences and foley, no voices
    Source("warzone-sfx", "noise", ("warzone2100-data",), ("usr/share/games/warzone2100/base.wz",),
           members=r"^audio/sfx/(vehicle|building)/.*\.ogg$"),  # engines, treads, hovercraft, pumps, hum
    Source("freedesktop", "events", ("sound-theme-freedesktop",), ("usr/share/sounds/freedesktop/stereo/*.oga",)),
)  # fmt: skip

# Recorded ambiences beyond DATA.md's list, read only when asked (`streamdl data build --extra-sources`): none
# from a package the independent recordings come from, none matching them (cross-correlation), and for
# training only: no test files, so the test pairs are the same with or without them.
EXTRA_SOURCES = (
    Source("redeclipse", "noise", ("redeclipse-data",),  # no forests (their birds unnamed), synthetic "winds", thunder over rain
           ("usr/share/games/redeclipse/data/sounds/ambience/**/*.ogg", "usr/share/games/redeclipse/data/sounds/sfx/splash*.ogg"),
           exclude=r"/forest\d|alienwind|dizzywind|stormbolts", test_fraction=0.0),
    Source("flightgear", "noise", ("flightgear-data-base",),  # aircraft engines, wind, rain, water; no callout voices
           ("usr/share/games/flightgear/Sounds/*.wav", "usr/share/games/flightgear/Aircraft/c172p/Sounds/water-*.wav"),
           exclude=r"wind-8khz", test_fraction=0.0),  # a copy of wind.wav
    Source("supertux", "noise", ("supertux-data",), tuple(f"usr/share/games/supertux2/sounds/{name}.wav" for name in ("rain", "waterfall", "splash")),
           test_fraction=0.0),
)  # fmt: skip


# Sources shared/DATA.md admitted on 2026-12-07, read when asked (`streamdl data build --admitted`) so that the
# corpus the shipped models were trained on stays reproducible. Not read yet: Beneath a Steel Sky's voices (sky.dsk,
# RNC-compressed), the unit sounds inside 7kaa's RES files, and the PyPI sdists (AMI meetings, MFA's tests).
ADMITTED_SOURCES = (
    Source("ktuberling", "speech", ("ktuberling-data",), ("usr/share/ktuberling/sounds/*/*.ogg",),  # single words, 23 locales
           exclude=r"/sr@", speaker=r"sounds/([^/]+)/", test_speakers=("gl", "uk", "fi")),  # one narrator each; sr@* copy sr
    Source("ufoai", "noise", ("ufoai-sound",), ("usr/share/games/ufoai/base/0snd.pk3",),  # no weapons, voices, aliens; no copies
           members=r"^sound/(ambience|footsteps|doors|impact)/(?!(fire|smallfire|firesoft|creak|droning|jingle|sparks|water"
                   r"|radiomessage|tv_news)).*\.ogg$"),
    Source("flare", "noise", ("flare-game",), ("usr/share/games/flare/mods/*/soundfx/**/*.ogg",), exclude=r"/npcs/"),  # no voices
    Source("queen", "speech", ("flight-of-the-amazon-queen",), ("usr/share/scummvm/flight-of-the-amazon-queen/queen.1c",),
           members=r"^(?!BLANK).*\.SB$", test_fraction=0.0, split_members=True),  # 11 kHz MP3; speakers unnamed: train and val only
    Source("flare-music", "music", ("flare-game",), ("usr/share/games/flare/mods/*/music/*.ogg",)),
    Source("gcompris", "noise", ("gcompris-qt-data",), ("usr/share/gcompris-qt/rcc/*.rcc",),  # no voices, music or instruments
           members=r"^gcompris/src/(?!.*(/voices-|explore_world_music|/instruments/|/intro\.ogg)).*\.(wav|ogg)$"),
    Source("gcompris-music", "music", ("gcompris-qt-data",), ("usr/share/gcompris-qt/rcc/*.rcc",),
           members=r"^gcompris/src/activities/(explore_world_music/resource/music|instruments/resource)/.*\.ogg$"),
    Source("7kaa", "noise", ("7kaa-data",), ("usr/share/games/7kaa/SOUND/*.WAV",)),
    Source("sonic-pi", "noise", ("sonic-pi-samples",), ("usr/share/sonic-pi/samples/*.flac",)),
    Source("colobot", "noise", ("colobot-common-sounds",), ("usr/share/games/colobot/sounds/*.wav",)),  # numbered: unlabelled
    Source("colobot-music", "music", ("colobot-common-sounds",), ("usr/share/games/colobot/music/*.ogg",)),
    Source("warmux", "noise", ("warmux-data",), ("usr/share/games/warmux/sound/default/*/*.ogg",), exclude=r"/voices/"),
    Source("warmux-music", "music", ("warmux-data",), ("usr/share/games/warmux/music/*/*.ogg",)),
    Source("freedroidrpg", "noise", ("freedroidrpg-data",), ("usr/share/freedroidrpg/data/sound/effects/**/*.ogg",),
           exclude=r"/voice_samples/|/tux_ingame_comments/|/bot_sounds/"),  # no voices
    Source("freedroidrpg-music", "music", ("freedroidrpg-data",), ("usr/share/freedroidrpg/data/sound/music/*.ogg",)),
    Source("trigger-rally", "noise", ("trigger-rally-data",), ("usr/share/games/trigger-rally/data.zip",),
           members=r"^sounds/[a-z]+\.wav$"),  # engine, wind, gravel; not the co-driver's voice
    Source("foobillardplus", "noise", ("foobillardplus-data",), ("usr/share/games/foobillardplus/data/*.wav",)),
    Source("soundtracks", "music", ("marsshooter-data", "pushover-data", "starfighter-data", "hyperrogue-music", "zaz-data",
                                    "asc-music", "lordsawar-data", "xmoto-data", "freeorion-data"),
           ("usr/share/games/**/*.ogg", "usr/share/**/music/**/*.ogg", "usr/share/**/music/**/*.mp3"),
           exclude=r"/(sounds?|sfx|fx)/"),
)  # fmt: skip


# Synthetic voices (espeak-ng) reading the stamp descriptions, rendered by `streamdl data tts` into the
# packages folder and read only when asked (`streamdl data build --synthetic-speech`): training and validation only.
TTS_SOURCE = Source("tts", "speech", ("synthetic-speech",), ("*.wav",), test_fraction=0.0, made_by="streamdl data tts")


def split_of(source: Source, relpath: str, *, val_fraction: float = 0.05) -> str:
    """'train', 'val' or 'test' for one file, fixed by its path (reproducible, no random state)."""
    test_fraction = source.test_fraction
    if source.speaker:
        match = re.search(source.speaker, relpath)
        if match and match.group(1) in source.test_speakers:
            return "test"
        test_fraction = 0.0  # speech: only held-out speakers are test material
    u = (zlib.crc32(relpath.encode()) % 10007) / 10007
    return "test" if u < test_fraction else "val" if u < test_fraction + val_fraction else "train"


def source_files(source: Source, root: Path) -> list[tuple[str, Path]]:
    """(relative path, absolute path) of every file of ``source`` under ``root``, sorted."""
    found = {}
    for pattern in source.patterns:
        for path in root.glob(pattern):
            rel = path.relative_to(root).as_posix()
            if path.is_file() and not re.search(source.exclude, rel):
                found[rel] = path
    return sorted(found.items())


def decode_clips(path: Path, members: str = "") -> list[tuple[str, np.ndarray, int]]:
    """Decode one file into (suffix, float32 mono, rate) clips; archives hold several clips.

    Clips from an OpenTTD catalogue are named ``#index title`` (the title stored before each
    sound, e.g. ``#24 Helicopter``); clips from an archive (:func:`archive_members`) ``#member/path``,
    for the members whose names match the regex ``members``.
    """
    if path.suffix == ".cat":  # OpenTTD sound catalogue: "title". credits, then a RIFF/WAVE file, back to back
        blob = path.read_bytes()
        clips = []
        for i, m in enumerate(re.finditer(b"RIFF", blob)):
            size = int.from_bytes(blob[m.start() + 4 : m.start() + 8], "little") + 8
            titles = re.findall(rb'"([ -~]+?)"', blob[max(0, m.start() - 300) : m.start()])
            try:
                data, rate = sf.read(io.BytesIO(blob[m.start() : m.start() + size]), dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError):
                continue
            clips.append((f"#{i} {titles[0].decode() if titles else ''}".rstrip(), data.mean(axis=1), rate))
        return clips
    if path.suffix in (".pk3", ".wz", ".zip", ".rcc", ".1c"):
        clips = []
        for member, blob in archive_members(path, members):
            data, rate = sf.read(io.BytesIO(blob), dtype="float32", always_2d=True)
            clips.append((f"#{member}", data.mean(axis=1), rate))
        return clips
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    return [("", data.mean(axis=1), rate)]


def debian_packages(extra: bool = False, admitted: bool = False) -> list[str]:
    """The Debian packages the built-in sources read (the only ones used for training), with ``extra``
    also those of :data:`EXTRA_SOURCES`, with ``admitted`` those of :data:`ADMITTED_SOURCES`."""
    sources = SOURCES + (EXTRA_SOURCES if extra else ()) + (ADMITTED_SOURCES if admitted else ())
    return sorted({package for source in sources for package in source.packages})


def user_sources(*, speech: list[str] = (), noise: list[str] = ()) -> tuple[Source, ...]:
    """Sources for the user's own folders of clean speech and of noise (every audio file below them,
    split by file)."""
    from streamdl.io.audiofile import AUDIO_SUFFIXES

    patterns = tuple(f"**/*{suffix}" for suffix in AUDIO_SUFFIXES)
    return tuple(Source(f"user-{role}-{i}", role, (str(Path(d).resolve()),), patterns)
                 for role, dirs in (("speech", speech), ("noise", noise)) for i, d in enumerate(dirs))  # fmt: skip


def archive_members(path: Path, members: str) -> list[tuple[str, bytes]]:
    """(name, contents) of the members of an archive whose names match the regex ``members``, sorted by name:
    a zip file (a Quake-style .pk3, a Warzone .wz, a .zip), a Qt resource file (.rcc) or a Flight of the
    Amazon Queen resource file (.1c)."""
    if path.suffix == ".rcc":
        found = qt_resources(path.read_bytes())
    elif path.suffix == ".1c":
        found = queen_resources(path.read_bytes())
    else:
        with zipfile.ZipFile(path) as archive:
            found = {name: archive.read(name) for name in archive.namelist() if members and re.match(members, name)}
    return sorted((name, blob) for name, blob in found.items() if members and re.match(members, name))


def queen_resources(blob: bytes) -> dict[str, bytes]:
    """The files of Flight of the Amazon Queen's resource file by name: ``QTBL``, a version, at byte 12 the
    compression (0 none, 1 MP3, 2 Ogg Vorbis, 3 FLAC), at 13 the entry count (2 bytes), then 21-byte entries
    (a 12-byte name, a byte, offset and size, 4 bytes each; big-endian)."""
    if blob[:4] != b"QTBL":
        raise ValueError("not a Flight of the Amazon Queen resource file")
    (count,) = struct.unpack(">H", blob[13:15])
    files = {}
    for i in range(count):
        entry = blob[15 + 21 * i : 36 + 21 * i]
        offset, size = struct.unpack(">II", entry[13:21])
        files[entry[:12].rstrip(b"\0").decode("ascii", "replace")] = blob[offset : offset + size]
    return files


def qt_resources(blob: bytes) -> dict[str, bytes]:
    """The files of a compiled Qt resource (``rcc``, format 1 to 3) by path: a tree of 14-byte entries (22 from
    format 2), names stored as UTF-16, contents as a 4-byte size and the bytes, zlib-compressed (Qt's qCompress)
    where the entry says so. Entries compressed otherwise (zstd) are left out."""
    if blob[:4] != b"qres":
        raise ValueError("not a Qt resource file")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    size = 14 if version == 1 else 22
    files = {}

    def name(offset: int) -> str:
        (length,) = struct.unpack(">H", blob[names + offset : names + offset + 2])
        return blob[names + offset + 6 : names + offset + 6 + 2 * length].decode("utf-16-be")

    def walk(index: int, path: str) -> None:
        entry = blob[tree + index * size : tree + index * size + 14]
        name_offset, flags = struct.unpack(">IH", entry[:6])
        here = f"{path}{name(name_offset)}" if index else ""
        if flags & 2:  # a directory: its children follow one another
            count, first = struct.unpack(">II", entry[6:14])
            for child in range(first, first + count):
                walk(child, f"{here}/" if index else "")
            return
        (offset,) = struct.unpack(">I", entry[10:14])
        (length,) = struct.unpack(">I", blob[data + offset : data + offset + 4])
        contents = blob[data + offset + 4 : data + offset + 4 + length]
        if flags & 1:
            files[here] = zlib.decompress(contents[4:])  # qCompress: the size, big-endian, then a zlib stream
        elif not flags & 4:
            files[here] = contents

    walk(0, "")
    return files
