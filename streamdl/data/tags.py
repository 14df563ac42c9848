"""How corpus clips get the tagger's labels (the vocabulary itself is :data:`streamdl.labels.LABELS`).

Labels come from file names and package documents (the OpenTTD catalogue's titles), curated by
hand in :data:`LABEL_RULES`: each rule is a regular expression on a clip's corpus name
(``source:relative/path[#member]``) and the labels it gives. A clip no rule matches is still used,
as an unlabelled background ("none of the labels"), which teaches the tagger to stay quiet on
fire, weapons, tools and the like. Speech and music clips are labelled by their pool.
"""

from __future__ import annotations

import re
import zlib

from streamdl.labels import LABELS

# (regex on the clip name, case-insensitive, labels); every matching rule adds its labels
LABEL_RULES = (
    (r"^bucklespring:", ("keyboard",)),
    (r"footstep|/footsteps/(boot|step|clank|mech|flesh|splash)|hedgewars-sfx:.*/steps\.ogg", ("footsteps",)),
    (r"ufoai:.*#sound/footsteps/(?!crouch|stand|hitground)|flare:.*/steps/step_|warmux:.*/misc/step\.ogg|icy_walk", ("footsteps",)),
    (r"/footsteps/splash|water_footstep", ("water",)),
    (r"flare:.*/(river_loop|cave_droplets_loop|rain)\.ogg|gcompris:.*/(water_fill|water|drip|bubble|harbor\d)\.wav|Rain_in_garden"
     r"|7kaa:.*/RAIN\.WAV", ("water",)),
    (r"doors?_|/doors/|_door_", ("door",)),
    (r"/dogs/|/dog\.ogg|wolf|coyote|gcompris:.*Bark_", ("dog",)),
    (r"bird|/birds/|blackbird|crow\.(ogg|flac)|cuckoo|duck\.ogg|owl\.ogg|owl_loop|raven_loop|chickens\.ogg|rooster|seagull|tucan|quetzal|heron"
     r"|penguin|vulture|gander|drake\.ogg|turkey", ("bird",)),
    (r"openttd:.*#\d+ (?!.*breakdown).*(train|bus|truck|plane|jet take off|helicopter|car horn|ship horn|ferry horn|steam engine)", ("vehicle",)),
    (r"firetruck|carts_cart_moving|hedgewars-sfx:.*/plane\.ogg|warzone-sfx:.*#audio/sfx/vehicle/", ("vehicle",)),
    (r"trigger-rally:.*/engine\.wav|gcompris:.*/(helicopter|car|train)\.wav|StartAndStopCarEngine|Train_slowing_down"
     r"|flare:.*/minecart\.ogg|warmux:.*/aircraft_flying", ("vehicle",)),
    (r"env_sounds_water|waterfall|splash\.ogg|droplet|/drops\.wav|Bubble generated|beewater|planewater|cf_blubber", ("water",)),
    (r"redeclipse:.*/(river|creek|water|cavedrip|rain|stormrain|splash(in|out)\d?)\.ogg"
     r"|flightgear:.*/(rain|rain-windshield|wave|water-\w+)\.wav|supertux:.*/(rain|splash)\.wav", ("water",)),
    (r"wind\d*\.wav|openttd:.*#\d+ (Heavy )?[Ww]ind$|redeclipse:.*/(blow|hollow|waste|storm)?wind\d?\.ogg", ("wind",)),
    (r"ufoai:.*/arcticwind\.ogg|flare:.*/(cave_)?wind_loop\.ogg", ("wind",)),
    (r"redeclipse:.*/distant_cars|flightgear:.*/(engine-prop|exhaust_loop|helicopter|jet|prop|R-1535Slow|p51d_rpm1"
     r"|rotor(-2blade)?|turbine_loop|turbojet_fan|turboprop1)\.wav", ("vehicle",)),
    (r"/tavern_|/(big)?inn_|Applause|Oooh sound|foobillardplus:.*/ooh\.wav", ("crowd",)),
    (r"alarm-clock|phone-incoming|phone-outgoing-calling|Level crossing|firetruck|Factory Whistle", ("alarm",)),
    (r"Washing-machine|vacuum_cleaner|/benchsaw_|/sawmill_|mill/weaving|machinerydrone|tim_machine|tim_pump|/world/fan\d*\.wav"
     r"|oilpump|powerhum|#11 Mining machinery|#40 Sawmill|#56 Lumber mill: Chainsaw|#33 Jackhammer", ("machine",)),
    (r"ufoai:.*/(alien)?(power)?machinery\d|ufoai:.*/(machine1|minepump03|wind_turbine|alien-generator|alien-ventilation)\.ogg"
     r"|Factory_noise|loop_3d_printer", ("machine",)),
    (r"sonic-pi:.*/loop_(amen|breakbeat|compus|garzul|mika|safari|tabla|perc\d|mehackit\d|electric|industrial|weirdo)", ("music",)),
)  # fmt: skip


def labels_of(name: str, role: str = "noise") -> tuple[str, ...]:
    """The labels of a corpus clip from its pool's role and its name (empty: unlabelled background)."""
    found = {role} if role in ("speech", "music") else set()
    for pattern, labels in LABEL_RULES:
        if re.search(pattern, name, re.IGNORECASE):
            found.update(labels)
    return tuple(label for label in LABELS if label in found)


def tagger_split(name: str, val_fraction: float = 0.2) -> str:
    """'train' or 'val' for one labelled clip, fixed by its name (so validation shares no source file)."""
    return "val" if (zlib.crc32(name.encode()) % 10007) / 10007 < val_fraction else "train"
