#!/usr/bin/env bash
# Device entry point for issue 7: runs scripts/device/hf_golden.py with outputs under $OUT.
#   bash scripts/device/run_golden.sh
# Uses .cache/device-in/deepen/{source,deepened,plan.txt} when present (scripts/device/prepare_deepen.sh,
# carried with carry: [".cache/device-in"]), and runs the fine-tune check when python/finetune.py exists.
# CPU only: the models are tiny and CPU float64 is the most reproducible; the GPU is left alone.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-$PWD/hf-golden-out}"
mkdir -p "$OUT"
export CUDA_VISIBLE_DEVICES="" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 \
  TOKENIZERS_PARALLELISM=false TRANSFORMERS_VERBOSITY=warning PYTHONUNBUFFERED=1

# The first Python that has transformers.
PY=""
for c in "${PYTHON:-}" python3 python python3.12; do
  [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && "$c" -c 'import torch, transformers, safetensors' 2>/dev/null && { PY="$c"; break; }
done
if [ -z "$PY" ]; then
  echo "run_golden: no python with torch + transformers + safetensors found" | tee "$OUT/hf_golden.log"
  exit 3
fi

args=(--out "$OUT")
D=.cache/device-in/deepen
if [ -d "$D/deepened" ] && [ -d "$D/source" ]; then
  args+=(--deepen-source "$D/source" --deepened "$D/deepened" --plan "$(cat "$D/plan.txt" 2>/dev/null || echo 0,1,1)")
fi
[ -f python/finetune.py ] && args+=(--finetune-check)

echo "run_golden: $PY scripts/device/hf_golden.py ${args[*]}"
timeout 200 "$PY" scripts/device/hf_golden.py "${args[@]}" "$@" 2>&1 | tee "$OUT/hf_golden.log"
rc=${PIPESTATUS[0]}
ls -l "$OUT"
echo "run_golden: exit $rc"
exit "$rc"
