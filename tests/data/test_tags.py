"""Labels come from curated rules on clip names; the tagger's split is fixed by the name."""

import pytest

from streamdl.data.tags import labels_of, tagger_split
from streamdl.labels import LABELS


@pytest.mark.parametrize(
    "name, role, expected",
    [
        ("fillets:usr/share/games/fillets-ng/sound/x/cs/a-hs-1.ogg", "speech", ("speech",)),
        ("widelands-music:usr/share/games/widelands/data/music/a.ogg", "music", ("music",)),
        ("bucklespring:usr/share/buckle/wav/1e-0.wav", "noise", ("keyboard",)),
        ("openttd:usr/share/games/openttd/baseset/opensfx/opensfx.cat#24 Helicopter", "noise", ("vehicle",)),
        ("openttd:usr/share/games/openttd/baseset/opensfx/opensfx.cat#52 Wind", "noise", ("wind",)),
        ("openttd:usr/share/games/openttd/baseset/opensfx/opensfx.cat#29 Applause", "noise", ("crowd",)),
        ("openttd:usr/share/games/openttd/baseset/opensfx/opensfx.cat#40 Sawmill", "noise", ("machine",)),
        ("minetest:usr/share/games/minetest/games/minetest_game/mods/default/sounds/default_water_footstep.1.ogg", "noise", ("footsteps", "water")),
        ("openarena:usr/share/games/openarena/baseoa/pak0.pk3#sound/movers/doors/dr1_strt.wav", "noise", ("door",)),
        ("warzone-sfx:usr/share/games/warzone2100/base.wz#audio/sfx/vehicle/tread.ogg", "noise", ("vehicle",)),
        ("warzone-sfx:usr/share/games/warzone2100/base.wz#audio/sfx/building/oilpump.ogg", "noise", ("machine",)),
        ("tuxpaint-sounds:usr/share/tuxpaint/stamps/household/vacuum_cleaner.ogg", "noise", ("machine",)),
        ("tuxpaint-sounds:usr/share/tuxpaint/stamps/household/tools/saw.ogg", "noise", ()),  # a hand saw
        ("widelands:usr/share/games/widelands/data/sound/mill/mill_turning_00.ogg", "noise", ()),
        ("freedesktop:usr/share/sounds/freedesktop/stereo/alarm-clock-elapsed.oga", "events", ("alarm",)),
        ("widelands:usr/share/games/widelands/data/sound/barbarians/taverns/biginn_00.ogg", "noise", ("crowd",)),
        ("tuxpaint-sounds:usr/share/tuxpaint/stamps/animals/mammals/dogs/dog.ogg", "noise", ("dog",)),
        ("ufoai:usr/share/games/ufoai/base/0snd.pk3#sound/footsteps/gravel2.ogg", "noise", ("footsteps",)),
        ("ufoai:usr/share/games/ufoai/base/0snd.pk3#sound/ambience/alienmachinery3.ogg", "noise", ("machine",)),
        ("flare:usr/share/games/flare/mods/fantasycore/soundfx/environment/cave_wind_loop.ogg", "noise", ("wind",)),
        ("trigger-rally:usr/share/games/trigger-rally/data.zip#sounds/engine.wav", "noise", ("vehicle",)),
        ("gcompris:usr/share/gcompris-qt/rcc/memory-sound.rcc#gcompris/src/activities/memory-sound/resource/LRRain_in_garden_01_LA_cut.ogg",
         "noise", ("water",)),
        ("foobillardplus:usr/share/games/foobillardplus/data/applause.wav", "noise", ("crowd",)),
        ("sonic-pi:usr/share/sonic-pi/samples/loop_amen.flac", "noise", ("music",)),
        ("sonic-pi:usr/share/sonic-pi/samples/bd_808.flac", "noise", ()),  # one drum hit is not music
    ],
)
def test_labels_from_names(name, role, expected):
    assert labels_of(name, role) == expected


def test_labels_come_out_in_vocabulary_order():
    labels = labels_of("x:firetruck.ogg")
    assert labels == tuple(sorted(labels, key=LABELS.index)) == ("vehicle", "alarm")


def test_tagger_split_is_fixed_by_name_and_roughly_80_20():
    names = [f"src:file{i}.ogg" for i in range(2000)]
    splits = [tagger_split(n) for n in names]
    assert splits == [tagger_split(n) for n in names]
    assert 0.15 < splits.count("val") / len(splits) < 0.25
