#!/usr/bin/env bash
# Refetch the UI's front-end files from the npm registry at pinned versions into maestro/ui/static/vendor/.
# They are committed (no CDN at run time, no build step at install); change a version here, run this, commit.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=maestro/ui/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# package@version  file inside the package  name in vendor/
files=(
  "htmx.org@2.0.11 dist/htmx.min.js htmx.min.js"
  "htmx-ext-sse@2.2.4 dist/sse.min.js htmx-sse.min.js"
  "cytoscape@3.35.0 dist/cytoscape.min.js cytoscape.min.js"
)
mkdir -p "$dest"
for line in "${files[@]}"; do
  read -r spec path name <<<"$line"
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  tarball=$(ls "$work"/*.tgz)
  tar -xzf "$tarball" -C "$work" "package/$path"
  cp "$work/package/$path" "$dest/$name"
  rm -rf "$tarball" "$work/package"
  echo "$spec -> $dest/$name"
done
