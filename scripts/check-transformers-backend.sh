#!/usr/bin/env bash
# With HF transformers (the project venv, or a GPU box): load a deepened checkpoint with
# BertForMaskedLM / BertForSequenceClassification and assert that nothing is missing or unexpected
# beyond what each head must add or drop, that it computes exactly what the source computes with the
# layer plan applied, and that a short fine-tune with the transformers backend of python/finetune.py
# finishes with results.json "done" for both models. Any failed check exits non-zero and says which;
# errors are shown, never discarded. Run by test/unit/finetune/transformersBackend.test.ts.
#   scripts/check-transformers-backend.sh BASE_DIR DEEP_DIR PLAN OUT_DIR
# Env: PYTHON (default .cache/venv/bin/python, else python3), STEPS (200).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 4 ] || { echo "usage: $0 BASE_DIR DEEP_DIR PLAN OUT_DIR" >&2; exit 2; }
BASE=$1 DEEP=$2 PLAN=$3 OUT=$4
STEPS=${STEPS:-200}
PY=${PYTHON:-$([ -x .cache/venv/bin/python ] && echo .cache/venv/bin/python || echo python3)}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TQDM_DISABLE=1 TRANSFORMERS_VERBOSITY=error

"$PY" -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
"$PY" -c "import transformers; print('transformers', transformers.__version__)" || { echo "check-transformers-backend: transformers is not importable by $PY" >&2; exit 3; }

"$PY" - "$BASE" "$DEEP" "$PLAN" <<'PY'
import sys, torch
from transformers import BertForMaskedLM, BertForSequenceClassification
base, deep, plan = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(',')]

def loading(info):
    return {k: sorted(map(str, v)) for k, v in info.items() if v}

for d in (base, deep):
    name = d.rstrip('/').split('/')[-1]
    m, info = BertForMaskedLM.from_pretrained(d, output_loading_info=True, use_safetensors=True)
    print('BertForMaskedLM', name, 'layers', m.config.num_hidden_layers, loading(info))
    assert not loading(info), f'{name}: BertForMaskedLM loading is not clean: {loading(info)}'
    c, info = BertForSequenceClassification.from_pretrained(d, num_labels=4, output_loading_info=True, use_safetensors=True)
    info = loading(info)
    print('BertForSequenceClassification', name, info)
    # The new head (and the pooler, which a MLM checkpoint need not have) may be fresh; the MLM head is dropped.
    fresh = [k for k in info.get('missing_keys', []) if not k.startswith(('classifier.', 'bert.pooler.'))]
    assert 'classifier.weight' in info.get('missing_keys', []), f'{name}: the classifier head was not initialised fresh: {info}'
    assert not fresh, f'{name}: encoder weights missing for BertForSequenceClassification: {fresh}'
    unexpected = [k for k in info.get('unexpected_keys', []) if not k.startswith('cls.')]
    assert not unexpected, f'{name}: unexpected weights for BertForSequenceClassification: {unexpected}'
    other = {k: v for k, v in info.items() if k not in ('missing_keys', 'unexpected_keys')}
    assert not other, f'{name}: loading problems: {other}'

a = BertForMaskedLM.from_pretrained(base, use_safetensors=True).eval().double()
b = BertForMaskedLM.from_pretrained(deep, use_safetensors=True).eval().double()
assert b.config.num_hidden_layers == len(plan), f'deepened model has {b.config.num_hidden_layers} layers, the plan {len(plan)}'
a.bert.encoder.layer = torch.nn.ModuleList([a.bert.encoder.layer[i] for i in plan])
a.config.num_hidden_layers = len(plan)
torch.manual_seed(0)
ids = torch.randint(5, a.config.vocab_size, (3, 24))
with torch.no_grad():
    la, lb = a(input_ids=ids).logits, b(input_ids=ids).logits
diff = (la - lb).abs().max().item()
print('deepened vs in-memory plan: max |logit diff| =', diff)
# The deepened tensors are byte copies of the source's, so the same float64 computation gives the same logits.
assert diff == 0.0, f'deepened checkpoint computes differently from the in-memory plan: max |logit diff| {diff}'
PY

rm -rf "$OUT"
"$PY" python/finetune.py "--model=$BASE" "--model=$DEEP" --data=data/source-clf/train.tsv "--out=$OUT" \
  --backend transformers --max-steps "$STEPS" --max-length 64 --lr 1e-4 --batch-size 32 --seed 42 --seeds 2 --eval-steps 2

"$PY" - "$OUT" "$STEPS" <<'PY'
import glob, json, os, sys
out, steps = sys.argv[1], int(sys.argv[2])
files = sorted(glob.glob(os.path.join(out, '*', 'seed-*', 'results.json')))
assert len(files) == 4, f'expected 2 models x 2 seeds = 4 results.json under {out}, found {len(files)}'
for f in files:
    r = json.load(open(f))
    assert f.endswith(f"seed-{r['seed']}/results.json") and r['seed'] in (42, 43), f'{f}: seed {r.get("seed")}'
    # --eval-steps 2: an evaluation at step 2 besides the one at the end
    ats = [(e['step'], e.get('at')) for e in r['epochs']]
    if steps > 2:
        assert (2, 'step') in ats and ats[-1] == (steps, 'end'), f'{f}: evaluations {ats}'
    final = r.get('final') or {}
    print(r['model_name'], r['status'], r['backend'], 'loading', r.get('loading'), 'final',
          {k: final.get(k) for k in ('step', 'accuracy', 'f1_macro', 'eval_loss', 'train_seconds')} if final else r.get('error'))
    assert r['status'] == 'done', f'{f}: status {r["status"]}: {r.get("error")}'
    assert r['backend'] == 'transformers', f'{f}: backend {r["backend"]}'
    assert final.get('step') == steps, f'{f}: final step {final.get("step")}, expected {steps}'
    assert 0 <= final.get('accuracy', -1) <= 1, f'{f}: accuracy {final.get("accuracy")}'
print('check-transformers-backend: all checks passed')
PY
