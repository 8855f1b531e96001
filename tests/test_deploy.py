"""deploy/: the systemd units pass systemd-analyze, the compose set-up is whole and its settings are accepted."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from controller.app import settings_from_args
from controller.cli import build_parser
from controller.config_file import with_config
from controller.ops.doctor import check_redis
from tests.conftest import ROOT
from tests.services import free_port, wait_for_port

DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
MOTCUA = Path(sys.executable).parent / "motcua"


def _verify(folder: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", "verify", "--man=no", *[f"./{n}" for n in names]], cwd=folder,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze: make system-deps installs it")
def test_units_verify_clean(tmp_path: Path) -> None:
    names = []
    for unit in UNITS:
        # the units name /opt/motcua/bin/motcua, where the install puts it; here, this venv's
        name = unit.name.replace("@.", "@bus1.")
        (tmp_path / name).write_text(unit.read_text().replace("/opt/motcua/bin/motcua", str(MOTCUA)))
        names.append(name)
    result = _verify(tmp_path, names)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    broken = tmp_path / "motcua.service"
    broken.write_text(broken.read_text().replace("Restart=always", "Restart=always\nRestartEvery=2"))
    assert "Unknown key 'RestartEvery'" in _verify(tmp_path, ["motcua.service"]).stderr  # verify does look


@pytest.mark.parametrize("unit", [u for u in UNITS if u.suffix == ".service"], ids=lambda u: u.name)
def test_services_are_hardened_and_log_to_the_journal(unit: Path) -> None:
    text = unit.read_text()
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                 "StandardOutput=journal", "StandardError=journal"):
        assert line in text.splitlines(), f"{unit.name}: {line}"
    user = next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("User="))
    assert user.startswith("motcua")
    if "Type=oneshot" not in text:
        assert "Restart=always" in text.splitlines()


def test_compose_names_the_scale_out_services_and_their_settings_are_accepted(tmp_path: Path) -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "mosquitto", "controller-a", "controller-b", "follower"}
    assert "--follow-only" in services["follower"]["command"]
    assert all(services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
               for name in ("controller-a", "controller-b", "follower"))
    (tmp_path / "motcua.toml").write_text((DEPLOY / "compose" / "controller.toml").read_text())
    (tmp_path / "sites").symlink_to(ROOT / "controller" / "sites")
    config = str(tmp_path / "motcua.toml")
    for name in ("controller-a", "follower"):
        argv = services[name]["command"]
        argv = [str(a).replace("/etc/motcua/motcua.toml", config) for a in argv]
        settings = settings_from_args(with_config(build_parser(), argv, config))
        assert settings.partitioned and settings.advertised_url == f"http://{name}:8000"
        assert settings.follow_only == (name == "follower")


def test_compose_mounts_and_builds_only_what_the_project_ships_or_its_steps_make() -> None:
    folder = DEPLOY / "compose"
    text = (folder / "compose.yaml").read_text()
    steps = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    for name, service in yaml.safe_load(text)["services"].items():
        build = service.get("build")
        if build is not None:
            context = (folder / build["context"]).resolve()
            assert context == ROOT and (context / build["dockerfile"]).is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith("."):
                continue  # a named volume
            if (folder / source).exists():
                continue
            # not shipped: the set-up steps at the top of the file make it
            made = source.removeprefix("./")
            assert f"--out {made}" in steps or f"--data-dir {made}" in steps, f"{name}: {source}: not shipped, not made"


def test_the_image_copies_every_package_and_runs_the_parsers_command() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    pyproject = (ROOT / "pyproject.toml").read_text()
    packages = pyproject.split('packages = [', 1)[1].split("]", 1)[0]
    assert {p.strip().strip('"') for p in packages.split(",")} <= copied
    assert all((ROOT / path).exists() for path in copied if path != "pyproject.toml")
    cmd = dockerfile.split('CMD ["', 1)[1].split('"]', 1)[0].split('", "')
    assert build_parser().parse_args(cmd).config == "/etc/motcua/motcua.toml"


@pytest.mark.integration
def test_the_shipped_redis_conf_passes_the_doctors_check(tmp_path: Path) -> None:
    port = free_port()
    conf = (DEPLOY / "compose" / "redis.conf").read_text().replace("bind 0.0.0.0", "bind 127.0.0.1")
    conf = conf.replace("dir /data", f"dir {tmp_path}") + f"port {port}\n"
    (tmp_path / "redis.conf").write_text(conf)
    server = subprocess.Popen(["redis-server", str(tmp_path / "redis.conf")], stdout=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        assert check_redis(f"redis://127.0.0.1:{port}/0").status == "OK"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.integration
def test_mqtt_config_output_runs_mosquitto_refusing_anonymous_clients(tmp_path: Path) -> None:
    from controller.ops.doctor import check_broker
    from controller.settings import Settings

    port = free_port()
    out = tmp_path / "mqtt"
    made = subprocess.run([str(MOTCUA), "mqtt-config", "--site", str(ROOT / "controller/sites/commune-centre.toml"),
                           "--out", str(out), "--listen", f"127.0.0.1:{port}"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    with (out / "mosquitto.conf").open("a") as conf:
        conf.write("user root\n")  # tests run as root: mosquitto would drop to a user that cannot read tmp_path
    broker = subprocess.Popen(["mosquitto", "-c", str(out / "mosquitto.conf")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        settings = Settings(site_file=Path("x"), data_dir=tmp_path, mqtt=f"mqtt://127.0.0.1:{port}", devices="real")
        assert [c.status for c in check_broker(settings)] == ["OK", "OK"]
    finally:
        broker.terminate()
        broker.wait(timeout=10)
