"""Renderers: recorded clips, the disk cache, the fallback chain, gTTS (faked), espeak-ng (real)."""

from __future__ import annotations

import socket
import subprocess
import unicodedata
from pathlib import Path

import pygame
import pytest

from devices.errors import DeviceError, DeviceUnavailable, ProtocolError
from devices.voice.cache import CachedRenderer, ClipCache, cache_key
from devices.voice.chime import tone
from devices.voice.clips import ClipFolderRenderer, clip_filename
from devices.voice.convert import decode_mp3, to_library_format
from devices.voice.espeak import EspeakRenderer
from devices.voice.fake_renderer import ToneRenderer
from devices.voice.gtts_renderer import GttsRenderer, tcp_reachable
from devices.voice.pcm import LIBRARY_FORMAT, Pcm, PcmFormat
from devices.voice.renderer import FallbackRenderer

# An MP3 that ships with pygame: real MP3 bytes without a network or an encoder.
PYGAME_MP3 = Path(pygame.__file__).parent / "examples" / "data" / "house_lo.mp3"


# ------------------------------------------------------------ recorded clips


@pytest.mark.parametrize(
    ("text", "stem"),
    [
        ("Mời công dân có số thứ tự", "mời_công_dân_có_số_thứ_tự"),
        ("Xin mời lần nữa, ", "xin_mời_lần_nữa"),
        ("hai mươi tư", "hai_mươi_tư"),
        ("hai mười", "hai_mười"),
        ("Đến quầy  số!", "đến_quầy_số"),
    ],
)
def test_clip_file_names_keep_diacritics(text: str, stem: str) -> None:
    assert clip_filename(text) == stem
    assert clip_filename(unicodedata.normalize("NFD", text)) == stem


def test_clip_file_name_needs_letters() -> None:
    with pytest.raises(ValueError):
        clip_filename(" ,.")


def test_recorded_clip_is_found_by_name_voice_folder_first(tmp_path: Path) -> None:
    generic = tone(440, 0.2)
    northern = tone(550, 0.3)
    (tmp_path / "vi").mkdir()
    (tmp_path / "đến_quầy_số.wav").write_bytes(generic.to_wav())
    (tmp_path / "vi" / "đến_quầy_số.wav").write_bytes(northern.to_wav())
    # A name written in NFD, as macOS does, is found too.
    (tmp_path / unicodedata.normalize("NFD", "mười_lăm.wav")).write_bytes(generic.to_wav())
    clips = ClipFolderRenderer(tmp_path)
    assert clips.available()
    assert Pcm.from_wav(clips.render("đến quầy số", "vi")) == northern
    assert Pcm.from_wav(clips.render("đến quầy số", "en")) == generic
    assert Pcm.from_wav(clips.render("mười lăm", "vi")) == generic
    with pytest.raises(DeviceUnavailable, match="mười_bốn"):
        clips.render("mười bốn", "vi")
    assert not ClipFolderRenderer(tmp_path / "absent").available()


@pytest.mark.integration
def test_recorded_clip_in_another_format_is_converted_by_sox(tmp_path: Path) -> None:
    cd_quality = tone(440, 0.5, fmt=PcmFormat(44_100, 2, 2))
    (tmp_path / "hai_mươi_tư.wav").write_bytes(cd_quality.to_wav())
    subprocess.run(["sox", str(tmp_path / "hai_mươi_tư.wav"), str(tmp_path / "mười_lăm.flac")], check=True)
    for text in ("hai mươi tư", "mười lăm"):
        pcm = Pcm.from_wav(ClipFolderRenderer(tmp_path).render(text, "vi"))
        assert pcm.format == LIBRARY_FORMAT
        assert pcm.duration_s == pytest.approx(0.5, abs=0.01)
        assert pcm.rms() > 3_000


# ------------------------------------------------------------ cache and chain


def test_cache_key_covers_text_voice_and_renderer() -> None:
    key = cache_key("hai mươi tư", "vi", "espeak-150wpm")
    assert key == cache_key(unicodedata.normalize("NFD", "hai mươi tư"), "vi", "espeak-150wpm")
    assert key != cache_key("hai mươi bốn", "vi", "espeak-150wpm")
    assert key != cache_key("hai mươi tư", "en", "espeak-150wpm")
    assert key != cache_key("hai mươi tư", "vi", "gtts-com")


def test_cache_stores_atomically_and_serves_after_the_renderer_is_gone(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    inner = ToneRenderer(name="tone")
    cached = CachedRenderer(inner, cache)
    first = cached.render("mười lăm", "vi")
    path = cache.path_for("mười lăm", "vi", "tone")
    assert path.read_bytes() == first
    assert not list(tmp_path.rglob("*.part"))
    # A fresh process with an offline chain serves the same bytes from disk.
    offline = CachedRenderer(ToneRenderer(name="tone"), ClipCache(tmp_path), offline=True)
    assert offline.render("mười lăm", "vi") == first
    with pytest.raises(DeviceUnavailable, match="no cached clip"):
        offline.render("mười sáu", "vi")
    assert inner.rendered == ["mười lăm"]


def test_fallback_chain_prefers_the_first_renderer_that_can(tmp_path: Path) -> None:
    recorded = tone(500, 0.1)
    (tmp_path / "năm.wav").write_bytes(recorded.to_wav())
    backup = ToneRenderer(name="backup")
    chain = FallbackRenderer([ClipFolderRenderer(tmp_path), backup])
    assert Pcm.from_wav(chain.render("năm", "vi")) == recorded
    assert Pcm.from_wav(chain.render("sáu", "vi")).duration_s == pytest.approx(0.006, abs=1e-3)
    assert backup.rendered == ["sáu"]
    assert chain.name == "clips+backup"


def test_fallback_chain_reports_every_failure() -> None:
    chain = FallbackRenderer([ClipFolderRenderer(Path("/nonexistent")), EspeakRenderer(executable="no-such-espeak")])
    assert not chain.available()
    with pytest.raises(DeviceUnavailable, match=r"clips: .*no-such-espeak"):
        chain.render("năm", "vi")


# ------------------------------------------------------------ gTTS, faked


class FakeSpeech:
    """Stands in for gtts.gTTS: writes MP3 bytes, or fails like gTTS does."""

    def __init__(self, text: str, data: bytes, fail: bool, **options: object) -> None:
        self.text = text
        self.data = data
        self.fail = fail
        self.options = options

    def save(self, savefile: str) -> None:
        with open(savefile, "wb") as out:
            # gTTS opens the file before the request, so a failure leaves it behind.
            out.write(self.data[:100] if self.fail else self.data)
        if self.fail:
            raise RuntimeError("429 (Too Many Requests) from TTS API")


class FakeGtts:
    """A factory with the signature of gtts.gTTS, recording what it was asked."""

    def __init__(self, data: bytes, fail: bool = False) -> None:
        self.data = data
        self.fail = fail
        self.requests: list[tuple[str, dict[str, object]]] = []

    def __call__(self, text: str, **options: object) -> FakeSpeech:
        self.requests.append((text, options))
        return FakeSpeech(text, self.data, self.fail, **options)


@pytest.fixture
def mp3_bytes() -> bytes:
    if not PYGAME_MP3.is_file():
        pytest.skip("pygame's example MP3 is not installed")
    return PYGAME_MP3.read_bytes()


def test_gtts_fetches_once_into_its_mp3_cache_and_decodes_to_wav(tmp_path: Path, mp3_bytes: bytes) -> None:
    factory = FakeGtts(mp3_bytes)
    renderer = GttsRenderer(tmp_path, factory=factory, probe=lambda: True)
    wav = renderer.render("Mời công dân có số thứ tự", "vi+f3")
    pcm = Pcm.from_wav(wav)
    assert pcm.format == LIBRARY_FORMAT
    assert pcm.duration_s == pytest.approx(7.26, abs=0.05)
    assert pcm.rms() > 500
    assert factory.requests == [("Mời công dân có số thứ tự", {"lang": "vi", "tld": "com", "slow": False})]
    kept = renderer.mp3_path("Mời công dân có số thứ tự", "vi+f3")
    assert kept.read_bytes() == mp3_bytes
    # Offline now: the kept MP3 still serves, without asking Google again.
    offline = GttsRenderer(tmp_path, factory=FakeGtts(b"", fail=True), probe=lambda: False)
    assert offline.render("Mời công dân có số thứ tự", "vi+f3") == wav
    assert not list(tmp_path.rglob("*.part"))


def test_gtts_failure_leaves_no_file_behind(tmp_path: Path, mp3_bytes: bytes) -> None:
    renderer = GttsRenderer(tmp_path, factory=FakeGtts(mp3_bytes, fail=True), probe=lambda: True)
    with pytest.raises(DeviceUnavailable, match="429"):
        renderer.render("đến quầy số", "vi")
    assert not renderer.mp3_path("đến quầy số", "vi").exists()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_gtts_empty_answer_is_a_protocol_error(tmp_path: Path) -> None:
    renderer = GttsRenderer(tmp_path, factory=FakeGtts(b""), probe=lambda: True)
    with pytest.raises(ProtocolError):
        renderer.render("đến quầy số", "vi")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_gtts_unreachable_falls_through_the_chain_and_probes_once_a_minute(
    tmp_path: Path,
) -> None:
    probes: list[bool] = []

    def probe() -> bool:
        probes.append(False)
        return False

    factory = FakeGtts(b"never used")
    gtts = GttsRenderer(tmp_path / "mp3", factory=factory, probe=probe, probe_ttl_s=60)
    chain = FallbackRenderer([gtts, ToneRenderer()])
    for text in ("một", "hai", "ba"):
        assert Pcm.from_wav(chain.render(text, "vi")).rms() > 1_000
    assert factory.requests == []
    assert len(probes) == 1


def test_gtts_cached_behind_the_clip_cache(tmp_path: Path, mp3_bytes: bytes) -> None:
    gtts = GttsRenderer(tmp_path / "mp3", factory=FakeGtts(mp3_bytes), probe=lambda: True)
    cached = CachedRenderer(gtts, ClipCache(tmp_path / "render"))
    wav = cached.render("năm", "vi")
    assert ClipCache(tmp_path / "render").get("năm", "vi", "gtts-com") == wav


def test_tcp_probe_on_loopback() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert tcp_reachable("127.0.0.1", port, timeout_s=1.0)
    assert not tcp_reachable("127.0.0.1", port, timeout_s=1.0)


def test_mp3_decoding_refuses_garbage(mp3_bytes: bytes) -> None:
    assert decode_mp3(mp3_bytes).format == LIBRARY_FORMAT
    with pytest.raises(DeviceError):
        decode_mp3(b"definitely not an mp3" * 10)


# ------------------------------------------------------------ espeak-ng, real


@pytest.mark.integration
def test_espeak_renders_real_vietnamese_wav() -> None:
    espeak = EspeakRenderer()
    assert espeak.available()
    clips = {text: Pcm.from_wav(espeak.render(text, "vi")) for text in ("hai mươi tư", "đến quầy số")}
    for text, pcm in clips.items():
        assert pcm.format == LIBRARY_FORMAT, text
        assert 0.3 < pcm.duration_s < 3.0, text
        assert pcm.rms() > 500, text
    assert clips["hai mươi tư"] != clips["đến quầy số"]
    assert to_library_format(clips["hai mươi tư"].to_wav()) == clips["hai mươi tư"]


@pytest.mark.integration
def test_espeak_speed_is_part_of_its_name_and_changes_the_audio() -> None:
    slow, fast = EspeakRenderer(speed_wpm=110), EspeakRenderer(speed_wpm=220)
    assert slow.name != fast.name
    slow_pcm = Pcm.from_wav(slow.render("Mời công dân có số thứ tự", "vi"))
    fast_pcm = Pcm.from_wav(fast.render("Mời công dân có số thứ tự", "vi"))
    assert slow_pcm.duration_s > 1.4 * fast_pcm.duration_s


def test_espeak_missing_is_unavailable() -> None:
    missing = EspeakRenderer(executable="no-such-espeak")
    assert not missing.available()
    with pytest.raises(DeviceUnavailable):
        missing.render("năm", "vi")
