#!/bin/sh
# Refetch the map's browser assets from the npm registry (versions pinned in VERSIONS.md) and copy
# the distribution files with their licences here. Run from anywhere: sh webapp/static/vendor/update.sh
set -eu

LEAFLET=1.9.4
D3=3.5.17   # branca's colour legend uses the d3 v3 API

DEST=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fetch() {  # fetch NAME VERSION -> unpacked package in $WORK/NAME
    mkdir -p "$WORK/$1"
    (cd "$WORK" && npm pack "$1@$2" --silent >/dev/null)
    tar xzf "$WORK/$1-$2.tgz" -C "$WORK/$1" --strip-components=1
}

fetch leaflet "$LEAFLET"
fetch d3 "$D3"

rm -rf "$DEST/leaflet" "$DEST/d3"
mkdir -p "$DEST/leaflet/images" "$DEST/d3"

cp "$WORK/leaflet/dist/leaflet.js" "$WORK/leaflet/dist/leaflet.css" "$WORK/leaflet/LICENSE" "$DEST/leaflet/"
cp "$WORK/leaflet/dist/images/"*.png "$DEST/leaflet/images/"
cp "$WORK/d3/d3.min.js" "$WORK/d3/LICENSE" "$DEST/d3/"

# Source maps are not shipped: drop the references so browsers do not ask for missing files.
for f in "$DEST/leaflet/leaflet.js"; do
    sed -i '/^\/\/# sourceMappingURL=/d' "$f"
done
echo "vendor assets updated in $DEST"
