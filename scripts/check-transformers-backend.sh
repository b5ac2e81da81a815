#!/usr/bin/env bash
# On a machine with HF transformers (e.g. a GPU box): load a deepened checkpoint with
# BertForMaskedLM / BertForSequenceClassification (no missing or unexpected keys), check that it
# computes exactly what the source computes with the layer plan applied, and run a short
# fine-tune with the transformers backend of python/finetune.py.
#   scripts/check-transformers-backend.sh BASE_DIR DEEP_DIR PLAN OUT_DIR
set -uo pipefail
BASE=$1 DEEP=$2 PLAN=$3 OUT=$4
PY=${PYTHON:-python3}
"$PY" -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
"$PY" -c "import transformers; print('transformers', transformers.__version__)" || { echo "transformers is not importable here"; exit 3; }
"$PY" - "$BASE" "$DEEP" "$PLAN" 2>/dev/null <<'PY'
import sys, torch
from transformers import BertForMaskedLM, BertForSequenceClassification
base, deep, plan = sys.argv[1], sys.argv[2], [int(x) for x in sys.argv[3].split(',')]
for d in (base, deep):
    m, info = BertForMaskedLM.from_pretrained(d, output_loading_info=True)
    print('BertForMaskedLM', d.split('/')[-1], 'layers', m.config.num_hidden_layers, {k: sorted(v) for k, v in info.items()})
    c, info = BertForSequenceClassification.from_pretrained(d, num_labels=4, output_loading_info=True)
    print('BertForSequenceClassification', d.split('/')[-1], {k: sorted(v) for k, v in info.items()})
a = BertForMaskedLM.from_pretrained(base).eval().double()
b = BertForMaskedLM.from_pretrained(deep).eval().double()
a.bert.encoder.layer = torch.nn.ModuleList([a.bert.encoder.layer[i] for i in plan])
a.config.num_hidden_layers = len(plan)
ids = torch.randint(5, a.config.vocab_size, (3, 24))
with torch.no_grad():
    la, lb = a(input_ids=ids).logits, b(input_ids=ids).logits
print('deepened vs in-memory plan: max |logit diff| =', (la - lb).abs().max().item())
PY
"$PY" python/finetune.py "--model=$BASE" "--model=$DEEP" --data=data/source-clf/train.tsv "--out=$OUT" \
  --backend transformers --max-steps "${STEPS:-200}" --max-length 64 --lr 1e-4 --batch-size 32 --seed 42
for f in "$OUT"/*/results.json; do
  "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['model_name'], r['status'], r['backend'], 'loading', r.get('loading'), 'final', {k: r['final'][k] for k in ('step','accuracy','f1_macro','eval_loss','train_seconds')} if r['final'] else r.get('error'))" "$f"
done
