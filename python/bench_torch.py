#!/usr/bin/env python3
"""PyTorch eager version of the Layer Lens probe, for `npm run bench` to compare against.

For each case BxS it runs the encoder on random ids, applies the MLM head to every hidden state
(h0..hL), and computes the same per-layer results as the ONNX probe graph: log-softmax, top-k,
the input token's log-prob and rank, entropy, and KL(final || layer). Prints one JSON line.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402
from bert_torch import load_model  # noqa: E402


def probe_metrics(model, ids, mask, k):
    hs = model(ids, torch.zeros_like(ids), mask)
    final = torch.log_softmax(model.mlm_head(hs[-1]), dim=-1)
    p_final = final.exp()
    out = []
    for i, h in enumerate(hs):
        logp = final if i == len(hs) - 1 else torch.log_softmax(model.mlm_head(h), dim=-1)
        top = torch.topk(logp, k, dim=-1)
        inp = logp.gather(-1, ids[..., None])
        rank = (logp > inp).sum(-1) + 1
        entropy = -(logp.exp() * logp).sum(-1)
        kl = (p_final * (final - logp)).sum(-1)
        out.append((top.values, top.indices, inp, rank, entropy, kl))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cases", default="1x32,8x32,32x128")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-seconds", type=float, default=3.0)
    ap.add_argument("--top-k", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = load_model(args.model, dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    gen = torch.Generator().manual_seed(0)
    results = {}
    with torch.inference_mode():
        for case in args.cases.split(","):
            b, s = (int(x) for x in case.split("x"))
            ids = torch.randint(1000, vocab, (b, s), generator=gen)
            mask = torch.ones_like(ids)
            probe_metrics(model, ids, mask, args.top_k)  # warm-up
            runs, start = 0, time.perf_counter()
            while True:
                probe_metrics(model, ids, mask, args.top_k)
                runs += 1
                elapsed = time.perf_counter() - start
                if elapsed >= args.min_seconds and runs >= 2:
                    break
            results[case] = {"tokens_per_s": b * s * runs / elapsed, "ms_per_run": 1000 * elapsed / runs}
    print(json.dumps({"torch": torch.__version__, "threads": args.threads, "cases": results}))


if __name__ == "__main__":
    main()
