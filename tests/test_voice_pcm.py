"""PCM values, WAV bytes and the synthesised chime (pure, no processes)."""

from __future__ import annotations

import io
import wave
from itertools import pairwise

import pytest

from devices.voice.chime import chime, tone
from devices.voice.pcm import LIBRARY_FORMAT, Pcm, PcmFormat, concat, silence


def test_wav_round_trip_keeps_format_and_frames() -> None:
    block = tone(440, 0.25)
    again = Pcm.from_wav(block.to_wav())
    assert again == block
    with wave.open(io.BytesIO(block.to_wav())) as reader:
        assert reader.getframerate() == 22_050
        assert reader.getnchannels() == 1
        assert reader.getsampwidth() == 2
        assert reader.getnframes() == block.frame_count


def test_silence_and_concat_add_up_exactly() -> None:
    parts = [tone(440, 0.1), silence(0.15), tone(660, 0.2)]
    joined = concat(parts)
    assert joined.frame_count == sum(p.frame_count for p in parts)
    assert joined.duration_s == pytest.approx(0.45, abs=1 / 22_050)
    assert silence(0.15).rms() == 0.0


def test_concat_refuses_mixed_formats() -> None:
    stereo = Pcm(PcmFormat(44_100, 2, 2), bytes(400))
    with pytest.raises(ValueError, match="format mismatch"):
        concat([tone(440, 0.1), stereo])
    with pytest.raises(ValueError):
        concat([])


def test_values_are_checked_when_made() -> None:
    with pytest.raises(ValueError):
        Pcm(LIBRARY_FORMAT, b"\x00")  # half a frame
    with pytest.raises(ValueError):
        PcmFormat(22_050, 6, 2)
    with pytest.raises(ValueError):
        Pcm.from_wav(b"RIFF nonsense")
    with pytest.raises(ValueError):
        silence(-1)


def test_rms_of_a_sine_is_peak_over_root_two() -> None:
    assert tone(440, 0.5, peak=10_000).rms() == pytest.approx(10_000 / 2**0.5, rel=0.01)


def test_trimmed_drops_silence_but_keeps_a_margin() -> None:
    padded = concat([silence(0.3), tone(440, 0.2), silence(0.4)])
    trimmed = padded.trimmed(keep_s=0.02)
    assert trimmed.duration_s == pytest.approx(0.24, abs=0.005)
    assert trimmed.rms() > padded.rms()
    assert silence(0.2).trimmed().frame_count == 0


def _zero_crossings(block: Pcm) -> int:
    values = block.samples()
    return sum(1 for a, b in pairwise(values) if (a < 0) != (b < 0))


def test_chime_is_two_audible_tones_high_then_low() -> None:
    ding_dong = chime(high_hz=784, low_hz=622, note_s=0.45)
    assert ding_dong.format == LIBRARY_FORMAT
    assert ding_dong.duration_s == pytest.approx(0.9, abs=0.001)
    assert ding_dong.rms() > 2_000
    half = ding_dong.frame_count // 2
    first = Pcm(LIBRARY_FORMAT, ding_dong.frames[: half * 2])
    second = Pcm(LIBRARY_FORMAT, ding_dong.frames[half * 2 :])
    # Zero crossings per second = twice the frequency.
    assert _zero_crossings(first) / first.duration_s == pytest.approx(2 * 784, rel=0.05)
    assert _zero_crossings(second) / second.duration_s == pytest.approx(2 * 622, rel=0.05)
