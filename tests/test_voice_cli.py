"""`motcua voice build | words | say` through the project's own parser."""

from __future__ import annotations

import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

from controller.cli import main
from devices.voice.cache import ClipCache
from devices.voice.espeak import EspeakRenderer
from devices.voice.pcm import Pcm
from devices.voice.template import AnnouncementTemplate

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        (["21"], "hai mươi mốt"),
        (["1024"], "một nghìn không trăm hai mươi tư"),
        (["105", "--southern"], "một trăm lẻ năm"),
        (["20999"], "hai mươi nghìn chín trăm chín mươi chín"),
    ],
)
def test_words_prints_the_reading(argv: list[str], printed: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voice", "words", *argv]) == 0
    assert capsys.readouterr().out == printed + "\n"


def test_words_refuses_numbers_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voice", "words", "-5"]) == 2
    assert "outside" in capsys.readouterr().err


@pytest.mark.integration
def test_build_with_espeak_renders_the_library_then_say_uses_it(tmp_path: Path) -> None:
    assert main(["voice", "build", "--renderer", "espeak", "--cache-dir", str(tmp_path)]) == 0
    cache = ClipCache(tmp_path / "render")
    name = EspeakRenderer().name
    for clip in AnnouncementTemplate().clip_inventory():
        assert cache.get(clip.text, clip.voice, name) is not None, clip
    out = tmp_path / "call.wav"
    # A separate process, as an operator would run it.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "controller.cli",
            "voice",
            "say",
            "Mời công dân có số thứ tự 1024 đến quầy số 5",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    with wave.open(str(out)) as reader:
        assert reader.getframerate() == 22_050
        assert reader.getnframes() / reader.getframerate() > 3.0
    assert Pcm.from_wav(out.read_bytes()).rms() > 500
    # Everything came from the library: nothing new was rendered.
    renders = [p for p in (tmp_path / "render").rglob("*.wav")]
    assert len(renders) == len(AnnouncementTemplate().clip_inventory())


@pytest.mark.integration
def test_say_free_words_renders_them_offline(tmp_path: Path) -> None:
    out = tmp_path / "thanks.wav"
    code = main(["voice", "say", "Xin cảm ơn quý khách 15", "--out", str(out), "--cache-dir", str(tmp_path)])
    assert code == 0
    audio = Pcm.from_wav(out.read_bytes())
    assert audio.duration_s > 1.5 and audio.rms() > 500


def test_build_with_clips_lists_the_recordings_to_make(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voice", "build", "--renderer", "clips", "--cache-dir", str(tmp_path)]) == 1
    listing = capsys.readouterr().out
    count = len(AnnouncementTemplate().clip_inventory())
    assert f"record these {count} clips into {tmp_path / 'clips'}" in listing
    assert "mời_công_dân_có_số_thứ_tự.wav\tMời công dân có số thứ tự" in listing
    assert "hai_mươi_tư.wav\thai mươi tư" in listing


@pytest.mark.integration
def test_say_without_out_plays_through_pygame(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # conftest.py selects SDL's dummy driver: real-time playback, no sound card.
    started = time.perf_counter()
    assert main(["voice", "say", "năm", "--cache-dir", str(tmp_path)]) == 0
    # The chime alone lasts 0.9 s: returning later proves it waited for the sound.
    assert time.perf_counter() - started > 0.9
    assert capsys.readouterr().err == ""
