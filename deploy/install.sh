#!/usr/bin/env bash
# Install motcua on a centre's Debian machine from this checkout (README, "Install in a centre").
#
#   sudo deploy/install.sh --site YOUR-CENTRE.toml     # the first time
#   sudo deploy/install.sh                             # again after adding accounts, or to upgrade
#
# It makes the users motcua and motcua-hall, /etc/motcua, /var/lib/motcua and /var/backups/motcua,
# a virtualenv in /opt/motcua with this checkout installed in it, the systemd units (controller,
# firmware bridge per serial bus, hall display, nightly backup), and starter files in /etc/motcua
# that it never overwrites; then it runs `motcua config check` and `motcua doctor`. When the check
# passes it enables and starts motcua.service and the backup timer (a new release restarts it).
# Running it twice changes nothing: each file is written only when its content differs, and the
# virtualenv is reinstalled only when this checkout's files differ from what it was built from.
#
# Options:
#   --site FILE      the centre's site file, copied to /etc/motcua/site.toml (if that is absent)
#   --root DIR       install into DIR instead of / (a trial or a test, as any user): the installed
#                    files then name their paths under DIR, and no user, owner or systemctl is touched
#   --prefix DIR     where the virtualenv goes (default /opt/motcua)
#   --python PY      the interpreter the virtualenv is made from (default python3, 3.11 or newer)
#   --pip-args ARGS  more pip arguments, e.g. "--no-index --find-links /media/usb/wheels" offline
#   --no-start       install and check, but enable and start nothing
#
# Exit status: 0 installed and `motcua config check` passes; 1 installed, but the configuration is
# refused (the reason and what to do are printed; run it again once fixed); 2 not installed.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=/
PREFIX=/opt/motcua
PYTHON=python3
PIP_ARGS=""
SITE_FILE=""
START=1

die() { echo "install.sh: $1" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root DIR}; shift 2 ;;
    --prefix) PREFIX=${2:?--prefix DIR}; shift 2 ;;
    --python) PYTHON=${2:?--python PY}; shift 2 ;;
    --pip-args) PIP_ARGS=${2?--pip-args ARGS}; shift 2 ;;
    --site) SITE_FILE=${2:?--site FILE}; shift 2 ;;
    --no-start) START=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "không hiểu tham số $1 / unknown argument $1 (--help)" ;;
  esac
done

ROOT=$(mkdir -p "$ROOT" && cd "$ROOT" && pwd)
[ "$ROOT" = / ] && BASE="" || BASE=$ROOT
REAL=0  # a real install: users, owners and systemctl
if [ -z "$BASE" ]; then
  [ "$(id -u)" = 0 ] || die "chạy bằng root (sudo), hoặc cho --root THƯ-MỤC để thử / run as root, or give --root DIR for a trial"
  REAL=1
fi
[ -z "$SITE_FILE" ] || [ -f "$SITE_FILE" ] || die "không có tệp địa điểm $SITE_FILE / no such site file $SITE_FILE"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || die "cần Python 3.11 trở lên ($PYTHON) / needs Python 3.11 or newer ($PYTHON): apt-get install python3 python3-venv"

VENV=$BASE$PREFIX
ETC=$BASE/etc/motcua
DATA=$BASE/var/lib/motcua
BACKUPS=$BASE/var/backups/motcua
UNITS=$BASE/etc/systemd/system
MOTCUA=$VENV/bin/motcua
CHANGED_UNITS=0

say() { echo "install.sh: $1"; }

# put SOURCE's content at TARGET with MODE, only when it differs (so a second run touches nothing)
place() {  # place SOURCE TARGET MODE
  if [ -f "$2" ] && cmp -s "$1" "$2"; then return 1; fi
  install -D -m "$3" "$1" "$2"
  say "écrit / wrote $2"
}

# a starter file, written only when absent: the technician's edits are never overwritten
starter() {  # starter TARGET MODE (content on stdin)
  if [ -e "$1" ]; then cat >/dev/null; return; fi
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  install -D -m "$2" "$tmp" "$1"
  rm -f "$tmp"
  say "tệp mẫu / starter file $1"
}

# the installed files name the paths of this root and prefix
rooted() { sed -e "s#/opt/motcua#$VENV#g" -e "s#/etc/motcua#$ETC#g" -e "s#/var/lib/motcua#$DATA#g" \
               -e "s#/var/backups/motcua#$BACKUPS#g" "$1"; }

# --- users and folders
if [ "$REAL" = 1 ]; then
  if ! id motcua >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/motcua --shell /usr/sbin/nologin motcua
    say "người dùng / user motcua"
  fi
  if ! id motcua-hall >/dev/null 2>&1; then
    groups=$(for g in video render input audio; do getent group "$g" >/dev/null && printf '%s,' "$g"; done)
    useradd --system --no-create-home --shell /usr/sbin/nologin ${groups:+-G "${groups%,}"} motcua-hall
    say "người dùng / user motcua-hall"
  fi
  getent group dialout >/dev/null && ! id -nG motcua | grep -qw dialout && usermod -a -G dialout motcua
fi
for dir in "$ETC" "$DATA" "$BACKUPS" "$UNITS"; do
  [ -d "$dir" ] || { mkdir -p "$dir"; say "thư mục / folder $dir"; }
done
if [ "$REAL" = 1 ]; then
  chown motcua:motcua "$DATA" "$BACKUPS"
  chmod 0750 "$DATA" "$BACKUPS"
fi

# --- the virtualenv, rebuilt only when this checkout's files changed
stamp=$(cd "$SRC" && find pyproject.toml controller counter_display devices firmware_bridge kiosk sim -type f \
          ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  say "virtualenv $VENV"
fi
if [ "$(cat "$VENV/.motcua-source" 2>/dev/null)" != "$stamp" ]; then
  # shellcheck disable=SC2086  # PIP_ARGS is a list of arguments
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $PIP_ARGS "$SRC" \
    || die "pip install thất bại / pip install failed (offline: --pip-args \"--no-index --find-links DIR\")"
  echo "$stamp" >"$VENV/.motcua-source"
  say "đã cài motcua vào / installed motcua into $VENV"
  UPGRADED=1
else
  UPGRADED=0
fi
place "$SRC/README.md" "$VENV/README.md" 0644 || true

# --- systemd units
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for unit in "$SRC"/deploy/systemd/*; do
  rooted "$unit" >"$tmp"
  if place "$tmp" "$UNITS/$(basename "$unit")" 0644; then CHANGED_UNITS=1; fi
done

# --- starter configuration (never overwritten)
rooted "$SRC/deploy/motcua.toml" | starter "$ETC/motcua.toml" 0644
if [ -n "$SITE_FILE" ]; then starter "$ETC/site.toml" 0644 <"$SITE_FILE"; fi
starter "$ETC/secrets.env" 0600 <<'EOF'
# Secrets of motcua.service (mode 0600, read by systemd): MOTCUA_SMS_TOKEN=..., MOTCUA_MQTT_PASSWORD=...
EOF
starter "$ETC/hall.env" 0644 <<'EOF'
# motcua-hall.service: the controller and the site the hall display shows
MOTCUA_URL=http://127.0.0.1:8000
MOTCUA_SITE=
EOF
starter "$ETC/bridge-bus1.env.example" 0644 <<'EOF'
# Copy to bridge-BUS.env (mode 0600) for each serial bus of the site file, then
# systemctl enable --now motcua-bridge@BUS. The login is in /var/lib/motcua/mqtt/secrets.toml.
MOTCUA_SERIAL=/dev/ttyUSB0
MOTCUA_BAUD=9600
MOTCUA_MQTT=mqtt://127.0.0.1:1883
MOTCUA_MQTT_USERNAME=
MOTCUA_MQTT_PASSWORD=
EOF

# --- checks, then the services
run_as_motcua() { if [ "$REAL" = 1 ]; then runuser -u motcua -- "$@"; else "$@"; fi; }
USE_SYSTEMCTL=0
if [ "$REAL" = 1 ] && [ "$START" = 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  USE_SYSTEMCTL=1
fi
[ "$USE_SYSTEMCTL" = 1 ] && [ "$CHANGED_UNITS" = 1 ] && systemctl daemon-reload

status=0
echo "== motcua config check --config $ETC/motcua.toml"
if run_as_motcua "$MOTCUA" config check --config "$ETC/motcua.toml"; then
  if [ "$USE_SYSTEMCTL" = 1 ]; then
    systemctl enable --quiet --now motcua.service motcua-backup.timer
    if [ "$UPGRADED" = 1 ] || [ "$CHANGED_UNITS" = 1 ]; then systemctl restart motcua.service; fi
    # the controller answers within seconds; doctor reads it
    for _ in $(seq 30); do "$VENV/bin/python" - "$ETC/motcua.toml" <<'PY' && break || sleep 1
import sys, tomllib, urllib.request
c = tomllib.load(open(sys.argv[1], "rb"))
host = c.get("host", "127.0.0.1"); host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
urllib.request.urlopen(f"http://{host}:{c.get('port', 8000)}/healthz", timeout=2)
PY
    done
  else
    say "systemctl: bỏ qua / skipped (--root, --no-start or no systemd)"
  fi
else
  status=1
  cat <<EOF
install.sh: cấu hình chưa dùng được (lý do ở trên). Sửa rồi chạy lại install.sh:
  - tệp địa điểm: $ETC/site.toml (--site FILE, hoặc chép vào đó)
  - tài khoản: sudo -u motcua $MOTCUA users add --data-dir $DATA --user quanly --role manager
install.sh: the configuration is not usable yet (the reason is above). Fix it and run install.sh again:
  - the site file: $ETC/site.toml (--site FILE, or copy it there)
  - accounts: sudo -u motcua $MOTCUA users add --data-dir $DATA --user quanly --role manager
EOF
fi
echo "== motcua doctor --config $ETC/motcua.toml"
run_as_motcua "$MOTCUA" doctor --config "$ETC/motcua.toml" || true
exit "$status"
