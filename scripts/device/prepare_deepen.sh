#!/usr/bin/env bash
# Prepares the inputs of the optional deepen check of scripts/device/hf_golden.py (issue 7 step 3):
# a tiny random BERT in HF layout (test/unit/helpers/tinyBert.ts, with vocab.txt) and a deepened
# copy written by OUR TypeScript deepen writer (`layer-lens deepen`), under .cache/device-in/deepen/.
# .cache/ is git-ignored, so pass `carry: [".cache/device-in"]` to the device run.
#   bash scripts/device/prepare_deepen.sh [PLAN]      (default plan 0,1,1 on a 2-layer source)
set -euo pipefail
cd "$(dirname "$0")/../.."
PLAN="${1:-0,1,1}"
DIR=.cache/device-in/deepen
rm -rf "$DIR"
mkdir -p "$DIR"
node esbuild.mjs
node esbuild.mjs --tests
node -e "
  const { writeTinyBert } = require('./out/test/unit/helpers/tinyBert');
  writeTinyBert('$DIR/source', { layers: 2, hidden: 32, heads: 4, seed: 11 });
"
# Our writer, called directly (same code as `layer-lens deepen MODEL --plan PLAN --out DIR`).
node -e "
  const { writeDeepenedCheckpoint } = require('./out/src/core/deepen/writer');
  const { parsePresetOrPlan } = require('./out/src/core/deepen/presets');
  const plan = parsePresetOrPlan('$PLAN', 2);
  writeDeepenedCheckpoint({ source: '$DIR/source', plan, planText: '$PLAN', target: '$DIR/deepened' })
    .then((r) => console.log('deepened:', r.target, r.numLayers, 'layers,', r.tensors, 'tensors'))
    .catch((e) => { console.error(e); process.exit(1); });
"
printf '%s\n' "$PLAN" > "$DIR/plan.txt"
du -sh "$DIR"
ls -l "$DIR/source" "$DIR/deepened"
