#!/usr/bin/env python3
"""Sub-layer lens reference (issue 15): the state after each layer's attention block, before its
MLP, read by HF forward hooks on HF's own modules, and the model's MLM head applied to it in
float64.

  post-LN families: the output of the attention's output LayerNorm (BertSelfOutput and its
    RoBERTa/XLM-R/CamemBERT/ELECTRA copies, AlbertAttention, DistilBERT's sa_layer_norm);
  ModernBERT and EuroBERT (pre-norm): the residual stream after attention, i.e. the input of
    mlp_norm / post_attention_layernorm, read by the lens as head(final_norm(x)) like every other
    state;
  DeBERTa-v2 (post-LN): the output of DebertaV2Attention (its output LayerNorm).

One F32 model per family and shape of python/hf_live.py (BUILDERS) plus two ModernBERT cases of
python/hf_modern.py, two EuroBERT cases of python/hf_eurobert.py and two DeBERTa cases of
python/hf_deberta.py, each probed plain and along its duplicated-layer plan (hooks are registered
once per module, so a repeated layer records each of its calls in order).

Writes <out>/<model>/ folders and <out>/manifest.json (format layer-lens-hf-sublayers/1): per
model and example, `layers` (h0..hL) and `sublayers` (after attention of layer 1..L), each per
real position: log p of the input id, the top-k ids and log-probs, and HF's top-1/top-2 gap.
Usage: hf_sublayers.py --out DIR
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hf_deberta  # noqa: E402
import hf_eurobert  # noqa: E402
import hf_live  # noqa: E402
import hf_modern  # noqa: E402

FORMAT = "layer-lens-hf-sublayers/1"
TOP_K = hf_live.TOP_K

#: Per family: the sub-module of one layer-list entry whose output (or, "pre", input) is the
#: state after attention, and how to take the tensor from what it returns.
HOOKS: Dict[str, Tuple[str, str]] = {
    "bert": ("attention.output", "out"),
    "roberta": ("attention.output", "out"),
    "xlm-roberta": ("attention.output", "out"),
    "camembert": ("attention.output", "out"),
    "electra": ("attention.output", "out"),
    "albert": ("albert_layers.0.attention", "out"),
    "distilbert": ("sa_layer_norm", "out"),
    "modernbert": ("mlp_norm", "pre"),
    "eurobert": ("post_attention_layernorm", "pre"),
    "deberta-v2": ("attention", "out"),
}


def hook_attention(layer_list: nn.ModuleList, family: str, into: List[torch.Tensor]) -> List[Any]:
    path, where = HOOKS[family]
    first = lambda x: x if torch.is_tensor(x) else x[0]  # noqa: E731
    handles = []
    for module in {id(m): m for m in layer_list}.values():
        target = hf_live.get_path(module, path)
        if where == "pre":
            handles.append(target.register_forward_pre_hook(lambda mod, inp: into.append(first(inp))))
        else:
            handles.append(target.register_forward_hook(lambda mod, inp, out: into.append(first(out))))
    return handles


def facts(logp: torch.Tensor, idx: torch.Tensor) -> Dict[str, Any]:
    n = idx.shape[0]
    top = torch.topk(logp, k=TOP_K, dim=-1)
    return dict(
        input_logp=logp[torch.arange(n), idx].tolist(),
        top_ids=top.indices.tolist(),
        top_logp=top.values.tolist(),
        top1_gap=(top.values[:, 0] - top.values[:, 1]).tolist(),
    )


@torch.no_grad()
def run_batches(model: nn.Module, layer_list: nn.ModuleList, family: str, head: Callable[[torch.Tensor], torch.Tensor],
                examples: List[Dict[str, Any]], pad: int, token_types: bool, expected_layers: int,
                embeddings: Optional[nn.Module] = None) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for batch_no in sorted({x["batch"] for x in examples}):
        rows = [x for x in examples if x["batch"] == batch_no]
        seq = max(len(x["hf_ids"]) for x in rows)
        ids = torch.full((len(rows), seq), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), seq), dtype=torch.long)
        types = torch.zeros((len(rows), seq), dtype=torch.long)
        for r, x in enumerate(rows):
            n = len(x["hf_ids"])
            ids[r, :n] = torch.tensor(x["hf_ids"])
            mask[r, :n] = 1
            types[r, :n] = torch.tensor(x["hf_type_ids"])
        kwargs = dict(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        if token_types:
            kwargs["token_type_ids"] = types
        attn: List[torch.Tensor] = []
        handles = hook_attention(layer_list, family, attn)
        hooked: List[torch.Tensor] = []
        if embeddings is not None:
            # ModernBERT's last hidden_states entry is already final-normed: read h0..hL by hooks, as hf_modern.py does.
            handles.append(embeddings.register_forward_hook(lambda mod, i, o: hooked.append(o)))
            handles += [l.register_forward_hook(lambda mod, i, o: hooked.append(o if torch.is_tensor(o) else o[0])) for l in {id(l): l for l in layer_list}.values()]
        try:
            hidden = model(**kwargs).hidden_states
        finally:
            for h in handles:
                h.remove()
        if embeddings is not None:
            hidden = hooked
        if len(attn) != expected_layers or len(hidden) != expected_layers + 1:
            raise RuntimeError(f"{family}: {len(attn)} attention states and {len(hidden)} hidden states, expected {expected_layers} and {expected_layers + 1}")
        for r, x in enumerate(rows):
            n = len(x["hf_ids"])
            idx = torch.tensor(x["hf_ids"])
            read = lambda h: facts(torch.log_softmax(head(h[r : r + 1, :n]).double()[0], dim=-1), idx)  # noqa: E731
            out[x["name"]] = dict(layers=[read(h) for h in hidden], sublayers=[read(a) for a in attn])
    return out


def hf_families(root: str) -> List[Dict[str, Any]]:
    models = []
    for fam_no, name in enumerate(hf_live.BUILDERS):
        fam = hf_live.BUILDERS[name]
        for shape_no, cfg_kwargs in enumerate(fam.shapes):
            seed = 1000 * (fam_no + 1) + shape_no
            cfg = getattr(transformers, fam.config_class)(**cfg_kwargs)
            cfg._attn_implementation = "eager"
            torch.manual_seed(seed)
            model = getattr(transformers, fam.model_class)(cfg).eval()
            hf_live.randomize_weights(model, seed)
            folder = f"{name}-s{shape_no}"
            model.save_pretrained(os.path.join(root, folder))
            hf_live.write_vocab(os.path.join(root, folder), fam, cfg_kwargs["vocab_size"])
            examples = hf_live.examples_for(fam, cfg_kwargs, seed)
            for plan in (None, fam.plans[shape_no]):
                m = hf_live.with_plan(fam, model, plan).double().eval()
                n_layers = len(plan) if plan else len(hf_live.get_path(model, fam.layers)) if name != "albert" else cfg.num_hidden_layers
                refs = run_batches(m, hf_live.get_path(m, fam.layers), name, lambda h: fam.head(m, h), examples, fam.pad, fam.token_types, n_layers)
                models.append(dict(family=name, dir=folder, plan=plan, specials=sorted({fam.bos, fam.eos, fam.pad}),
                                   examples=[dict(**x, **refs[x["name"]]) for x in examples]))
    return models


def id_examples(encs: List[Any]) -> List[Dict[str, Any]]:
    return [dict(name=f"m{k}", batch=0, ids=e.ids, type_ids=[0] * len(e.ids), hf_ids=e.ids, hf_type_ids=[0] * len(e.ids))
            for k, e in enumerate(encs)]


def modern_cases(root: str) -> List[Dict[str, Any]]:
    from transformers import ModernBertConfig, ModernBertForMaskedLM
    tok, vocab = hf_modern.tokenizer(hf_modern.WORDS)
    models = []
    for ci, (name, overrides, runs) in enumerate(hf_modern.CASES[:2]):
        overrides = dict(overrides)
        cfg = ModernBertConfig(vocab_size=len(vocab), pad_token_id=vocab["[PAD]"], cls_token_id=vocab["[CLS]"],
                               sep_token_id=vocab["[SEP]"], bos_token_id=vocab["[CLS]"], eos_token_id=vocab["[SEP]"],
                               max_position_embeddings=512, **overrides)
        cfg._attn_implementation = "sdpa"
        model = ModernBertForMaskedLM(cfg)
        hf_modern.randomize(model, 100 + ci)
        model.eval()
        model.save_pretrained(os.path.join(root, name))
        tok.save(os.path.join(root, name, "tokenizer.json"))
        examples = id_examples([tok.encode(i["text"], i["pair"]) if i.get("pair") else tok.encode(i["text"]) for i in runs[0][0]])
        m = model.double().eval()
        head = lambda h: m.decoder(m.head(m.model.final_norm(h)))  # noqa: E731
        for plan in (None, runs[1][1]):
            original, types = m.model.layers, list(m.model.config.layer_types)
            if plan is not None:
                m.model.layers = nn.ModuleList([original[i] for i in plan])
                m.model.config.layer_types = [types[i] for i in plan]
            try:
                refs = run_batches(m, m.model.layers, "modernbert", head, examples, vocab["[PAD]"], False, len(m.model.layers), m.model.embeddings)
            finally:
                m.model.layers, m.model.config.layer_types = original, types
            models.append(dict(family="modernbert", dir=name, plan=plan, specials=[vocab[t] for t in ("[PAD]", "[CLS]", "[SEP]")],
                               examples=[dict(**x, **refs[x["name"]]) for x in examples]))
    return models


def eurobert_cases(root: str) -> List[Dict[str, Any]]:
    from transformers import EuroBertConfig, EuroBertForMaskedLM
    tok = hf_eurobert.tokenizer()
    pad, bos, eos = (tok.token_to_id(t) for t in ("<|pad|>", "<|begin_of_text|>", "<|end_of_text|>"))
    models = []
    for ci, (name, overrides, runs) in enumerate(hf_eurobert.CASES[:2]):
        cfg = EuroBertConfig(vocab_size=tok.get_vocab_size(), pad_token_id=pad, bos_token_id=bos, eos_token_id=eos,
                             mask_token_id=tok.token_to_id("<|mask|>"), max_position_embeddings=512, **overrides)
        cfg._attn_implementation = "sdpa"
        model = EuroBertForMaskedLM(cfg)
        hf_modern.randomize(model, 200 + ci)
        model.eval()
        model.save_pretrained(os.path.join(root, name))
        tok.save(os.path.join(root, name, "tokenizer.json"))
        examples = id_examples([tok.encode(i["text"], i["pair"]) if i.get("pair") else tok.encode(i["text"]) for i in runs[0][0]])
        m = model.double().eval()
        inner = m.model
        head = lambda h: m.lm_head(inner.norm(h))  # noqa: E731
        for plan in (None, runs[1][1]):
            original, count = inner.layers, inner.config.num_hidden_layers
            if plan is not None:
                inner.layers = nn.ModuleList([original[i] for i in plan])
                inner.config.num_hidden_layers = len(plan)  # forward runs layers[:num_hidden_layers]
            try:
                refs = run_batches(m, inner.layers, "eurobert", head, examples, pad, False, len(inner.layers), inner.embed_tokens)
            finally:
                inner.layers, inner.config.num_hidden_layers = original, count
            models.append(dict(family="eurobert", dir=name, plan=plan, specials=sorted({pad, bos, eos}),
                               examples=[dict(**x, **refs[x["name"]]) for x in examples]))
    return models


def deberta_cases(root: str) -> List[Dict[str, Any]]:
    from transformers import DebertaV2Config, DebertaV2ForMaskedLM
    tok, vocab = hf_modern.tokenizer(hf_modern.WORDS)
    models = []
    for ci, (name, overrides, runs) in enumerate(hf_deberta.CASES[:2]):
        cfg = DebertaV2Config(vocab_size=len(vocab), pad_token_id=vocab["[PAD]"], max_position_embeddings=512, type_vocab_size=0, **overrides)
        model = DebertaV2ForMaskedLM(cfg)
        hf_modern.randomize(model, 300 + ci)
        model.eval()
        model.save_pretrained(os.path.join(root, name))
        tok.save(os.path.join(root, name, "tokenizer.json"))
        examples = id_examples([tok.encode(i["text"], i["pair"]) if i.get("pair") else tok.encode(i["text"]) for i in runs[0][0]])
        m = model.double().eval()
        encoder = m.deberta.encoder
        for plan in (None, runs[1][1]):
            original = encoder.layer
            if plan is not None:
                encoder.layer = nn.ModuleList([original[i] for i in plan])
            try:
                refs = run_batches(m, encoder.layer, "deberta-v2", lambda h: hf_deberta.head(m, h), examples, vocab["[PAD]"], False, len(encoder.layer))
            finally:
                encoder.layer = original
            models.append(dict(family="deberta-v2", dir=name, plan=plan, specials=[vocab[t] for t in ("[PAD]", "[CLS]", "[SEP]")],
                               examples=[dict(**x, **refs[x["name"]]) for x in examples]))
    return models


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    start = time.time()
    models = hf_families(args.out) + modern_cases(args.out) + eurobert_cases(args.out) + deberta_cases(args.out)
    manifest = {"format": FORMAT, "transformers_version": transformers.__version__, "torch_version": torch.__version__,
                "top_k": TOP_K, "models": models, "seconds": round(time.time() - start, 2)}
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    print(f"hf_sublayers: {len(models)} model runs in {manifest['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
