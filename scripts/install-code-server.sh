#!/usr/bin/env bash
# Installs what the integration tests need where no VS Code executable is given
# (VSCODE_EXECUTABLE): code-server 4.100.3 (VS Code 1.100.3's server build) from the npm
# registry, and Debian's chromium and ripgrep. Idempotent; about a minute the first time.
#
# code-server's own install script cannot run without internet (ripgrep's postinstall downloads
# from GitHub, kerberos needs Kerberos headers and a download), so this does its steps by hand:
# install without scripts, build the native modules it needs from source, link Debian's rg in
# place of the downloaded one, and make the links its postinstall.sh makes.
set -euo pipefail
VERSION=4.100.3
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/.vscode-test/code-server-$VERSION"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-code-server: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "install-code-server: missing ${missing[*]}; install them (Debian: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

[ -f "$DEST/.complete" ] && exit 0
echo "install-code-server: code-server $VERSION into $DEST"
rm -rf "$DEST"
mkdir -p "$DEST"
cd "$DEST"
echo '{ "private": true }' > package.json
npm install --no-save --no-audit --no-fund --ignore-scripts "code-server@$VERSION" >/dev/null
npm_config_yes=true npm rebuild argon2 >/dev/null

cd node_modules/code-server/lib/vscode
npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null
npm_config_yes=true npm rebuild @vscode/spdlog @vscode/deviceid native-watchdog node-pty >/dev/null
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)

touch "$DEST/.complete"
echo "install-code-server: done"
