#!/usr/bin/env bash
# Builds the linux-x64 and darwin-arm64 VSIXs into a temp folder and checks what they carry:
# the bundles, the sample model, their own platform's onnxruntime files and nothing else native,
# no source maps, no sources or tests, and a size ≤ 40 MB (scripts/package.sh enforces it).
# Restores the development build afterwards (package.sh builds dist/ for production).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d -t layer-lens-vsix-XXXXXX)
trap 'rm -rf "$WORK"; node esbuild.mjs >/dev/null' EXIT
fail=0
check() { # check TARGET FILE... : the VSIX must hold exactly these native files
  local target=$1; shift
  local vsix="$WORK/$target.vsix"
  bash scripts/package.sh "$target" --out "$vsix" >"$WORK/$target.log" 2>&1 || { cat "$WORK/$target.log"; echo "check-vsix: $target: package.sh failed"; fail=1; return; }
  unzip -Z1 "$vsix" > "$WORK/$target.files"
  local native; native=$(grep -E '/bin/napi-v6/' "$WORK/$target.files" | sed 's#.*/bin/napi-v6/##' | sort | tr '\n' ' ')
  local want; want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  [ "$native" = "$want" ] || { echo "check-vsix: $target native files are [$native], expected [$want]"; fail=1; }
  for f in extension/package.json extension/readme.md extension/dist/extension.js extension/dist/worker.js extension/dist/modelCheckWorker.js extension/dist/webview.js \
           extension/dist/webview.css extension/models/reference-bert-mini/model.safetensors extension/models/reference-bert-mini/tokenizer.json \
           extension/python/finetune.py extension/python/tune_lens.py extension/python/probe_torch.py; do
    grep -qix "$f" "$WORK/$target.files" || { echo "check-vsix: $target lacks $f"; fail=1; }
  done
  # The tasks' three scripts are the only Python shipped (the extension runs them; the tests' helpers stay out).
  local extra; extra=$(grep -E '\.(map|ts)$|^extension/(src|test|webview|scripts|python|docs)/' "$WORK/$target.files" | grep -vxE 'extension/python/(finetune|tune_lens|probe_torch)\.py' | head -3 | tr '\n' ' ' || true)
  [ -z "$extra" ] || { echo "check-vsix: $target ships sources, tests or source maps: $extra"; fail=1; }
  if [ "$target" = linux-x64 ]; then # this machine's platform: the shipped addon must load and run from the VSIX alone
    mkdir -p "$WORK/x" && unzip -q "$vsix" -d "$WORK/x"
    node -e "
      const ort = require('$WORK/x/extension/node_modules/onnxruntime-node');
      if (typeof ort.InferenceSession?.create !== 'function') throw new Error('no InferenceSession');
      console.log('check-vsix: linux-x64 onnxruntime-node loads from the VSIX; backends:', ort.listSupportedBackends().map((b) => b.name).join(', '));
    " || { echo "check-vsix: linux-x64: the packaged onnxruntime-node does not load"; fail=1; }
  fi
  echo "check-vsix: $target $(grep -o '[0-9.]* MB (limit' "$WORK/$target.log" | cut -d' ' -f1-2), $(wc -l < "$WORK/$target.files") files, native: $native"
}
check linux-x64 linux/x64/libonnxruntime.so.1 linux/x64/onnxruntime_binding.node
check darwin-arm64 darwin/arm64/libonnxruntime.1.dylib darwin/arm64/onnxruntime_binding.node
[ $fail -eq 0 ] && echo "check-vsix: ok"
exit $fail
