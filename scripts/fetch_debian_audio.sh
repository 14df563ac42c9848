#!/usr/bin/env bash
# Download and unpack the Debian data packages that the training corpus is built from
# (listed in streamdl/data/sources.py; see shared/DATA.md). Nothing is installed.
# Usage: scripts/fetch_debian_audio.sh [DEST] [--extra] [--admitted]   (default data/debian), then: streamdl data build
# --extra also fetches the packages of EXTRA_SOURCES (2.4 GB more; for `streamdl data build --extra-sources`);
# --admitted those of ADMITTED_SOURCES (for `streamdl data build --admitted`).
set -euo pipefail
dest=${1:-data/debian}
extra=False
admitted=False
for flag in "${@:2}"; do
  case "$flag" in
    --extra) extra=True ;;
    --admitted) admitted=True ;;
    *) echo "unknown option $flag" >&2; exit 2 ;;
  esac
done
python=${PYTHON:-.venv/bin/python}
mkdir -p "$dest/.debs" && chmod 777 "$dest/.debs"
packages=$("$python" -c "from streamdl.data.sources import debian_packages; print(' '.join(debian_packages($extra, $admitted)))")
(cd "$dest/.debs" && apt-get download $packages)
for deb in "$dest"/.debs/*.deb; do
  name=$(basename "$deb" | cut -d_ -f1)
  [ -d "$dest/$name" ] || dpkg -x "$deb" "$dest/$name"
done
echo "unpacked into $dest: $packages"
