#!/usr/bin/env python3
"""Reference per-layer probe outputs for the Layer Lens engine parity test.

Runs python/bert_torch.py in float64 (weights read from MODEL/model.safetensors,
F16/BF16/F32 widened to F64) and, for every example and every hidden state
h0..hL (h0 = embedding output after LayerNorm), applies the MLM head and
log-softmax.  Output JSON:

  {"model": DIR, "dtype": "float64", "num_layers": L,
   "layers": [ per example: [ per layer h0..hL: [ per position: log p(input token) ] ] ],
   "top1":   [ per example: [ per layer h0..hL: [ per position: argmax token id ] ] ],
   "top1_logprob": same shape as top1 (log-probability of the argmax token),
   "top1_gap": same shape (best minus second-best log-prob: the argmax may swap below a near-tie)}

Input --ids is a JSON list of
  {"input_ids": [...], "token_type_ids": [...], "attention_mask": [...]}
(token_type_ids / attention_mask optional: zeros / ones).  Examples are run one
at a time without padding, except that positions with attention_mask 0 are
masked out as keys (their own outputs are still reported).
Alternatively --sentences FILE (one sentence per line) tokenizes with
python/wordpiece.py ([CLS] s [SEP]) and also writes the ids into the output.
Optional --layer-plan 0,1,2,3,3 runs that sequence of encoder layers.

Example:
  /usr/bin/python3 python/check_engine_parity.py --model models/reference-bert-mini \\
      --ids ids.json --out expected.json
"""
import argparse, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch
import bert_torch as bt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="HF-layout model dir (config.json, model.safetensors)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--ids", help="JSON list of {input_ids, token_type_ids, attention_mask}")
    g.add_argument("--sentences", help="text file, one sentence per line (tokenized with wordpiece.py)")
    ap.add_argument("--out", default="-", help="output JSON path ('-' = stdout)")
    ap.add_argument("--layer-plan", default=None, help="comma-separated encoder layer indices, e.g. 0,1,2,3,3")
    ap.add_argument("--limit", type=int, default=0, help="only the first N examples")
    a = ap.parse_args()

    torch.set_num_threads(1)
    model = bt.load_model(a.model, dtype=torch.float64)
    if a.ids:
        with open(a.ids) as f:
            examples = json.load(f)
    else:
        import wordpiece
        tok = wordpiece.WordPiece(os.path.join(a.model, "vocab.txt"))
        with open(a.sentences, encoding="utf-8") as f:
            examples = [tok.encode(l.rstrip("\n")) for l in f if l.strip()]
    if a.limit:
        examples = examples[:a.limit]
    plan = [int(x) for x in a.layer_plan.split(",")] if a.layer_plan else None

    out = {"model": a.model, "dtype": "float64", "num_layers": len(plan) if plan else model.config.num_hidden_layers,
           "layer_plan": plan, "layers": [], "top1": [], "top1_logprob": [], "top1_gap": []}
    if a.sentences:
        out["examples"] = examples
    with torch.no_grad():
        for ex in examples:
            ids = torch.tensor([ex["input_ids"]], dtype=torch.long)
            tt = torch.tensor([ex.get("token_type_ids") or [0] * ids.shape[1]], dtype=torch.long)
            am = torch.tensor([ex.get("attention_mask") or [1] * ids.shape[1]], dtype=torch.long)
            hs = model(ids, tt, am, plan)
            L_in, L_top, L_topv, L_gap = [], [], [], []
            for h in hs:
                lp = torch.log_softmax(model.mlm_head(h)[0], dim=-1)
                L_in.append(lp.gather(1, ids[0][:, None])[:, 0].tolist())
                top = torch.topk(lp, k=2, dim=-1)
                L_top.append(top.indices[:, 0].tolist())
                L_topv.append(top.values[:, 0].tolist())
                L_gap.append((top.values[:, 0] - top.values[:, 1]).tolist())
            out["layers"].append(L_in)
            out["top1"].append(L_top)
            out["top1_logprob"].append(L_topv)
            out["top1_gap"].append(L_gap)
    s = json.dumps(out)
    if a.out == "-":
        print(s)
    else:
        with open(a.out, "w") as f:
            f.write(s)


if __name__ == "__main__":
    main()
