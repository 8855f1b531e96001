"""`motcua serve --config FILE` and `motcua config check`: one file, flags win, refusals name file, key and reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from controller.cli import build_parser, main
from controller.config_file import ConfigError, config_keys, serve_parser, with_config
from tests.conftest import ROOT, SITES
from tests.server import wait_healthy
from tests.services import env_without_proxies, free_port

EXAMPLE = ROOT / "deploy" / "motcua.toml"


def _centre_config(folder: Path, *extra: str) -> Path:
    """The shipped example, pointed at a copy of the commune site and a data dir in `folder`."""
    (folder / "site.toml").write_text((SITES / "commune-centre.toml").read_text())
    text = EXAMPLE.read_text().replace('"/var/lib/motcua"', '"data"')
    path = folder / "motcua.toml"
    path.write_text(text + "".join(f"{line}\n" for line in extra))
    return path


def _refusal(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["config", "check", "--config", str(config)]) == 2
    return capsys.readouterr().err


def test_every_serve_flag_is_a_key_but_help_and_config() -> None:
    keys = config_keys(serve_parser(build_parser()))
    assert {"site", "data_dir", "port", "store", "mqtt", "devices", "demo", "sms", "mqtt_ca", "log_level",
            "follow_only", "max_connections_per_client"} <= set(keys)
    assert "config" not in keys and "help" not in keys and "test_clock" not in keys
    assert keys["port"].kind is int and keys["demo"].kind is bool and keys["devices"].choices == ("sim", "real", "none")


def test_flags_given_win_over_the_file_and_relative_paths_follow_the_file(tmp_path: Path) -> None:
    config = _centre_config(tmp_path)
    parser = build_parser()
    from_file = with_config(parser, ["serve", "--config", str(config)], str(config))
    assert from_file.port == 8000 and from_file.devices == "real"
    assert from_file.site == str(tmp_path / "site.toml") and from_file.data_dir == str(tmp_path / "data")
    given = with_config(build_parser(), ["serve", "--config", str(config), "--port", "9001", "--devices", "sim"],
                        str(config))
    assert given.port == 9001 and given.devices == "sim" and given.store == "sqlite"


def test_the_shipped_example_checks_once_accounts_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _centre_config(tmp_path)
    err = _refusal(config, capsys)
    assert f"tệp cấu hình {config}: khóa data_dir: chưa có tài khoản nào" in err
    assert "no accounts in" in err
    assert main(["users", "--data-dir", str(tmp_path / "data"), "add", "--user", "quanly", "--role", "manager",
                 "--secret", "a long enough secret"]) == 0
    capsys.readouterr()
    assert main(["config", "check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {config}: cấu hình hợp lệ / configuration valid")
    assert "tài khoản / accounts: 1" in out and "(1 địa điểm / sites: xa)" in out


@pytest.mark.parametrize(
    ("line", "key", "vi", "en"),
    [
        ("prot = 8001", "prot", "không có khóa này; có phải ý là port?", "unknown key; did you mean port?"),
        ('port = "8000"', "port", "phải là một số nguyên, không phải '8000'", "must be an integer"),
        ("demo = 1", "demo", "phải là true hoặc false", "must be true or false"),
        ('devices = "all"', "devices", "phải là một trong sim, real, none", "must be one of sim, real, none"),
        ('mqtt_password = "s3cret"', "mqtt_password", "bí mật không để trong tệp: đặt biến môi trường "
         "MOTCUA_MQTT_PASSWORD", "secrets stay out of the file: set the environment variable MOTCUA_MQTT_PASSWORD"),
        ('zns_token = "s3cret"', "zns_token", "bí mật không để trong tệp: đặt biến môi trường MOTCUA_ZNS_TOKEN",
         "secrets stay out of the file: set the environment variable MOTCUA_ZNS_TOKEN"),
    ],
)
def test_a_bad_key_is_refused_with_file_key_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, key: str, vi: str, en: str
) -> None:
    config = _centre_config(tmp_path)
    name = line.split(" ")[0]
    kept = [ln for ln in config.read_text().splitlines() if not ln.startswith(f"{name} ")]  # TOML forbids repeats
    config.write_text("\n".join([*kept, line]) + "\n")
    err = _refusal(config, capsys)
    assert f"tệp cấu hình {config}: khóa {key}: {vi}" in err
    assert f"configuration file {config}: key {key}: {en}" in err
    assert err.index(vi) < err.index(en)  # Vietnamese first


def test_unreadable_files_and_refused_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _refusal(tmp_path / "none.toml", capsys)
    assert "không có tệp này / configuration file" in err and "file not found" in err
    broken = tmp_path / "broken.toml"
    broken.write_text("port = [\n")
    assert "không phải TOML hợp lệ" in _refusal(broken, capsys)
    config = _centre_config(tmp_path)
    config.write_text(config.read_text().replace('mqtt = "embedded"', 'mqtt = "none"'))
    err = _refusal(config, capsys)
    assert f"tệp cấu hình {config}: khóa devices: --devices real cần một broker" in err
    assert f"configuration file {config}: key devices: --devices real needs a broker" in err
    (tmp_path / "site.toml").write_text("[site]\nid = 'x'\n")
    config.write_text(config.read_text().replace('mqtt = "none"', 'mqtt = "embedded"'))
    assert "tệp địa điểm sai / bad site file" in _refusal(config, capsys)


@pytest.mark.parametrize(("line", "key", "vi", "en"), [
    ("port = 70000", "port", "--port phải từ 0 đến 65535, không phải 70000", "--port must be 0..65535, got 70000"),
    ("kiosk_rate = 0", "kiosk_rate", "--kiosk-rate phải > 0 vé mỗi phút", "--kiosk-rate must be > 0 tickets"),
    ('store = "postgres://x"', "store", "--store phải là sqlite hoặc redis://", "--store must be sqlite or redis://"),
    ('sms = "carrier-pigeon"', "sms", "--sms phải là none, log, webhook:", "--sms must be none, log, webhook:"),
    ('sms_fallback = "zns"', "sms_fallback", "--sms-fallback phải là none, log, webhook:",
     "--sms-fallback must be none, log, webhook:"),
    ('mqtt_ca = "ca.pem"', "mqtt_ca", "--mqtt-ca chỉ dùng với TLS", "--mqtt-ca is for TLS"),
    ('public_url = "ftp://x"', "public_url", "--public-url phải là http(s)://", "--public-url must be http(s)://"),
])
def test_a_refused_setting_names_file_and_key_vietnamese_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, key: str, vi: str, en: str
) -> None:
    config = _centre_config(tmp_path)
    name = line.split(" ")[0]
    kept = [ln for ln in config.read_text().splitlines() if not ln.startswith(f"{name} ")]
    config.write_text("\n".join([*kept, line]) + "\n")
    err = _refusal(config, capsys)
    assert f"tệp cấu hình {config}: khóa {key}: {vi}" in err
    assert f"configuration file {config}: key {key}: {en}" in err
    assert err.index(vi) < err.index(en)
    assert main(["serve", "--config", str(config)]) == 2  # serve refuses it in the same words
    assert f"khóa {key}: {vi}" in capsys.readouterr().err


def test_with_config_refuses_without_parsing_twice(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("no_such_flag = true\n")
    with pytest.raises(ConfigError) as caught:
        with_config(build_parser(), ["serve", "--config", str(config)], str(config))
    assert caught.value.key == "no_such_flag" and caught.value.source == str(config)


@pytest.mark.integration
def test_serve_runs_from_the_file_with_a_flag_overriding_it(tmp_path: Path) -> None:
    config = _centre_config(tmp_path, "demo = true")
    config.write_text(config.read_text().replace('mqtt = "embedded"', 'mqtt = "none"')
                      .replace('devices = "real"', 'devices = "none"')
                      .replace('host = "0.0.0.0"', 'host = "127.0.0.1"'))
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "controller.cli", "serve", "--config", str(config),
                                    "--port", str(port), "--log-level", "warning"],
                                   stdout=out, stderr=subprocess.STDOUT, env=env_without_proxies())
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process, log)
        assert httpx.get(f"{url}/healthz").json()["store"] == "sqlite"
        response = httpx.post(f"{url}/api/v1/sites/xa/tickets", headers={"X-Kiosk-Key": "kiosk-demo"},
                              json={"procedure": "ht-khai-sinh"})
        assert response.status_code == 201, response.text
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert (tmp_path / "data" / "events.db").exists()  # the file's data_dir, taken from the file's folder


def test_serve_without_a_site_anywhere_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--data-dir", "nowhere"]) == 2
    assert "thiếu tệp địa điểm" in capsys.readouterr().err
