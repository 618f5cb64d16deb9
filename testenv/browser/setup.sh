#!/usr/bin/env bash
# setup.sh -- what the web console's browser tests need, with no browser download:
#   Debian's chromium, and node and npm (apt-get, those that are missing; needs root)
#   playwright-core at the version pinned in package.json/package-lock.json (npm ci),
#   installed outside the clone into $CACHE_DIR/<version> and reused while the version matches.
# Prints the variables the tests read, for eval:
#   eval "$(testenv/browser/setup.sh)"   # exports VIGIL_CHROMIUM and VIGIL_PLAYWRIGHT
# Progress goes to stderr. Env: CACHE_DIR (default ~/.cache/vigil/browser), CHROMIUM.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="$(realpath -m "${CACHE_DIR:-$HOME/.cache/vigil/browser}")"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
log() { echo "[browser] $*" >&2; }

# Debian's packages for what is missing: the browser, and node and npm to drive it.
want_pkgs=()
[[ -x "$CHROMIUM" ]] || want_pkgs+=(chromium)
command -v node >/dev/null || want_pkgs+=(nodejs)
command -v npm >/dev/null || want_pkgs+=(npm)
if ((${#want_pkgs[@]})); then
  if [[ "$(id -u)" != 0 ]]; then
    log "missing ${want_pkgs[*]}: install Debian's (sudo apt-get install -y --no-install-recommends ${want_pkgs[*]})"
    exit 1
  fi
  log "installing Debian's ${want_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${want_pkgs[@]}" >&2
fi

version="$(node -e 'console.log(require(process.argv[1]).dependencies["playwright-core"])' "$HERE/package.json")"
dest="$CACHE_DIR/$version"
# The stamp holds the lock file's hash: a changed lock reinstalls even at the same version.
want="$(sha256sum "$HERE/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$dest/.stamp" 2>/dev/null)" != "$want" ]]; then
  log "installing playwright-core $version into $dest"
  rm -rf "$dest"; mkdir -p "$dest"
  cp "$HERE/package.json" "$HERE/package-lock.json" "$dest/"
  # --ignore-scripts: nothing may download a browser.
  (cd "$dest" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund >&2)
  echo "$want" > "$dest/.stamp"
else
  log "playwright-core $version: up to date in $dest"
fi
echo "export VIGIL_CHROMIUM=$CHROMIUM VIGIL_PLAYWRIGHT=$dest/node_modules"
