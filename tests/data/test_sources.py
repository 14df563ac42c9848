import io
import struct
import zipfile
import zlib

import numpy as np
import soundfile as sf

from streamdl.data.sources import ADMITTED_SOURCES, EXTRA_SOURCES, SOURCES, debian_packages, decode_clips, qt_resources, split_of


def test_splits_are_fixed_by_path_and_hold_out_speakers():
    source = next(s for s in SOURCES if s.name == "klettres")
    assert split_of(source, "usr/share/klettres/de/alpha/a.ogg") == "test"  # a held-out narrator
    assert split_of(source, "usr/share/klettres/fr/alpha/a.ogg") in ("train", "val")
    assert split_of(source, "usr/share/klettres/fr/alpha/b.ogg") == split_of(source, "usr/share/klettres/fr/alpha/b.ogg")


def test_only_the_listed_debian_packages_are_read():
    assert "fillets-ng-data-cs" in debian_packages() and "widelands-data" in debian_packages()
    assert "openarena-data" in debian_packages() and "sound-theme-freedesktop" in debian_packages()
    assert "warzone2100-data" in debian_packages()
    assert len(debian_packages()) == 18 and "redeclipse-data" not in debian_packages()  # DATA.md's list only, unless asked
    assert len(debian_packages(extra=True)) == 21 and "redeclipse-data" in debian_packages(extra=True)
    independent = {"0ad-data", "lincity-ng-data", "megaglest-data", "scorched3d-data", "supertuxkart-data"}  # scripts/make_tagger_eval.py
    assert not independent & set(debian_packages(extra=True))


def test_asterisk_holds_out_its_french_voice_only():
    (asterisk,) = (s for s in SOURCES if s.name == "asterisk")
    splits = {voice: {split_of(asterisk, f"usr/share/asterisk/sounds/{voice}/prompt{i}.wav") for i in range(100)}
              for voice in ("en_US_f_Allison", "es_MX_f_Allison", "fr_CA_f_June", "it_IT_m_Carlo", "ru_RU_f_IvrvoiceRU")}  # fmt: skip
    assert splits.pop("fr_CA_f_June") == {"test"} and all(s == {"train", "val"} for s in splits.values())


def test_sources_beyond_the_data_list_are_for_training_only():
    for source in EXTRA_SOURCES:
        assert {split_of(source, f"sounds/{i}.ogg") for i in range(200)} == {"train", "val"}


def test_archives_give_the_members_their_source_asks_for(tmp_path):
    archive = tmp_path / "base.wz"
    with zipfile.ZipFile(archive, "w") as z:
        members = (("audio/sfx/vehicle/tread.ogg", 11025), ("audio/sfx/vehicle/notes.txt", 0), ("audio/talk/hi.ogg", 16000))
        for name, rate in members:
            buffer = io.BytesIO()
            if rate:
                sf.write(buffer, 0.1 * np.ones((rate // 2, 2)), rate, format="OGG")
            z.writestr(name, buffer.getvalue() or b"text")
    clips = decode_clips(archive, r"^audio/sfx/.*\.ogg$")
    assert [(suffix, len(x), rate) for suffix, x, rate in clips] == [("#audio/sfx/vehicle/tread.ogg", 5512, 11025)]
    assert clips[0][1].ndim == 1  # stereo members are mixed to mono
    assert decode_clips(archive) == []  # a source names the members it reads
    warzone = next(s for s in SOURCES if s.name == "warzone-sfx")
    assert [s for s, _, _ in decode_clips(archive, warzone.members)] == ["#audio/sfx/vehicle/tread.ogg"]


def _qt_resource(files: dict[str, tuple[bytes, bool]]) -> bytes:
    """A format-3 Qt resource (what ``rcc`` compiles) holding ``files`` ({"dir/name": (contents, compressed)}) in one folder."""
    folder = next(iter(files)).split("/")[0]
    names, data = b"", b""
    offsets = {}
    for name in [folder] + [path.split("/")[1] for path in files]:
        offsets[name] = len(names)
        names += struct.pack(">HI", len(name), 0) + name.encode("utf-16-be")
    entries = [struct.pack(">IHII", 0, 2, 1, 1) + bytes(8),  # the root: one child, entry 1
               struct.pack(">IHII", offsets[folder], 2, len(files), 2) + bytes(8)]  # the folder: its files from entry 2
    for path, (contents, compressed) in files.items():
        stored = struct.pack(">I", len(contents)) + zlib.compress(contents) if compressed else contents
        entries.append(struct.pack(">IHHHI", offsets[path.split("/")[1]], int(compressed), 0, 0, len(data)) + bytes(8))
        data += struct.pack(">I", len(stored)) + stored
    header_size = 24
    tree = header_size + len(data) + len(names)
    return b"qres" + struct.pack(">IIIII", 3, tree, header_size, header_size + len(data), 0) + data + names + b"".join(entries)


def test_qt_resources_are_read_plain_and_compressed(tmp_path):
    buffer = io.BytesIO()
    sf.write(buffer, 0.1 * np.ones(800), 8000, format="WAV")
    wav = buffer.getvalue()
    blob = _qt_resource({"res/a.wav": (wav, False), "res/b.wav": (wav, True), "res/c.qml": (b"Item {}", True)})
    assert qt_resources(blob) == {"res/a.wav": wav, "res/b.wav": wav, "res/c.qml": b"Item {}"}
    (tmp_path / "x.rcc").write_bytes(blob)
    clips = decode_clips(tmp_path / "x.rcc", r".*\.wav$")
    assert [(suffix, len(x), rate) for suffix, x, rate in clips] == [("#res/a.wav", 800, 8000), ("#res/b.wav", 800, 8000)]


def test_admitted_sources_read_their_packages_only_when_asked():
    admitted = set(debian_packages(admitted=True)) - set(debian_packages())
    assert {"ufoai-sound", "flare-game", "gcompris-qt-data", "trigger-rally-data", "ktuberling-data"} <= admitted
    independent = {"0ad-data", "lincity-ng-data", "megaglest-data", "scorched3d-data", "supertuxkart-data"}
    assert not independent & admitted


def test_queen_resources_are_read_by_name(tmp_path):
    buffer = io.BytesIO()
    sf.write(buffer, 0.1 * np.ones(1102), 11025, format="WAV")  # stands in for an MP3 member
    members = [(b"020001P2.SB", buffer.getvalue()), (b"BLANK000.SB", b"\0" * 8), (b"ROOM.PCX", b"picture")]
    offset = 15 + 21 * len(members)
    table, data = b"", b""
    for name, contents in members:
        table += name.ljust(12, b"\0") + b"\1" + struct.pack(">II", offset + len(data), len(contents))
        data += contents
    blob = b"QTBL" + b"CEM10\0\0\0" + b"\1" + struct.pack(">H", len(members)) + table + data
    (tmp_path / "queen.1c").write_bytes(blob)
    queen = next(s for s in ADMITTED_SOURCES if s.name == "queen")
    clips = decode_clips(tmp_path / "queen.1c", queen.members)
    assert [(suffix, len(x), rate) for suffix, x, rate in clips] == [("#020001P2.SB", 1102, 11025)]
    assert queen.split_members and queen.test_fraction == 0.0  # speakers are not named: its clips train and validate only
