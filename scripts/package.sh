#!/usr/bin/env bash
# Builds one per-platform VSIX: production bundles, then `vsce package --target TARGET`.
#   scripts/package.sh [linux-x64|linux-arm64|darwin-arm64|win32-x64|win32-arm64] [--out FILE]
# .vscodeignore is an allow-list for everything but the native binaries; this script appends the
# one target's onnxruntime files (see binaries_for) into a temporary ignore file, so each VSIX
# carries only its own platform. Nothing in node_modules is deleted. Other notes: docs/packaging.md.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${1:-linux-x64}"
OUT=""
[ "${2:-}" = "--out" ] && OUT="${3:-}"
LIMIT_MB=40
BIN=node_modules/onnxruntime-node/bin/napi-v6

# The files each platform's binding loads. darwin-arm64's folder holds two identical 45 MB dylibs;
# the binding links only libonnxruntime.1.dylib. win32 needs DirectML and its shader compilers.
binaries_for() {
  case "$1" in
    linux-x64) echo "linux/x64/onnxruntime_binding.node linux/x64/libonnxruntime.so.1" ;;
    linux-arm64) echo "linux/arm64/onnxruntime_binding.node linux/arm64/libonnxruntime.so.1" ;;
    darwin-arm64) echo "darwin/arm64/onnxruntime_binding.node darwin/arm64/libonnxruntime.1.dylib" ;;
    win32-x64 | win32-arm64)
      local d="win32/${1#win32-}"
      echo "$d/onnxruntime_binding.node $d/onnxruntime.dll $d/DirectML.dll $d/dxcompiler.dll $d/dxil.dll" ;;
    *) return 1 ;;
  esac
}
files=$(binaries_for "$TARGET") || {
  echo "package.sh: unknown target '$TARGET' (linux-x64, linux-arm64, darwin-arm64, win32-x64, win32-arm64; onnxruntime-node 1.30 has no darwin-x64 build)" >&2; exit 2; }
for f in $files; do
  [ -f "$BIN/$f" ] || { echo "package.sh: $BIN/$f is missing; run ONNXRUNTIME_NODE_INSTALL=skip npm ci" >&2; exit 1; }
done
for f in config.json model.safetensors; do
  [ -f "models/reference-bert-mini/$f" ] || { echo "package.sh: models/reference-bert-mini/$f is missing; the sample model would not work" >&2; exit 1; }
done

rm -rf dist
node esbuild.mjs --production
rm -f dist/*.map

VERSION="$(node -p "require('./package.json').version")"
OUT="${OUT:-layer-lens-$TARGET-$VERSION.vsix}"
IGNORE=$(mktemp -t layer-lens-vscodeignore.XXXXXX)
trap 'rm -f "$IGNORE"' EXIT
{ cat .vscodeignore; for f in $files; do echo "!$BIN/$f"; done; } > "$IGNORE"
rm -f "$OUT"
# The README links docs/ relatively; there is no public repository to rewrite them against.
npx vsce package --target "$TARGET" --ignoreFile "$IGNORE" --no-rewrite-relative-links \
  --allow-missing-repository --skip-license --out "$OUT"

BYTES=$(stat -c %s "$OUT")
MB=$(awk "BEGIN { printf \"%.1f\", $BYTES / 1048576 }")
echo "package.sh: $OUT is $MB MB (limit $LIMIT_MB MB)"
if [ "$BYTES" -gt $((LIMIT_MB * 1048576)) ]; then
  echo "package.sh: the VSIX is over $LIMIT_MB MB" >&2
  exit 1
fi
