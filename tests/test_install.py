"""deploy/install.sh into a temporary root, as a user without systemctl: the tree it makes, twice the same.

The virtualenv it makes gets this checkout with `pip install --no-deps`, its
dependencies seen through PYTHONPATH (this venv's site-packages): installing
them again from the package index would take half a minute and prove pip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT, SITES
from tests.services import env_without_proxies, free_port
from tests.test_deploy import _verify

INSTALL = ROOT / "deploy" / "install.sh"


def _install(root: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**env_without_proxies(), "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    return subprocess.run(["bash", str(INSTALL), "--root", str(root), "--python", sys.executable,
                           "--pip-args", "--no-deps", *extra],
                          capture_output=True, text=True, env=env, cwd=root, timeout=300)


def _tree(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every installed file (not the data dir) with its size, mode and modification time."""
    out = {}
    for path in root.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and "lib/motcua" not in path.as_posix():
            info = path.stat()
            out[str(path.relative_to(root))] = (info.st_size, info.st_mode, info.st_mtime_ns)
    return out


@pytest.mark.integration
@pytest.mark.slow
def test_install_into_a_root_then_again_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    first = _install(root, "--site", str(SITES / "commune-centre.toml"))
    # no accounts yet: installed, the refusal and what to do said, and the doctor ran
    assert first.returncode == 1, first.stderr[-3000:]
    assert "chưa có tài khoản nào" in first.stderr and "users add --data-dir" in first.stdout
    assert "== motcua doctor" in first.stdout and "[FAIL] config" in first.stdout
    etc, venv = root / "etc/motcua", root / "opt/motcua"
    assert (etc / "site.toml").read_text() == (SITES / "commune-centre.toml").read_text()
    assert oct((etc / "secrets.env").stat().st_mode & 0o777) == "0o600"
    units = root / "etc/systemd/system"
    assert sorted(p.name for p in units.iterdir()) == sorted(p.name for p in (ROOT / "deploy/systemd").iterdir())
    service = (units / "motcua.service").read_text()
    assert f"ExecStart={venv}/bin/motcua serve --config {etc}/motcua.toml" in service
    assert f"ReadWritePaths={root}/var/lib/motcua" in service
    assert f'data_dir = "{root}/var/lib/motcua"' in (etc / "motcua.toml").read_text()

    # the technician's own settings (a free port: nothing else here is read) and an account
    config = etc / "motcua.toml"
    config.write_text(config.read_text().replace("port = 8000", f"port = {free_port()}")
                      .replace('mqtt = "embedded"', 'mqtt = "none"').replace('devices = "real"', 'devices = "none"'))
    added = subprocess.run([str(venv / "bin/motcua"), "users", "add", "--data-dir", str(root / "var/lib/motcua"),
                            "--user", "quanly", "--role", "manager", "--secret", "mật-khẩu-dài-1"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": sysconfig.get_paths()[
                               "purelib"]}, timeout=60)
    assert added.returncode == 0, added.stderr
    before = _tree(root)
    again = _install(root)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "OK:" in again.stdout and "cấu hình hợp lệ" in again.stdout
    assert _tree(root) == before  # nothing rewritten: not the edited config, not the venv, not a unit
    assert "wrote" not in again.stdout and "installed motcua" not in again.stdout

    if shutil.which("systemd-analyze") is not None:
        instance = tmp_path / "units"
        instance.mkdir()
        names = []
        for unit in units.iterdir():
            names.append(unit.name.replace("@.", "@bus1."))
            shutil.copy(unit, instance / names[-1])
        verified = _verify(instance, names)
        assert verified.returncode == 0 and verified.stderr == "", verified.stderr


def test_install_says_what_it_does_not_understand(tmp_path: Path) -> None:
    refused = subprocess.run(["bash", str(INSTALL), "--root", str(tmp_path), "--frobnicate"],
                             capture_output=True, text=True, timeout=30)
    assert refused.returncode == 2 and "không hiểu tham số --frobnicate" in refused.stderr
    assert not (tmp_path / "etc").exists()  # refused before anything was made
    missing = subprocess.run(["bash", str(INSTALL), "--root", str(tmp_path), "--site", str(tmp_path / "none.toml")],
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2 and "no such site file" in missing.stderr
