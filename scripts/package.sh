#!/usr/bin/env bash
# Builds the linux-x64 VSIX: production bundles, then `vsce package --target linux-x64`.
# .vscodeignore is an allow-list, so only the linux/x64 onnxruntime binaries ship (the npm
# tarball holds six platforms, 291 MB); nothing in node_modules is deleted. The tokenizer,
# jsonc-parser, yaml and the webview elements are bundled by esbuild, so only onnxruntime-node
# (a native addon) and onnxruntime-common ship as node_modules. Other targets: docs/packaging.md.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${1:-linux-x64}"
LIMIT_MB=40

case "$TARGET" in
  linux-x64) ;;
  *) echo "package.sh: only linux-x64 is wired up here; see docs/packaging.md for $TARGET" >&2; exit 2 ;;
esac

[ -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node ] || {
  echo "package.sh: onnxruntime-node's linux/x64 binary is missing; run npm ci (ONNXRUNTIME_NODE_INSTALL=skip)" >&2; exit 1; }
for f in config.json model.safetensors; do
  [ -f "models/reference-bert-mini/$f" ] || echo "package.sh: warning: models/reference-bert-mini/$f is missing; the sample model will not work" >&2
done

rm -rf dist
node esbuild.mjs --production
rm -f dist/*.map

VERSION="$(node -p "require('./package.json').version")"
OUT="layer-lens-$TARGET-$VERSION.vsix"
rm -f "$OUT"
# vsce collects the production dependencies; the allow-list then decides which of their files ship.
npx vsce package --target "$TARGET" --allow-missing-repository --skip-license --out "$OUT"

npx vsce ls --allow-missing-repository --skip-license 2>/dev/null | sed 's/^/  /' | head -40 || true
BYTES=$(stat -c %s "$OUT")
MB=$(awk "BEGIN { printf \"%.1f\", $BYTES / 1048576 }")
echo "package.sh: $OUT is $MB MB (limit $LIMIT_MB MB)"
if [ "$BYTES" -gt $((LIMIT_MB * 1048576)) ]; then
  echo "package.sh: the VSIX is over $LIMIT_MB MB" >&2
  exit 1
fi
