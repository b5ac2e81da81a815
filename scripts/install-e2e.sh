#!/usr/bin/env bash
# Installs what the end-to-end tests need, offline-friendly and idempotent:
# code-server 4.100.3 (VS Code 1.100.3) from npm into .cache/e2e/, plus Debian chromium,
# ripgrep and the Kerberos headers. See docs in ../shared/vscode-e2e.md (steps 1-8).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DIR="$ROOT/.cache/e2e"
VERSION=4.100.3
STAMP="$DIR/.installed-$VERSION"

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v rg >/dev/null || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "install-e2e: apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if [ -f "$STAMP" ] && [ -x "$DIR/node_modules/code-server/out/node/entry.js" -o -f "$DIR/node_modules/code-server/out/node/entry.js" ]; then
  echo "install-e2e: code-server $VERSION already installed in $DIR"
  exit 0
fi

mkdir -p "$DIR"
cd "$DIR"
[ -f package.json ] || echo '{"name":"layer-lens-e2e","private":true}' > package.json
export ONNXRUNTIME_NODE_INSTALL=skip npm_config_fund=false npm_config_audit=false
echo "install-e2e: npm install code-server@$VERSION"
npm install --no-save "code-server@$VERSION" --ignore-scripts
npm rebuild argon2

VS="$DIR/node_modules/code-server/lib/vscode"
cd "$VS"
npm install --omit=dev --ignore-scripts
npm_config_yes=true npm rebuild kerberos @parcel/watcher @vscode/spdlog native-watchdog node-pty @vscode/deviceid
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
ln -sfn code-linux.sh bin/remote-cli/code-server
ln -sfn browser-linux.sh bin/helpers/browser.sh
(cd extensions && npm install --omit=dev)

touch "$STAMP"
echo "install-e2e: done ($DIR)"
