"""Command-line options shared by the music-to-dance plugins (declared once, used by GCD and GDanceR)."""
from zoo.specs import OptionSpec

#: ``--audio song.wav [--seconds S]`` -> music features; ``--gif false`` skips the animations.
AUDIO_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("audio", "path", None, "a WAV/FLAC/OGG file (or pre-extracted features .npy)",
               hooks=("prepare_inputs",)),
    OptionSpec("seconds", "float", None, "crop the music to this many seconds", hooks=("prepare_inputs",)),
    OptionSpec("gif", "bool", True, "write an animated GIF per generated group", hooks=("save_outputs",)),
)
