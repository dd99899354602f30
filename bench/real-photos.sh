#!/usr/bin/env bash
# Real photographs that a Debian package ships, for the smoothing benchmark and its tests: OpenCV's sample data
# (package opencv-doc, fetched with apt-get download, no root, unpacked into a cache; nothing is installed).
#   bench/real-photos.sh [DEST=~/.cache/rtmtl/photos]   -> prints DEST; DEST/leuvenA.jpg is a street in Leuven
set -euo pipefail
DEST="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/rtmtl/photos}"
FILES=(leuvenA.jpg leuvenB.jpg building.jpg home.jpg)
mkdir -p "$DEST"
if ! ls "${FILES[@]/#/$DEST/}" >/dev/null 2>&1; then
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download opencv-doc >/dev/null 2>&1) \
    || { echo "real-photos: 'apt-get download opencv-doc' failed: the photos come from Debian's opencv-doc package" >&2; exit 2; }
  dpkg-deb --fsys-tarfile "$work"/opencv-doc_*.deb | tar -x -C "$work" ${FILES[@]/#/./usr/share/doc/opencv-doc/examples/data/}
  for f in "${FILES[@]}"; do cp "$work/usr/share/doc/opencv-doc/examples/data/$f" "$DEST/$f"; done
fi
echo "$DEST"
