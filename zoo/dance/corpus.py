"""Real music, offline: a piece of music21's bundled corpus (Bach chorales, Mozart and Beethoven quartets, ...)
rendered to a WAV file, so the dance generators meet real music and not only synthetic click tracks.

Pipeline: ``music21.corpus.parse(name)`` -> MIDI (music21's writer) -> audio by one of two synthesisers:

- ``fluidsynth``: the FluidSynth command-line player with a General MIDI soundfont (Debian: ``apt-get install
  fluidsynth fluid-soundfont-gm`` puts ``/usr/share/sounds/sf2/FluidR3_GM.sf2`` in place): sampled instruments;
- ``sine``: pretty_midi's own additive synthesis (one sine per note, no system dependency): what the tests use.

``synth="auto"`` takes FluidSynth when the program and a soundfont are found, else the sines, and the result says
which was used. The MIDI's own beat times (pretty_midi, from the score's tempo marks) come back too, as a
reference for the audio beat tracker.

Command line: ``python -m zoo.dance.corpus bach/bwv66.6 piece.wav --seconds 30 [--synth sine]``.
music21 and pretty_midi are the ``music`` extra (``pip install zoo[music]``).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.errors import ConfigError, DataError

SYNTHS: tuple[str, ...] = ("auto", "fluidsynth", "sine")
#: Where Debian/Ubuntu/Fedora/Homebrew put a General MIDI soundfont.
SOUNDFONTS: tuple[str, ...] = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2",
    "/opt/homebrew/share/soundfonts/default.sf2", "/usr/local/share/soundfonts/default.sf2",
)
SAMPLE_RATE: int = 22_050


@dataclass(frozen=True)
class Rendered:
    """A rendered piece: the WAV file, the synthesiser used, its length and the score's beat times (seconds)."""

    path: Path
    synth: str
    seconds: float
    beats: np.ndarray
    piece: str


def find_soundfont(candidates: Sequence[str] = SOUNDFONTS) -> Path | None:
    """The first existing General MIDI soundfont of ``candidates``."""
    return next((Path(c) for c in candidates if Path(c).is_file()), None)


def corpus_midi(name: str, path: str | Path, max_quarters: float | None = None) -> Path:
    """Write the music21 corpus piece ``name`` (e.g. ``bach/bwv66.6``) as a MIDI file; with ``max_quarters`` only
    the measures that start within that many quarter notes (long movements are cut before writing)."""
    try:
        from music21 import corpus
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise ConfigError("rendering corpus music needs music21 (pip install zoo[music])") from exc
    try:
        score = corpus.parse(name)
    except Exception as exc:  # music21 raises its own CorpusException and friends
        raise DataError(f"music21 corpus has no readable piece {name!r} ({type(exc).__name__}: {exc})") from exc
    if max_quarters is not None and score.highestTime > max_quarters and score.parts:
        starts = [float(m.offset) for m in score.parts[0].getElementsByClass("Measure")]
        if starts:
            numbers = [m.number for m in score.parts[0].getElementsByClass("Measure")]
            last = max(n for n, o in zip(numbers, starts) if o <= max_quarters)
            score = score.measures(numbers[0], last)
    out = Path(path)
    score.write("midi", fp=str(out))
    return out


def _fluidsynth(midi: Path, soundfont: Path, rate: int) -> np.ndarray:
    with tempfile.TemporaryDirectory(prefix="zoo-fluidsynth-") as tmp:
        wav = Path(tmp) / "out.wav"
        cmd = ["fluidsynth", "-ni", "-g", "0.7", "-r", str(rate), "-F", str(wav), str(soundfont), str(midi)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0 or not wav.is_file():
            raise DataError(f"fluidsynth failed on {midi} (exit {done.returncode}): {done.stderr[-400:]}")
        import soundfile as sf

        audio, got = sf.read(str(wav), dtype="float32", always_2d=True)
    if got != rate:
        raise DataError(f"fluidsynth wrote {got} Hz instead of {rate} Hz")
    return audio.mean(axis=1)


def render_midi(midi: str | Path, wav: str | Path, *, seconds: float | None = None, synth: str = "auto",
                rate: int = SAMPLE_RATE, soundfont: str | Path | None = None) -> tuple[str, float, np.ndarray]:
    """Render ``midi`` to ``wav`` (mono, peak 0.9, cropped to ``seconds``); returns ``(synth used, seconds,
    the MIDI's beat times within the crop)``. The file appears atomically (temporary file, then rename)."""
    import pretty_midi
    import soundfile as sf

    if synth not in SYNTHS:
        raise ConfigError(f"synth must be one of {SYNTHS}, got {synth!r}")
    pm = pretty_midi.PrettyMIDI(str(midi))
    font = Path(soundfont) if soundfont else find_soundfont()
    use_fluid = synth == "fluidsynth" or (synth == "auto" and font is not None and shutil.which("fluidsynth"))
    if use_fluid:
        if font is None or not font.is_file() or not shutil.which("fluidsynth"):
            raise ConfigError("synth='fluidsynth' needs the fluidsynth program and a General MIDI soundfont "
                              "(apt-get install fluidsynth fluid-soundfont-gm)")
        audio, used = _fluidsynth(Path(midi), font, rate), "fluidsynth"
    else:
        audio, used = pm.synthesize(fs=rate).astype(np.float32), "sine"
    if seconds is not None:
        audio = audio[: int(round(seconds * rate))]
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak <= 0:
        raise DataError(f"{midi} rendered to silence")
    audio = 0.9 * audio / peak
    out = Path(wav)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp.wav", dir=str(out.parent))
    os.close(fd)
    try:
        sf.write(tmp, audio, rate, subtype="PCM_16")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    length = len(audio) / rate
    beats = np.asarray(pm.get_beats(), dtype=np.float64)
    return used, length, beats[beats < length]


def render_corpus(name: str, wav: str | Path, *, seconds: float | None = 30.0, synth: str = "auto",
                  soundfont: str | Path | None = None) -> Rendered:
    """music21 corpus piece ``name`` -> ``wav`` (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="zoo-corpus-") as tmp:
        # at most 4 quarters a second (240 bpm) are needed for ``seconds``; a margin covers slower tempo changes
        quarters = None if seconds is None else 4.0 * seconds + 16.0
        midi = corpus_midi(name, Path(tmp) / "piece.mid", quarters)
        used, length, beats = render_midi(midi, wav, seconds=seconds, synth=synth, soundfont=soundfont)
    return Rendered(Path(wav), used, length, beats, name)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render a music21 corpus piece to a WAV file.")
    parser.add_argument("piece", help="music21 corpus name, e.g. bach/bwv66.6 or beethoven/opus18no1/movement1")
    parser.add_argument("wav")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--synth", choices=SYNTHS, default="auto")
    parser.add_argument("--soundfont", default=None)
    args = parser.parse_args(argv)
    r = render_corpus(args.piece, args.wav, seconds=args.seconds, synth=args.synth, soundfont=args.soundfont)
    print(f"{r.path}: {r.seconds:.1f} s of {r.piece} ({r.synth}), {len(r.beats)} score beats")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
