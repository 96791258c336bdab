#!/bin/sh
# Install the Debian packages Planner builds, runs and tests with, if any are missing.
# Idempotent and quiet when everything is present; needs root (or sudo) only to install.
# `install-deps.sh bench` also installs what `make bench` needs (nginx for the ceiling,
# gnuplot for the plots).
set -eu

PKGS="gcc make pkg-config tzdata
libmicrohttpd-dev libjansson-dev libical-dev libsqlite3-dev libpq-dev libsodium-dev
libcurl4-openssl-dev libsystemd-dev libcriterion-dev
python3-pytest python3-requests python3-icalendar python3-recurring-ical-events"
if [ "${1:-}" = bench ]; then
    PKGS="$PKGS nginx-light gnuplot-nox"
fi

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >&2
