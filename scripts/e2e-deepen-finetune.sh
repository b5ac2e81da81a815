#!/usr/bin/env bash
# End to end, through the CLI: deepen the reference model by duplicating its top layer, check the
# written checkpoint probes exactly like the in-memory plan, fine-tune baseline and deepened for a
# short run with the built-in torch backend on data/source-clf, and print the comparison table.
#
# Env: PYTHON (default .cache/venv/bin/python, from scripts/install-python.sh), STEPS (60), LR (1e-4),
#      MAX_LENGTH (64), BATCH (32), SEEDS (2: seeds 42, 43, …), EVAL_STEPS (0: per epoch only),
#      WORK (a temp folder), MODEL (default models/reference-bert-mini).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.cache/venv/bin/python}
STEPS=${STEPS:-60}
LR=${LR:-1e-4}
MAX_LENGTH=${MAX_LENGTH:-64}
BATCH=${BATCH:-32}
SEEDS=${SEEDS:-2}
EVAL_STEPS=${EVAL_STEPS:-0}
WORK=${WORK:-$(mktemp -d -t layer-lens-e2e-XXXXXX)}
# One torch thread: on a busy 2-core machine, 2 OpenMP threads measured 4x slower per step (0.64 s vs 2.7 s).
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
mkdir -p "$WORK"
echo "work folder: $WORK"

[ -f dist/cli.js ] || node esbuild.mjs
cli() {
  # The dispatcher in dist/cli.js once it knows the command; else the command module directly.
  if node dist/cli.js "$1" --help >/dev/null 2>&1; then
    node dist/cli.js "$@"
  else
    local cmd=$1; shift
    [ -f "out/src/cli/commands/$cmd.js" ] || node esbuild.mjs --tests
    local fn; fn="run$(tr '[:lower:]' '[:upper:]' <<<"${cmd:0:1}")${cmd:1}Command"
    node -e "require('./out/src/cli/commands/$cmd.js').$fn(process.argv.slice(1)).then((c) => process.exit(c), (e) => { console.error(e.message); process.exit(1); })" "$@"
  fi
}

MODEL=${MODEL:-models/reference-bert-mini}
if [ ! -f "$MODEL/model.safetensors" ] && [ ! -f "$MODEL/model.safetensors.index.json" ]; then
  echo "NOTE: $MODEL has no weights yet; using a small RANDOMLY INITIALISED BERT with its vocabulary instead."
  MODEL="$WORK/random-bert-mini"
  "$PYTHON" - "$MODEL" <<'PY'
import json, os, shutil, sys
sys.path.insert(0, "python")
import numpy as np, torch, bert_torch as bt
torch.manual_seed(0)
out = sys.argv[1]
src = "models/reference-bert-mini"
vocab = [l for l in open(os.path.join(src, "vocab.txt"), encoding="utf-8").read().split("\n") if l]
c = bt.BertConfig(vocab_size=len(vocab), hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                  intermediate_size=512, max_position_embeddings=128)
os.makedirs(out, exist_ok=True)
bt.save_safetensors(os.path.join(out, "model.safetensors"), bt.state_for_saving(bt.BertForMaskedLM(c)), dtype=np.float32)
json.dump(c.to_hf_dict(), open(os.path.join(out, "config.json"), "w"), indent=2)
for f in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
    if os.path.exists(os.path.join(src, f)):
        shutil.copy(os.path.join(src, f), os.path.join(out, f))
PY
fi
LAYERS=$(node -e "console.log(require(require('path').resolve(process.argv[1], 'config.json')).num_hidden_layers)" "$MODEL")
TOP=$((LAYERS - 1))
DEEP="$WORK/$(basename "$MODEL")-deep"

echo; echo "== deepen $MODEL ($LAYERS layers): duplicate layer $TOP"
cli deepen "$MODEL" --plan "dup:$TOP" --out "$DEEP"
node -e "const c=require(process.argv[1]); if (c.num_hidden_layers !== $LAYERS + 1 || !c.layer_lens) process.exit(1); console.log('config:', c.num_hidden_layers, 'layers,', JSON.stringify(c.layer_lens))" "$DEEP/config.json"

echo; echo "== the written checkpoint probes exactly like the in-memory plan"
SENT="The lord is my shepherd; I shall not want."
cli probe "$MODEL" --text "$SENT" --layers "0-$TOP,$TOP" --json "$WORK/plan.json" >/dev/null
cli probe "$DEEP" --text "$SENT" --json "$WORK/deep.json" >/dev/null
node -e "
const a = require(process.argv[1]).summary, b = require(process.argv[2]).summary;
const strip = (s) => s.map(({ label, count, accuracy, meanLogProb, medianRank, meanEntropy, meanKL }) => [label, count, accuracy, meanLogProb, medianRank, meanEntropy, meanKL]);
if (JSON.stringify(strip(a)) !== JSON.stringify(strip(b))) { console.error('MISMATCH', JSON.stringify(strip(a)), JSON.stringify(strip(b))); process.exit(1); }
console.log('identical per-layer summaries over', a.length, 'states');" "$WORK/plan.json" "$WORK/deep.json"

echo; echo "== fine-tune baseline and deepened: $SEEDS seeds, $STEPS steps, lr $LR, batch $BATCH, max length $MAX_LENGTH (torch backend)"
START=$(date +%s)
cli finetune "$MODEL" "$DEEP" --data data/source-clf/train.tsv --out "$WORK/runs" --python "$PYTHON" \
  --backend torch --threads "$OMP_NUM_THREADS" --max-steps "$STEPS" --lr "$LR" --batch-size "$BATCH" --max-length "$MAX_LENGTH" --seed 42 \
  --seeds "$SEEDS" --eval-steps "$EVAL_STEPS"
echo "fine-tuning took $(( $(date +%s) - START )) s"

for f in "$WORK"/runs/*/seed-*/results.json; do
  node -e "const r=require(process.argv[1]); if (r.status !== 'done' || r.final === null) { console.error(process.argv[1], r.status, r.error); process.exit(1); }" "$f"
done
[ "$(ls "$WORK"/runs/*/seed-*/results.json | wc -l)" -eq $((2 * SEEDS)) ] || { echo "expected $((2 * SEEDS)) results files (2 models x $SEEDS seeds)"; exit 1; }
echo "results: $WORK/runs"
