"""SynthCanvas sound classes: a visual identity (emoji sprite) paired with a sound recipe.

A class is either *impact* (one sound per visual event: bounce, hit, jump, squash, flash)
or *sustained* (sounds while the sprite is visible; loudness follows its scale).

Recipes come from real material that installs offline:
- `gm`: a General MIDI program (0-based) from the soundfont, keys drawn from `keys`;
- `drum`: a key of the GM drum kit (bank 128, preset 0);
- `recording`: a freedesktop desktop sound (`/usr/share/sounds/freedesktop/stereo/*.oga`);
- `user`: recordings from a user's sound bank folder (see `userbank.py`);
- `library`: recordings of a built sound library (see `library_classes.py`).

Classes are chosen to be acoustically distinguishable: no two classes share a program or
drum key with overlapping pitch ranges (`check_distinct`), and near-duplicate kit sounds
(low agogo, mute conga, ...) are left out, and so are sounds with several onsets per hit
(vibraslap, long guiro, crumpling paper, a camera shutter's double click, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..errors import ConfigError

ClassKind = Literal["impact", "sustained"]
RecipeSource = Literal["gm", "drum", "recording", "user", "library"]

DESKTOP_SOUNDS = "/usr/share/sounds/freedesktop/stereo"


@dataclass(frozen=True)
class SoundRecipe:
    """How to make one sound of a class.

    keys:      inclusive MIDI key range (lo, hi); a drum class uses one key (lo == hi).
    velocity:  inclusive MIDI velocity range.
    hold, tail: impact: the sound is `hold + tail` seconds long, faded out over its end (the key
               is held throughout: a note-off would add a second onset, and the soundfont's
               release tail is cut).
    retrigger: sustained: re-strike every `retrigger` seconds (for sounds that decay, such as
               a ringing telephone or a chirping bird); 0 = one held note.
    files:     recording/user: the audio files (one is drawn per event).
    """

    source: RecipeSource
    program: int = 0
    keys: tuple[int, int] = (60, 60)
    velocity: tuple[int, int] = (85, 115)
    hold: float = 0.2
    tail: float = 0.5
    retrigger: float = 0.0
    files: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.source == "gm":
            return f"GM program {self.program}, keys {self.keys[0]}-{self.keys[1]}"
        if self.source == "drum":
            return f"GM drum key {self.keys[0]}"
        names = ", ".join(f.rsplit("/", 1)[-1] for f in self.files[:2])
        more = f" (+{len(self.files) - 2})" if len(self.files) > 2 else ""
        return f"{self.source}: {names}{more}"


@dataclass(frozen=True)
class SoundClass:
    name: str
    kind: ClassKind
    sprite: str  # an emoji, or a path to an RGBA image (user classes)
    description: str
    recipe: SoundRecipe
    audioset: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        r = self.recipe
        return {
            "name": self.name,
            "kind": self.kind,
            "sprite": self.sprite,
            "description": self.description,
            "audioset": list(self.audioset),
            "recipe": {
                "source": r.source, "program": r.program, "keys": list(r.keys), "velocity": list(r.velocity),
                "hold": r.hold, "tail": r.tail, "retrigger": r.retrigger, "files": list(r.files),
            },
        }


def _drum(name, key, sprite, desc, audioset=("Drum",), tail=0.6):
    return SoundClass(name, "impact", sprite, desc, SoundRecipe("drum", 0, (key, key), (80, 120), 0.1, tail), tuple(audioset))


def _hit(name, program, keys, sprite, desc, audioset=(), hold=0.25, tail=0.5):
    return SoundClass(name, "impact", sprite, desc, SoundRecipe("gm", program, keys, (85, 120), hold, tail), tuple(audioset))


def _hold(name, program, keys, sprite, desc, audioset=(), retrigger=0.0):
    return SoundClass(name, "sustained", sprite, desc, SoundRecipe("gm", program, keys, (85, 115), retrigger=retrigger), tuple(audioset))


def _rec(name, kind, file, sprite, desc, audioset=(), tail=1.2):
    recipe = SoundRecipe("recording", files=(f"{DESKTOP_SOUNDS}/{file}",), tail=tail, velocity=(90, 120))
    return SoundClass(name, kind, sprite, desc, recipe, tuple(audioset))


BUILTIN_CLASSES: list[SoundClass] = [
    # ---- GM drum kit (impact) -------------------------------------------------------------
    _drum("kick drum", 36, "🥁", "a deep bass drum thump", ("Bass drum", "Drum")),
    _drum("side stick", 37, "🥢", "a dry click of a stick on the drum rim", ("Rimshot", "Drum")),
    _drum("snare drum", 38, "🪘", "a crisp snare drum hit with rattling wires", ("Snare drum", "Drum")),
    _drum("hand clap", 39, "👏", "a single sharp hand clap", ("Clapping", "Hands")),
    _drum("floor tom", 41, "🛢️", "a low, booming floor tom", ("Drum",)),
    _drum("mid tom", 47, "🪣", "a mid-pitched tom-tom hit", ("Drum",)),
    _drum("high tom", 50, "🥫", "a high, short tom-tom hit", ("Drum",)),
    _drum("closed hi-hat", 42, "🎩", "a tight closed hi-hat tick", ("Hi-hat", "Cymbal")),
    _drum("open hi-hat", 46, "👒", "a sizzling open hi-hat", ("Hi-hat", "Cymbal")),
    _drum("crash cymbal", 49, "💥", "a loud crash cymbal that washes out", ("Cymbal",), tail=1.0),
    _drum("ride cymbal", 51, "🍳", "a ringing ride cymbal ping", ("Cymbal",), tail=0.9),
    _drum("china cymbal", 52, "🏮", "a trashy, bright china cymbal", ("Cymbal",), tail=0.9),
    _drum("ride bell", 53, "🛎️", "the metallic bell of a ride cymbal", ("Cymbal", "Ding")),
    _drum("tambourine", 54, "🌼", "a shaken tambourine with jingling discs", ("Tambourine",)),
    _drum("splash cymbal", 55, "💦", "a short, splashy cymbal", ("Cymbal",)),
    _drum("cowbell", 56, "🐄", "a hollow metallic cowbell clank", ("Cowbell",)),
    _drum("bongo", 60, "🥥", "a bright, high bongo slap", ("Drum",)),
    _drum("open conga", 63, "🏺", "a resonant open conga tone", ("Drum",)),
    _drum("low conga", 64, "🍯", "a deep low conga tone", ("Drum",)),
    _drum("timbale", 65, "🥘", "a metallic shell timbale strike", ("Drum",)),
    _drum("agogo", 67, "🔩", "a high agogo bell clink", ("Cowbell", "Mallet percussion")),
    _drum("cabasa", 69, "🌽", "a scratchy cabasa shake", ("Rattle (instrument)",)),
    _drum("maracas", 70, "🪇", "a short shake of maracas", ("Maraca",)),
    _drum("short guiro", 73, "🐟", "a quick scrape of a guiro", ("Scrape",)),
    _drum("claves", 75, "🪵", "two wooden claves clicking together", ("Wood block",)),
    _drum("high wood block", 76, "🧱", "a high, hollow wood block knock", ("Wood block",)),
    _drum("low wood block", 77, "📦", "a low wood block knock", ("Wood block", "Knock")),
    _drum("cuica", 79, "🦜", "a squeaky open cuica whoop", ("Squeak",)),
    _drum("triangle", 81, "🔺", "a ringing open triangle", ("Jingle, tinkle", "Chime"), tail=1.0),
    # ---- pitched instruments with a percussive envelope (impact) -------------------------
    _hit("grand piano", 0, (55, 67), "🎹", "a single piano note in the middle register", ("Piano",)),
    _hit("electric piano", 4, (62, 72), "💡", "a soft electric piano note", ("Electric piano",)),
    _hit("harpsichord", 6, (67, 79), "🏰", "a plucked harpsichord note", ("Harpsichord",)),
    _hit("clavinet", 7, (48, 60), "🎚️", "a funky, percussive clavinet note", ("Keyboard (musical)",)),
    _hit("celesta", 8, (72, 83), "⭐", "a delicate celesta chime", ("Mallet percussion",)),
    _hit("glockenspiel", 9, (86, 96), "✨", "a bright, high glockenspiel ping", ("Glockenspiel",)),
    _hit("honky-tonk piano", 3, (72, 84), "🍺", "a jangly, detuned saloon piano note", ("Piano",)),
    _hit("vibraphone", 11, (60, 71), "🌙", "a mellow vibraphone bar", ("Vibraphone",)),
    _hit("marimba", 12, (45, 57), "🌴", "a woody marimba bar", ("Marimba, xylophone",)),
    _hit("xylophone", 13, (76, 88), "🦴", "a dry, bright xylophone bar", ("Marimba, xylophone",)),
    _hit("tubular bells", 14, (60, 70), "🎐", "a church-like tubular bell", ("Tubular bells", "Bell"), tail=1.0),
    _hit("dulcimer", 15, (62, 74), "🛶", "a hammered dulcimer string", ("Zither",)),
    _hit("nylon guitar", 24, (50, 62), "🪺", "a plucked nylon-string guitar note", ("Acoustic guitar", "Guitar")),
    _hit("steel guitar", 25, (66, 78), "🤠", "a bright steel-string guitar pluck", ("Acoustic guitar", "Guitar")),
    _hit("electric guitar", 27, (57, 69), "🎸", "a clean electric guitar note", ("Electric guitar", "Guitar")),
    _hit("muted guitar", 28, (40, 52), "🧤", "a palm-muted guitar chug", ("Electric guitar",), hold=0.15),
    _hit("acoustic bass", 32, (36, 48), "🐋", "a deep plucked upright bass", ("Double bass", "Bass guitar")),
    _hit("slap bass", 36, (40, 52), "👋", "a snappy slap bass note", ("Bass guitar",)),
    _hit("synth bass", 38, (40, 52), "🎛️", "a punchy synthesizer bass", ("Synthesizer",)),
    _hit("pizzicato strings", 45, (60, 72), "🤏", "plucked violin strings", ("Pizzicato",)),
    _hit("harp", 46, (67, 79), "🪽", "a plucked harp string", ("Harp",)),
    _hit("timpani", 47, (38, 48), "⛰️", "a booming orchestral timpani", ("Timpani", "Drum"), tail=0.8),
    _hit("sitar", 104, (55, 67), "🕌", "a twangy sitar pluck", ("Sitar",)),
    _hit("banjo", 105, (62, 74), "🪕", "a bright banjo pluck", ("Banjo",)),
    _hit("shamisen", 106, (55, 66), "🎎", "a sharp shamisen pluck", ("Plucked string instrument",)),
    _hit("koto", 107, (67, 79), "🌸", "a koto string pluck", ("Zither",)),
    _hit("kalimba", 108, (60, 72), "🦒", "a soft kalimba tine", ("Mallet percussion",)),
    _hit("tinkle bell", 112, (79, 91), "🧚", "a tiny tinkling bell", ("Jingle bell", "Bell")),
    _hit("steel drum", 114, (60, 72), "🏝️", "a Caribbean steel drum note", ("Steelpan",)),
    _hit("taiko drum", 116, (36, 48), "⛩️", "a huge taiko drum boom", ("Drum",)),
    _hit("melodic tom", 117, (48, 60), "🤖", "a pitched electronic tom", ("Drum machine",)),
    _hit("synth drum", 118, (60, 72), "👾", "a zappy synthesizer drum", ("Drum machine",)),
    _hit("gunshot", 127, (55, 60), "🔫", "a single sharp gunshot", ("Gunshot, gunfire",), hold=0.3, tail=0.6),
    _hit("orchestra hit", 55, (60, 67), "🎭", "a dramatic orchestral stab", ("Orchestra",), hold=0.2),
    _hit("crystal", 98, (72, 84), "💎", "a glassy crystal chime", ("Chime",), tail=0.8),
    # ---- desktop recordings (impact) -----------------------------------------------------
    _rec("desk bell", "impact", "bell.oga", "🔔", "a small desk bell ding", ("Bell", "Ding")),
    _rec("completion chime", "impact", "complete.oga", "✅", "a two-tone completion chime", ("Chime", "Ding")),
    _rec("error buzz", "impact", "dialog-error.oga", "❌", "a low error buzz", ("Buzzer", "Beep, bleep")),
    _rec("warning tone", "impact", "dialog-warning.oga", "⚠️", "a warning alert tone", ("Beep, bleep",)),
    _rec("message pop", "impact", "message-new-instant.oga", "💬", "a bubbly new-message pop", ("Ding", "Burst, pop")),
    _rec("mail chime", "impact", "message.oga", "✉️", "a short mail notification chime", ("Ding",)),
    _rec("attention knock", "impact", "window-attention.oga", "🚪", "a gentle attention tone", ("Ding",)),
    _rec("question pop", "impact", "window-question.oga", "❓", "a soft questioning pop", ("Burst, pop",)),
    _rec("info blip", "impact", "dialog-information.oga", "ℹ️", "a short information blip", ("Beep, bleep",)),
    _rec("volume tick", "impact", "audio-volume-change.oga", "🔊", "a tiny volume-change tick", ("Tick", "Clicking")),
    # ---- sustained: GM sound effects ----------------------------------------------------
    _hold("helicopter", 125, (60, 60), "🚁", "a helicopter with whirring rotor blades", ("Helicopter", "Aircraft")),
    _hold("applause", 126, (60, 60), "🙌", "a crowd applauding", ("Applause", "Clapping")),
    _hold("seashore", 122, (60, 60), "🌊", "waves breaking on a seashore", ("Waves, surf", "Ocean")),
    _hold("songbird", 123, (60, 67), "🐦", "a small bird chirping", ("Bird vocalization, bird call, bird song", "Chirp, tweet"), retrigger=0.9),
    _hold("telephone", 124, (60, 60), "☎️", "an old telephone ringing", ("Telephone bell ringing", "Telephone"), retrigger=2.0),
    _hold("breath", 121, (60, 66), "🌬️", "a breathy gust of air", ("Breathing", "Wind"), retrigger=1.0),
    # ---- sustained: held instrument notes ------------------------------------------------
    _hold("church organ", 19, (43, 55), "⛪", "a church pipe organ chord tone", ("Organ",)),
    _hold("drawbar organ", 16, (62, 74), "🎪", "a buzzing drawbar organ", ("Hammond organ", "Electronic organ")),
    _hold("accordion", 21, (60, 72), "🪗", "a wheezing accordion", ("Accordion",)),
    _hold("harmonica", 22, (64, 76), "🚂", "a reedy harmonica", ("Harmonica",)),
    _hold("violin", 40, (69, 81), "🎻", "a sustained violin note", ("Violin, fiddle", "Bowed string instrument")),
    _hold("cello", 42, (43, 55), "🪑", "a deep bowed cello note", ("Cello", "Bowed string instrument")),
    _hold("contrabass", 43, (28, 38), "🐘", "a rumbling bowed double bass", ("Double bass",)),
    _hold("string section", 48, (55, 67), "🎼", "a lush string ensemble", ("String section", "Orchestra")),
    _hold("choir", 52, (60, 72), "👥", "a choir singing 'aah'", ("Choir", "Singing")),
    _hold("trumpet", 56, (64, 76), "🎺", "a bright sustained trumpet", ("Trumpet", "Brass instrument")),
    _hold("trombone", 57, (46, 58), "🦛", "a brassy trombone", ("Trombone", "Brass instrument")),
    _hold("tuba", 58, (31, 42), "🐳", "a low oompah tuba", ("Brass instrument",)),
    _hold("french horn", 60, (53, 65), "📯", "a warm french horn", ("French horn", "Brass instrument")),
    _hold("saxophone", 65, (58, 70), "🎷", "a smooth alto saxophone", ("Saxophone",)),
    _hold("oboe", 68, (67, 79), "🦆", "a nasal oboe tone", ("Wind instrument, woodwind instrument",)),
    _hold("bassoon", 70, (40, 52), "🦬", "a low reedy bassoon", ("Wind instrument, woodwind instrument",)),
    _hold("clarinet", 71, (52, 64), "🐍", "a woody clarinet tone", ("Clarinet",)),
    _hold("piccolo", 72, (86, 96), "🐤", "a piercing piccolo", ("Flute",)),
    _hold("flute", 73, (67, 79), "🍃", "a breathy concert flute", ("Flute",)),
    _hold("pan flute", 75, (55, 66), "🐐", "an airy pan flute", ("Flute", "Wind instrument, woodwind instrument")),
    _hold("blown bottle", 76, (60, 72), "🍾", "air blown across a bottle", ("Wind instrument, woodwind instrument",)),
    _hold("shakuhachi", 77, (62, 74), "🎍", "a breathy shakuhachi", ("Flute",)),
    _hold("whistling", 78, (76, 84), "😗", "a person whistling a tone", ("Whistling",)),
    _hold("square lead", 80, (60, 72), "🟩", "a hollow square-wave synth", ("Synthesizer",)),
    _hold("sawtooth lead", 81, (50, 60), "🪚", "a buzzy sawtooth synth", ("Synthesizer",)),
    _hold("engine hum", 81, (26, 34), "🚜", "a low, droning engine-like hum", ("Engine", "Idling")),
    _hold("bagpipes", 109, (60, 67), "🏴", "droning bagpipes", ("Bagpipes",)),
    _hold("shanai", 111, (64, 76), "🪔", "a nasal shehnai reed", ("Wind instrument, woodwind instrument",)),
    _hold("warm pad", 89, (48, 60), "☁️", "a warm synthesizer pad", ("Synthesizer", "Ambient music")),
    _hold("halo pad", 94, (60, 72), "😇", "a shimmering halo pad", ("Synthesizer",)),
    _hold("sweep pad", 95, (48, 60), "🧹", "a sweeping filtered pad", ("Synthesizer",)),
    _hold("bowed glass", 92, (60, 72), "🍷", "a bowed glass resonance", ("Singing bowl",)),
    _hold("sci-fi", 103, (60, 72), "🛸", "a warbling science-fiction effect", ("Sound effect",)),
    # ---- sustained: desktop recordings, looped --------------------------------------------
    _rec("alarm clock", "sustained", "alarm-clock-elapsed.oga", "⏰", "an alarm clock beeping", ("Alarm clock", "Alarm")),
    _rec("busy signal", "sustained", "phone-outgoing-busy.oga", "📵", "a telephone busy signal", ("Busy signal",)),
    _rec("ringback tone", "sustained", "phone-outgoing-calling.oga", "📞", "a phone ringback tone", ("Ringtone", "Dial tone")),
    _rec("ringtone", "sustained", "phone-incoming-call.oga", "📱", "a mobile phone ringtone", ("Ringtone", "Telephone")),
]


def check_distinct(classes: list[SoundClass]) -> None:
    """Raise ConfigError on duplicate names or sprites, or two soundfont classes that could
    produce the same sound (same program/drum key with overlapping key ranges)."""
    names, sprites = set(), {}
    for c in classes:
        if c.name in names:
            raise ConfigError(f"sound classes: duplicate class name '{c.name}'")
        names.add(c.name)
        if c.sprite in sprites:
            raise ConfigError(f"sound classes: '{c.name}' and '{sprites[c.sprite]}' share the sprite {c.sprite}")
        sprites[c.sprite] = c.name
    font = [c for c in classes if c.recipe.source in ("gm", "drum")]
    for i, a in enumerate(font):
        for b in font[i + 1 :]:
            ra, rb = a.recipe, b.recipe
            same = ra.source == rb.source and ra.program == rb.program
            if same and ra.keys[0] <= rb.keys[1] and rb.keys[0] <= ra.keys[1]:
                raise ConfigError(f"sound classes: '{a.name}' and '{b.name}' use the same sound (overlapping keys)")


def builtin_classes() -> list[SoundClass]:
    return list(BUILTIN_CLASSES)


def select_classes(classes: list[SoundClass], names: list[str] | None) -> list[SoundClass]:
    """The classes named in `names` (in that order), or all when `names` is empty/None."""
    if not names:
        return list(classes)
    by_name = {c.name: c for c in classes}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        import difflib

        hint = difflib.get_close_matches(unknown[0], list(by_name), n=1)
        extra = f" (did you mean '{hint[0]}'?)" if hint else ""
        raise ConfigError(f"unknown sound class '{unknown[0]}'{extra}; see `prismaudio canvas classes`")
    return [by_name[n] for n in dict.fromkeys(names)]
