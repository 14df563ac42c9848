import io
import zipfile

import numpy as np
import soundfile as sf

from streamdl.data.sources import EXTRA_SOURCES, SOURCES, debian_packages, decode_clips, split_of


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
