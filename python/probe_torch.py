#!/usr/bin/env python3
"""Layer Lens's PyTorch backend: the corpus probe run by HF transformers on CUDA, MPS or the CPU,
in fp32 or bf16, one process or many (torchrun / accelerate launch, each rank its own shard).

    python probe_torch.py --model DIR --file corpus.txt --out report.json [--plan 0,1,1,2] [--top-k 5]
        [--include-special] [--device auto|cpu|cuda|mps] [--dtype fp32|bf16] [--batch 16]
        [--max-tokens N] [--full-sentences 200] [--shard i/N]
    torchrun --nproc_per_node 2 probe_torch.py …    (gloo on the CPU, nccl on GPUs)

It computes what the ORT engine computes, the same way: every state h0 (the embeddings) … hL goes
through the model's own MLM head (pre-norm families: head(final_norm(h)), as the lens reads
them); per position the top-k, log p and rank (1 + the tokens scored above it) of the input token,
the entropy and KL(final ‖ state); special tokens and [MASK] positions are not counted unless
asked. The report is Layer Lens's schema (version 2): exact per-layer aggregates, a row per
sentence, full cells for the first --full-sentences sentences, 95% bootstrap intervals
(mulberry32, seed 12345, 1000 resamples of sentences). Shards take every N-th sentence, as
`layer-lens probe --shard` does. With several ranks each writes OUT.shard-i-of-N.json and rank 0
merges them into OUT (or `layer-lens merge` does, with any of them).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch

SCHEMA_VERSION = 2
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 12345
MAX_WARNINGS = 100


def fail(message: str) -> None:
    print(f"probe_torch: {message}", file=sys.stderr)
    sys.exit(2)


# ── families: which module holds the layers, how the head reads a state, what a plan must rewrite ──
class Family:
    def __init__(self, name: str, base: str, layers: Optional[str], head: Callable[[Any, torch.Tensor], torch.Tensor],
                 hooks: bool = False, plan_config: Optional[str] = None):
        self.name, self.base, self.layers, self.head, self.hooks, self.plan_config = name, base, layers, head, hooks, plan_config


def _distilbert_head(m, h):
    return m.vocab_projector(m.vocab_layer_norm(m.activation(m.vocab_transform(h))))


def _deberta_head(m, h):
    return m.cls(h) if getattr(m.config, "legacy", True) else m.lm_predictions(h, m.deberta.embeddings.word_embeddings)


FAMILIES: Dict[str, Family] = {
    "bert": Family("BERT", "bert", "encoder.layer", lambda m, h: m.cls(h)),
    "roberta": Family("RoBERTa", "roberta", "encoder.layer", lambda m, h: m.lm_head(h)),
    "xlm-roberta": Family("XLM-RoBERTa", "roberta", "encoder.layer", lambda m, h: m.lm_head(h)),
    "camembert": Family("CamemBERT", "roberta", "encoder.layer", lambda m, h: m.lm_head(h)),
    "distilbert": Family("DistilBERT", "distilbert", "transformer.layer", _distilbert_head),
    "electra": Family("ELECTRA (generator)", "electra", "encoder.layer", lambda m, h: m.generator_lm_head(m.generator_predictions(h))),
    "deberta-v2": Family("DeBERTa-v2", "deberta", "encoder.layer", _deberta_head),
    # Pre-norm: HF's last hidden state is already final-normed, so the states are read by hooks.
    "modernbert": Family("ModernBERT", "model", "layers", lambda m, h: m.decoder(m.head(m.model.final_norm(h))), hooks=True, plan_config="layer_types"),
    "eurobert": Family("EuroBERT", "model", "layers", lambda m, h: m.lm_head(m.model.norm(h)), hooks=True, plan_config="num_hidden_layers"),
}


def get_path(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def set_path(obj: Any, dotted: str, value: Any) -> None:
    *head, last = dotted.split(".")
    setattr(get_path(obj, ".".join(head)) if head else obj, last, value)


class PlannedModel:
    """The model with its layer list rebuilt along the plan (the same modules, so nothing is copied)."""

    def __init__(self, model, family: Family, plan: List[int]):
        self.model, self.family, self.plan = model, family, plan
        self.base = getattr(model, family.base)
        self.path = family.layers
        self.original = get_path(self.base, self.path)
        self.config = self.base.config
        self.saved = getattr(self.config, family.plan_config) if family.plan_config else None

    def __enter__(self):
        set_path(self.base, self.path, torch.nn.ModuleList([self.original[i] for i in self.plan]))
        if self.family.plan_config == "layer_types":
            self.config.layer_types = [self.saved[i] for i in self.plan]
        elif self.family.plan_config == "num_hidden_layers":
            self.config.num_hidden_layers = len(self.plan)  # forward runs layers[:num_hidden_layers]
        return get_path(self.base, self.path)

    def __exit__(self, *exc):
        set_path(self.base, self.path, self.original)
        if self.family.plan_config:
            setattr(self.config, self.family.plan_config, self.saved)


@torch.no_grad()
def hidden_states(model, family: Family, layers: torch.nn.ModuleList, ids: torch.Tensor, mask: torch.Tensor, types: Optional[torch.Tensor]) -> List[torch.Tensor]:
    kwargs = dict(input_ids=ids, attention_mask=mask)
    if types is not None:
        kwargs["token_type_ids"] = types
    if not family.hooks:
        return list(model(**kwargs, output_hidden_states=True).hidden_states)
    states: List[torch.Tensor] = []
    base = getattr(model, family.base)
    embeddings = base.embeddings if hasattr(base, "embeddings") else base.embed_tokens
    handles = [embeddings.register_forward_hook(lambda mod, i, o: states.append(o))]
    # Once per module: a plan may repeat one, and each call is recorded in order.
    handles += [layer.register_forward_hook(lambda mod, i, o: states.append(o if torch.is_tensor(o) else o[0]))
                for layer in {id(l): l for l in layers}.values()]
    try:
        model(**kwargs)
    finally:
        for h in handles:
            h.remove()
    return states


# ── per-position figures, as the engine's head graph computes them ──
@torch.no_grad()
def cells_of(model, family: Family, states: List[torch.Tensor], row: int, n: int, ids: torch.Tensor, top_k: int) -> List[Dict[str, List[float]]]:
    logps = [torch.log_softmax(family.head(model, s[row:row + 1, :n]).float()[0], dim=-1) for s in states]
    final = logps[-1]
    p_final = final.exp()
    neg_entropy_final = (p_final * final).sum(-1)
    out = []
    for logp in logps:
        top = torch.topk(logp, k=top_k, dim=-1)
        inp = logp.gather(1, ids[:n, None])[:, 0]
        out.append(dict(
            top1=top.indices[:, 0].tolist(),
            inputLogProb=inp.tolist(),
            rank=((logp > inp[:, None]).sum(-1) + 1).float().tolist(),
            entropy=(-(logp.exp() * logp).sum(-1)).tolist(),
            kl=(neg_entropy_final - (p_final * logp).sum(-1)).tolist(),
            topKIds=top.indices.tolist(),
            topKLogProbs=top.values.tolist(),
        ))
    return out


def finite_or_nan(x: float) -> float:
    return x if math.isfinite(x) else float("nan")


# ── aggregates, rows and the summary (src/core/probe/metrics.ts's definitions) ──
def empty_aggregate(l: int, plan: List[int]) -> Dict[str, Any]:
    return dict(label=f"h{l}", sourceLayer=None if l == 0 else plan[l - 1], count=0, hits=0, unavailable=0,
                sumLogProb=0.0, sumEntropy=0.0, sumKL=0.0, rankHistogram={})


def histogram_median(hist: Dict[str, int]) -> float:
    entries = sorted((float(k), v) for k, v in hist.items())
    total = sum(v for _, v in entries)
    if total == 0:
        return float("nan")

    def at(k: int) -> float:
        seen = 0
        for value, count in entries:
            seen += count
            if k < seen:
                return value
        return float("nan")

    mid = total // 2
    v = at(mid) if total % 2 else (at(mid - 1) + at(mid)) / 2
    return int(v) if v == int(v) else v


def summarize(a: Dict[str, Any]) -> Dict[str, Any]:
    n = a["count"]
    nan = float("nan")
    return dict(label=a["label"], sourceLayer=a["sourceLayer"], count=n,
                accuracy=a["hits"] / n if n and not a["unavailable"] else nan,
                meanLogProb=a["sumLogProb"] / n if n else nan,
                medianRank=nan if a["unavailable"] else histogram_median(a["rankHistogram"]),
                meanEntropy=a["sumEntropy"] / n if n else nan,
                meanKL=a["sumKL"] / n if n else nan)


def mulberry32_draws(seed: int, start: int, count: int) -> np.ndarray:
    """Draws start … start+count−1 of mulberry32(seed), vectorized: its state after k steps is seed + k·0x6D2B79F5."""
    k = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    a = ((np.uint64(seed) + k * np.uint64(0x6D2B79F5)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    with np.errstate(over="ignore"):
        t = a.copy()
        t = (t ^ (t >> np.uint32(15))) * (t | np.uint32(1))
        t ^= t + (t ^ (t >> np.uint32(7))) * (t | np.uint32(61))
        t = t ^ (t >> np.uint32(14))
    return t.astype(np.float64) / 4294967296.0


def bootstrap(rows: List[Dict[str, Any]], layers: int) -> List[Dict[str, List[float]]]:
    n = len(rows)
    count = np.array([r["n"] for r in rows], dtype=np.float64)
    hits = np.array([r["hits"] for r in rows], dtype=np.float64).reshape(n, layers)
    logp = np.array([r["logp"] for r in rows], dtype=np.float64).reshape(n, layers)
    acc = np.empty((BOOTSTRAP_RESAMPLES, layers))
    lp = np.empty((BOOTSTRAP_RESAMPLES, layers))
    for b in range(BOOTSTRAP_RESAMPLES):
        pick = np.floor(mulberry32_draws(BOOTSTRAP_SEED, b * n, n) * n).astype(np.int64)
        c = count[pick].sum()
        acc[b] = hits[pick].sum(axis=0) / c if c else np.nan
        lp[b] = logp[pick].sum(axis=0) / c if c else np.nan

    def interval(values: np.ndarray) -> List[float]:
        if n == 0 or np.isnan(values).any():
            return [float("nan")] * 2
        return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]

    return [dict(accuracy=interval(acc[:, l]), meanLogProb=interval(lp[:, l])) for l in range(layers)]


def summary_of(aggregates: List[Dict[str, Any]], rows: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    plain = [summarize(a) for a in aggregates]
    if not rows:
        return plain
    for s, ci in zip(plain, bootstrap(rows, len(aggregates))):
        s["accuracyCI"] = [float("nan")] * 2 if math.isnan(s["accuracy"]) else ci["accuracy"]
        s["meanLogProbCI"] = ci["meanLogProb"]
    return plain


# ── the model's identity, as the engine reports it (merge compares these) ──
def model_info(model_dir: str, config, family: Family) -> Dict[str, Any]:
    weights = sorted(f for f in os.listdir(model_dir) if f.endswith(".safetensors")) or [f for f in ("pytorch_model.bin",) if os.path.exists(os.path.join(model_dir, f))]
    if not weights:
        fail(f"{model_dir}: no *.safetensors or pytorch_model.bin weights")
    dtype = "F32"
    if weights[0].endswith(".safetensors"):
        with open(os.path.join(model_dir, weights[0]), "rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        largest = max((v for k, v in header.items() if k != "__metadata__"), key=lambda v: math.prod(v["shape"]))
        dtype = largest["dtype"]  # the word-embedding table, the largest tensor of these models
    info = dict(path=os.path.abspath(model_dir), name=os.path.basename(os.path.abspath(model_dir)), family=family.name,
                modelType=config.model_type, numLayers=config.num_hidden_layers if hasattr(config, "num_hidden_layers") else config.n_layers,
                hiddenSize=getattr(config, "hidden_size", None) or config.dim, vocabSize=config.vocab_size,
                weightsFile=os.path.abspath(os.path.join(model_dir, weights[0])), dtype=dtype,
                weightsBytes=sum(os.path.getsize(os.path.join(model_dir, f)) for f in weights))
    for name in ("tokenizer.json", "vocab.txt", "sentencepiece.bpe.model", "spiece.model"):
        p = os.path.join(model_dir, name)
        if os.path.isfile(p):
            info["tokenizerSha256"] = hashlib.sha256(open(p, "rb").read()).hexdigest()
            info["tokenizerFile"] = name
            break
    return info


def read_corpus(file: str) -> List[Dict[str, Any]]:
    try:
        text = open(file, encoding="utf-8").read()
    except UnicodeDecodeError as e:
        fail(f"{file}: not UTF-8 text ({e.reason} at byte {e.start})")
    except OSError as e:
        fail(f"{file}: {e.strerror}")
    sentences = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        first, *rest = line.split("\t")
        entry = dict(text=first.strip(), index=len(sentences))
        if rest and rest[0].strip():
            entry["pair"] = rest[0].strip()
        sentences.append(entry)
    if not sentences:
        fail(f"{file}: the input file has no sentences (it is empty or blank)")
    return sentences


def json_safe(v: Any) -> Any:
    """Non-finite numbers as the strings the engine writes ("NaN", "Infinity", "-Infinity")."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [json_safe(x) for x in v]
    return v


def write_json(path: str, report: Dict[str, Any]) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(json_safe(report), f, allow_nan=False)
    os.replace(tmp, path)


def probe_shard(args, model, tokenizer, family: Family, plan: List[int], sentences: List[Dict[str, Any]], device) -> Dict[str, Any]:
    top_k = args.top_k
    specials = set(tokenizer.all_special_ids)
    mask_id = tokenizer.mask_token_id
    limit = args.max_tokens or max_positions(model.config, tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    token_types = "token_type_ids" in tokenizer.model_input_names and getattr(model.config, "type_vocab_size", 0) > 0
    aggregates = [empty_aggregate(l, plan) for l in range(len(plan) + 1)]
    rows, kept, vocab, warnings = [], [], {}, []
    tokens_total, truncated = 0, 0
    started = time.time()
    with PlannedModel(model, family, plan) as layers:
        for b in range(0, len(sentences), args.batch):
            batch = sentences[b:b + args.batch]
            encs = [tokenizer(s["text"], s.get("pair"), truncation=True, max_length=limit) for s in batch]
            for s, e in zip(batch, encs):
                full = len(tokenizer(s["text"], s.get("pair"))["input_ids"])
                if full > len(e["input_ids"]):
                    truncated += 1
            seq = max(len(e["input_ids"]) for e in encs)
            ids = torch.full((len(batch), seq), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), seq), dtype=torch.long)
            types = torch.zeros((len(batch), seq), dtype=torch.long)
            for r, e in enumerate(encs):
                n = len(e["input_ids"])
                ids[r, :n] = torch.tensor(e["input_ids"])
                mask[r, :n] = 1
                if token_types and "token_type_ids" in e:
                    types[r, :n] = torch.tensor(e["token_type_ids"])
            states = hidden_states(model, family, layers, ids.to(device), mask.to(device), types.to(device) if token_types else None)
            for r, (s, e) in enumerate(zip(batch, encs)):
                n = len(e["input_ids"])
                tokens_total += n
                row_ids = e["input_ids"]
                special = [i in specials and i != mask_id for i in row_ids]
                masked = [p for p, i in enumerate(row_ids) if i == mask_id]
                counted = [p for p in range(n) if (args.include_special or not special[p]) and p not in masked]
                cells = cells_of(model, family, states, r, n, ids[r].to(device), top_k)
                hits_row, logp_row = [], []
                for l, c in enumerate(cells):
                    a = aggregates[l]
                    h, lp = 0, 0.0
                    for p in counted:
                        a["count"] += 1
                        if c["top1"][p] == row_ids[p]:
                            a["hits"] += 1
                            h += 1
                        a["sumLogProb"] += c["inputLogProb"][p]
                        a["sumEntropy"] += c["entropy"][p]
                        a["sumKL"] += c["kl"][p]
                        lp += c["inputLogProb"][p]
                        rank = c["rank"][p]
                        if math.isnan(rank):
                            a["unavailable"] += 1
                        else:
                            key = str(int(rank))
                            a["rankHistogram"][key] = a["rankHistogram"].get(key, 0) + 1
                    hits_row.append(h)
                    logp_row.append(lp)
                rows.append(dict(i=s["index"], n=len(counted), hits=hits_row, logp=logp_row))
                if len(kept) < args.full_sentences:
                    entry = dict(index=s["index"], text=s["text"], **({"pair": s["pair"]} if "pair" in s else {}), ids=row_ids,
                                 tokens=tokenizer.convert_ids_to_tokens(row_ids), special=special, layers=cells)
                    if masked:
                        entry["masks"] = [dict(position=p, source="text") for p in masked]
                    kept.append(entry)
                    used = set(row_ids) | {i for c in cells for k in c["topKIds"] for i in k}
                    for i in used:
                        vocab[str(i)] = tokenizer.convert_ids_to_tokens(i)
    if truncated:
        warnings.append(f"{truncated} input(s) longer than {limit} tokens were cut to {limit}")
    return dict(aggregates=aggregates, rows=rows, sentences=kept, vocab=vocab, warnings=warnings,
                runMs=(time.time() - started) * 1000, tokens=tokens_total)


def max_positions(config, tokenizer) -> int:
    n = getattr(config, "max_position_embeddings", None) or 512
    if config.model_type in ("roberta", "xlm-roberta", "camembert"):
        n -= (config.pad_token_id or 0) + 1  # positions start after the padding index
    return min(n, tokenizer.model_max_length if tokenizer.model_max_length < 1e9 else n)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def assemble(args, info, plan, parts, shard, total, session_ms, backend) -> Dict[str, Any]:
    """One report from shard parts: aggregates added, rows and kept sentences by corpus index."""
    aggregates = [dict(a, rankHistogram=dict(a["rankHistogram"])) for a in parts[0]["aggregates"]]
    for part in parts[1:]:
        for x, y in zip(aggregates, part["aggregates"]):
            for k in ("count", "hits", "unavailable", "sumLogProb", "sumEntropy", "sumKL"):
                x[k] += y[k]
            for r, n in y["rankHistogram"].items():
                x["rankHistogram"][r] = x["rankHistogram"].get(r, 0) + n
    rows = sorted((r for p in parts for r in p["rows"]), key=lambda r: r["i"])
    kept = sorted((s for p in parts for s in p["sentences"]), key=lambda s: s["index"])[:args.full_sentences]
    all_vocab = {k: v for p in parts for k, v in p["vocab"].items()}
    used = {str(i) for s in kept for i in s["ids"]} | {str(i) for s in kept for c in s["layers"] for k in c["topKIds"] for i in k}
    warnings = list(dict.fromkeys(w for p in parts for w in p["warnings"]))[:MAX_WARNINGS]
    summary = summary_of(aggregates, rows)
    if summary[0]["count"] == 0:
        warnings.append("every token is a special token, so the per-layer figures count nothing (NaN); include special tokens to count them")
    corpus = dict(file=os.path.abspath(args.file), totalSentences=total)
    if shard:
        corpus["shard"] = dict(index=shard[0], count=shard[1], scheme="stride")
    corpus.update(probed=len(rows), fullSentences=args.full_sentences)
    report = dict(schemaVersion=SCHEMA_VERSION, model=info, plan=plan, planText=plan_text(plan), topK=args.top_k,
                  includeSpecial=bool(args.include_special), sentences=kept, summary=summary, aggregates=aggregates,
                  rows=rows, corpus=corpus, vocab={k: all_vocab[k] for k in sorted(used, key=int) if k in all_vocab},
                  warnings=warnings,
                  timing=dict(sessionMs=session_ms, runMs=sum(p["runMs"] for p in parts), tokens=sum(p["tokens"] for p in parts), peakRssMb=max(p.get("peakRssMb", 0) for p in parts)),
                  backend=backend)
    if rows:
        report["bootstrap"] = dict(resamples=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED, unit="sentence", estimator="ratio of sums", interval="percentile 2.5/97.5")
    return report


def plan_text(plan: List[int]) -> str:
    """The engine's printPlan: runs of consecutive layers as ranges."""
    parts, k = [], 0
    while k < len(plan):
        j = k
        while j + 1 < len(plan) and plan[j + 1] == plan[j] + 1:
            j += 1
        parts.append(str(plan[k]) if j == k else f"{plan[k]}-{plan[j]}")
        k = j + 1
    return ",".join(parts)


def parse_plan(text: Optional[str], layers: int) -> List[int]:
    if text is None:
        return list(range(layers))
    plan: List[int] = []
    for part in text.split(","):
        a, _, b = part.strip().partition("-")
        try:
            lo, hi = int(a), int(b) if b else int(a)
        except ValueError:
            fail(f"--plan: \"{part}\" is not a layer index or a range a-b")
        if not (0 <= lo < layers and 0 <= hi < layers):
            fail(f"--plan: layer {lo if not 0 <= lo < layers else hi} is out of range 0-{layers - 1}")
        plan.extend(range(lo, hi + 1) if lo <= hi else range(lo, hi - 1, -1))
    return plan


def pick_device(name: str, local_rank: int):
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            fail("--device cuda: torch sees no CUDA device")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if name == "mps" and not torch.backends.mps.is_available():
        fail("--device mps: torch has no MPS device here")
    return torch.device(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--plan", default=None)
    ap.add_argument("--top-k", type=int, default=5)
    ap.add_argument("--include-special", action="store_true")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=None)
    ap.add_argument("--full-sentences", type=int, default=200)
    ap.add_argument("--shard", default=None, help="i/N: this process takes every N-th sentence from the i-th (one process)")
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.model, "config.json")):
        fail(f"{args.model}: not a model folder (no config.json)")
    if args.top_k < 1 or args.batch < 1 or args.full_sentences < 0:
        fail("--top-k and --batch must be positive, --full-sentences not negative")

    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    if args.shard and world > 1:
        fail("--shard is for one process; under torchrun / accelerate each rank takes its own shard")
    if args.shard:
        try:
            i, n = (int(x) for x in args.shard.split("/"))
            assert 1 <= i <= n
        except (ValueError, AssertionError):
            fail(f"--shard must be i/N with 1 <= i <= N, e.g. 2/8; got \"{args.shard}\"")
        shard = (i, n)
    else:
        shard = (rank + 1, world) if world > 1 else None

    from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer
    import transformers

    config = AutoConfig.from_pretrained(args.model)
    family = FAMILIES.get(config.model_type)
    if family is None:
        fail(f"{args.model}: model_type \"{config.model_type}\" is not supported by the PyTorch backend (it reads {', '.join(FAMILIES)}); "
             "the ORT engine (layer-lens probe) reads ALBERT too")
    device = pick_device(args.device, int(os.environ.get("LOCAL_RANK", "0")))
    t0 = time.time()
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    kwargs = {"attn_implementation": "sdpa"} if family.hooks else {}
    model = AutoModelForMaskedLM.from_pretrained(args.model, dtype=dtype, **kwargs).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    session_ms = (time.time() - t0) * 1000
    info = model_info(args.model, config, family)
    layers = len(get_path(getattr(model, family.base), family.layers))
    plan = parse_plan(args.plan, layers)

    corpus = read_corpus(args.file)
    mine = [s for s in corpus if shard is None or s["index"] % shard[1] == shard[0] - 1]
    if not mine:
        fail(f"shard {shard[0]}/{shard[1]} of a {len(corpus)}-sentence corpus holds no sentences")
    backend = dict(name="pytorch", device=str(device), dtype=args.dtype, processes=world, torch=torch.__version__, transformers=transformers.__version__)
    part = probe_shard(args, model, tokenizer, family, plan, mine, device)
    part["peakRssMb"] = peak_rss_mb()
    report = assemble(args, info, plan, [part], shard, len(corpus), session_ms, backend)
    if world == 1:
        write_json(args.out, report)
        print(f"probe_torch: {len(mine)} sentences, {part['tokens']} tokens in {part['runMs'] / 1000:.1f} s on {device} ({args.dtype}) -> {args.out}", flush=True)
        return 0

    # Several ranks: each writes its shard report; rank 0 waits for all and merges.
    import torch.distributed as dist
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    shard_file = f"{args.out}.shard-{rank + 1}-of-{world}.json"
    write_json(shard_file, report)
    dist.barrier()
    if rank == 0:
        files = [f"{args.out}.shard-{k + 1}-of-{world}.json" for k in range(world)]
        parts = []
        for f in files:
            r = json.load(open(f, encoding="utf-8"), parse_constant=lambda c: float(c))
            for a in r["aggregates"]:
                for k in ("sumLogProb", "sumEntropy", "sumKL"):
                    a[k] = float(a[k]) if isinstance(a[k], str) else a[k]
            for row in r["rows"]:
                row["logp"] = [float(x) if isinstance(x, str) else x for x in row["logp"]]
            parts.append(dict(aggregates=r["aggregates"], rows=r["rows"], sentences=revive_cells(r["sentences"]), vocab=r["vocab"], warnings=r["warnings"],
                              runMs=r["timing"]["runMs"], tokens=r["timing"]["tokens"], peakRssMb=r["timing"]["peakRssMb"]))
        merged = assemble(args, info, plan, parts, None, len(corpus), session_ms * world, backend)
        merged["corpus"]["mergedFrom"] = files
        write_json(args.out, merged)
        tokens = sum(p["tokens"] for p in parts)
        print(f"probe_torch: {len(corpus)} sentences, {tokens} tokens on {world} ranks ({device.type}, {args.dtype}) -> {args.out}", flush=True)
    dist.barrier()
    dist.destroy_process_group()
    return 0


def revive_cells(sentences: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The strings json_safe wrote for non-finite numbers, back to floats."""
    back = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
    for s in sentences:
        for c in s["layers"]:
            for k in ("inputLogProb", "rank", "entropy", "kl"):
                c[k] = [back.get(x, x) if isinstance(x, str) else x for x in c[k]]
    return sentences


if __name__ == "__main__":
    sys.exit(main())
