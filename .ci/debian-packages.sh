#!/usr/bin/env bash
# The Debian packages `make run` needs beyond Python: checked before pip spends minutes.
# As root (as in .ci/run) the missing ones are installed; otherwise the one apt-get line to
# run is printed and the exit status is 1.  Usage: .ci/debian-packages.sh
set -euo pipefail

# python3-venv: `python3 -m venv`; Pango for WeasyPrint's PDFs; HarfBuzz subsetting, without
# which fontTools stamps the run's time into PDF fonts (flows/pdf.py); a font to typeset with.
packages=(python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)

command -v dpkg-query >/dev/null 2>&1 || exit 0  # not Debian: the README lists what to install

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
  echo "installing the Debian packages make run needs: ${missing[*]}" >&2
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "make run needs these Debian packages first; install them, then run make run again:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
