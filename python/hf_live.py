#!/usr/bin/env python3
"""Live HF parity (issue 10): the reference numbers every test run checks the engine against.

One process, CPU only, no network. For every family in BUILDERS and every shape it lists, this
builds a tiny seeded random model with HF's own *ForMaskedLM class, saves it with save_pretrained
in every format in FORMATS, and records what HF computes when the model's own MLM head module is
applied to every hidden state h0..hL (output_hidden_states=True; Kao et al., arXiv 2001.09309),
in float64, from the weights exactly as saved (an F16 or BF16 save is upcast from its rounded
values, so the reference is the model the file holds):

  per example, layer and real position: log p of the input id, the top-k ids and log-probs, and
  HF's own top-1/top-2 gap (the top-1 may swap below a near-tie threshold).

Examples: two single sequences padded in one batch, a sentence pair in the family's own layout
(token types 0/1 where it has them), and a sequence longer than max_position_embeddings allows,
truncated the way HF tokenizers do (keep the first limit-1 tokens and the final special token).
Each model also runs one layer plan with a duplicated layer: the HF side rebuilds the layer
ModuleList along the plan (ALBERT: one application per entry of the group HF would use for it).

With --onnx, the F32 model of each family and shape is also exported with torch.onnx.export
(the legacy TorchScript exporter, dynamo=False) into <name>-onnx/model.onnx.

Writes <out>/<model>-<format>/ folders (config.json, weights, vocab.txt, tokenizer_config.json)
and <out>/manifest.json (format layer-lens-hf-live/1). Usage: hf_live.py --out DIR [--onnx].

To add a family: one more BUILDERS entry (its classes, two shapes, special ids, pair layout and
head), and the test's FAMILIES list gets its name.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.nn as nn
import transformers

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scripts", "device"))
from hf_golden import randomize_weights  # noqa: E402  (same seeded re-initialisation as the GPU fixtures)

FORMAT = "layer-lens-hf-live/1"
TOP_K = 5


@dataclass
class Family:
    model_class: str
    config_class: str
    #: Config kwargs per shape; each becomes its own model (names <family>-s0, <family>-s1, ...).
    shapes: List[Dict[str, Any]]
    bos: int
    eos: int
    pad: int
    #: Random "word" ids come from [first_normal_id, vocab_size): no specials inside sentences.
    first_normal_id: int
    #: "bert": [CLS] A [SEP] B [SEP]; "roberta": <s> A </s></s> B </s>.
    pair_style: str
    token_types: bool
    #: The model's own MLM head module(s), applied to one hidden state.
    head: Callable[[nn.Module, torch.Tensor], torch.Tensor]
    #: Dotted path of the ModuleList a layer plan rebuilds.
    layers: str
    #: How many positions a sequence may use beyond its tokens (RoBERTa: padding_idx + 1 are reserved).
    position_offset: Callable[[Dict[str, Any]], int] = lambda cfg: 0
    #: The module for plan entry i (default: layer i) and the config fields that make HF run the new list.
    plan_module: Callable[[nn.ModuleList, int, Any], nn.Module] = lambda layers, i, cfg: layers[i]
    plan_config: Callable[[int], Dict[str, Any]] = lambda n: {"num_hidden_layers": n}
    #: Layer plan per shape (a duplicated layer), over the model's own layer indices.
    plans: List[List[int]] = field(default_factory=list)


def _distilbert_head(m: nn.Module, h: torch.Tensor) -> torch.Tensor:
    # DistilBertForMaskedLM.forward: vocab_transform -> activation -> vocab_layer_norm -> vocab_projector.
    return m.vocab_projector(m.vocab_layer_norm(m.activation(m.vocab_transform(h))))


def _albert_group(groups: nn.ModuleList, i: int, cfg: Any) -> nn.Module:
    # AlbertTransformer.forward: application i runs group int(i / (num_hidden_layers / num_hidden_groups)).
    return groups[int(i / (cfg.num_hidden_layers / cfg.num_hidden_groups))]


_roberta_offset = lambda cfg: cfg["pad_token_id"] + 1  # noqa: E731
_BERT_SPECIALS = dict(bos=2, eos=3, pad=0, first_normal_id=5)
_ROBERTA_SPECIALS = dict(bos=0, eos=2, pad=1, first_normal_id=4)
_ROBERTA_IDS = dict(pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1, layer_norm_eps=1e-5)


def _roberta_like(model_class: str, config_class: str, vocab: int) -> Family:
    return Family(
        model_class, config_class,
        shapes=[
            dict(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                 max_position_embeddings=40, hidden_act="gelu", **_ROBERTA_IDS),
            dict(vocab_size=vocab + 57, hidden_size=48, num_hidden_layers=3, num_attention_heads=6, intermediate_size=80,
                 max_position_embeddings=24, hidden_act="gelu_new", **_ROBERTA_IDS),
        ],
        **_ROBERTA_SPECIALS, pair_style="roberta", token_types=False,
        head=lambda m, h: m.lm_head(h), layers="roberta.encoder.layer",
        position_offset=_roberta_offset, plans=[[0, 1, 1], [0, 0, 1, 2, 2]],
    )


BUILDERS: Dict[str, Family] = {
    "bert": Family(
        "BertForMaskedLM", "BertConfig",
        shapes=[
            dict(vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                 max_position_embeddings=40, type_vocab_size=2, hidden_act="gelu", pad_token_id=0),
            dict(vocab_size=411, hidden_size=48, num_hidden_layers=3, num_attention_heads=6, intermediate_size=96,
                 max_position_embeddings=20, type_vocab_size=3, hidden_act="gelu_new", layer_norm_eps=1e-7, pad_token_id=0),
        ],
        **_BERT_SPECIALS, pair_style="bert", token_types=True,
        head=lambda m, h: m.cls(h), layers="bert.encoder.layer", plans=[[0, 1, 1], [0, 1, 1, 2, 1]],
    ),
    "roberta": _roberta_like("RobertaForMaskedLM", "RobertaConfig", 350),
    "xlm-roberta": _roberta_like("XLMRobertaForMaskedLM", "XLMRobertaConfig", 380),
    "camembert": _roberta_like("CamembertForMaskedLM", "CamembertConfig", 320),
    "albert": Family(
        "AlbertForMaskedLM", "AlbertConfig",
        shapes=[
            dict(vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                 intermediate_size=64, num_hidden_groups=1, inner_group_num=1, hidden_act="gelu_new",
                 max_position_embeddings=40, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0, bos_token_id=2, eos_token_id=3),
            dict(vocab_size=333, embedding_size=24, hidden_size=40, num_hidden_layers=4, num_attention_heads=5,
                 intermediate_size=72, num_hidden_groups=2, inner_group_num=1, hidden_act="gelu",
                 max_position_embeddings=22, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0, bos_token_id=2, eos_token_id=3),
        ],
        **_BERT_SPECIALS, pair_style="bert", token_types=True,
        head=lambda m, h: m.predictions(h), layers="albert.encoder.albert_layer_groups",
        plan_module=_albert_group, plan_config=lambda n: {"num_hidden_layers": n, "num_hidden_groups": n},
        plans=[[0, 1, 2, 2], [0, 1, 1, 2, 3, 3]],
    ),
    "distilbert": Family(
        "DistilBertForMaskedLM", "DistilBertConfig",
        shapes=[
            dict(vocab_size=320, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=40,
                 sinusoidal_pos_embds=False, activation="gelu", pad_token_id=0),
            dict(vocab_size=290, dim=48, n_layers=3, n_heads=6, hidden_dim=72, max_position_embeddings=21,
                 sinusoidal_pos_embds=False, activation="gelu", pad_token_id=0),
        ],
        **_BERT_SPECIALS, pair_style="bert", token_types=False,
        head=_distilbert_head, layers="distilbert.transformer.layer",
        plan_config=lambda n: {"n_layers": n}, plans=[[0, 1, 1], [0, 1, 2, 0]],
    ),
    "electra": Family(
        "ElectraForMaskedLM", "ElectraConfig",
        shapes=[
            dict(vocab_size=360, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=64, max_position_embeddings=40, type_vocab_size=2, hidden_act="gelu", pad_token_id=0),
            dict(vocab_size=310, embedding_size=40, hidden_size=40, num_hidden_layers=3, num_attention_heads=5,
                 intermediate_size=56, max_position_embeddings=23, type_vocab_size=2, hidden_act="gelu", pad_token_id=0),
        ],
        **_BERT_SPECIALS, pair_style="bert", token_types=True,
        head=lambda m, h: m.generator_lm_head(m.generator_predictions(h)), layers="electra.encoder.layer",
        plans=[[0, 1, 1], [0, 1, 2, 2]],
    ),
}

#: Format name -> (dtype of the saved weights, save_pretrained kwargs, also write pytorch_model.bin).
#: transformers 5 dropped save_pretrained(safe_serialization=False): "bin" is save_pretrained's
#: config plus torch.save(state_dict()) as pytorch_model.bin (every key, tied ones included, as
#: older .bin checkpoints hold them), with the safetensors file removed.
FORMATS: Dict[str, Any] = {
    "f32": (torch.float32, {}, False),
    "f16": (torch.float16, {}, False),
    "bf16": (torch.bfloat16, {}, False),
    "sharded": (torch.float32, dict(max_shard_size="40KB"), False),
    "bin": (torch.float32, {}, True),
}


def examples_for(fam: Family, cfg: Dict[str, Any], seed: int) -> List[Dict[str, Any]]:
    """Four examples of token ids. `ids` is what the tokenizer hands the engine; `hf_ids` what HF
    runs (the long one truncated to the model's positions, keeping its final special token)."""
    g = torch.Generator().manual_seed(seed)
    vocab = cfg["vocab_size"]
    words = lambda n: torch.randint(fam.first_normal_id, vocab, (n,), generator=g).tolist()  # noqa: E731
    b, e = fam.bos, fam.eos
    out = []

    def add(name: str, ids: List[int], types: List[int], batch: int) -> None:
        limit = cfg["max_position_embeddings"] - fam.position_offset(cfg)
        hf_ids, hf_types = (ids, types) if len(ids) <= limit else (ids[: limit - 1] + ids[-1:], types[: limit - 1] + types[-1:])
        out.append(dict(name=name, batch=batch, ids=ids, type_ids=types, hf_ids=hf_ids, hf_type_ids=hf_types))

    a = [b] + words(7) + [e]
    add("a", a, [0] * len(a), 0)
    short = [b] + words(3) + [e]
    add("b", short, [0] * len(short), 0)
    first, second = words(5), words(4)
    if fam.pair_style == "roberta":
        pair = [b] + first + [e, e] + second + [e]
        types = [0] * len(pair)
    else:
        pair = [b] + first + [e] + second + [e]
        types = [0] * (len(first) + 2) + [1] * (len(second) + 1) if fam.token_types else [0] * len(pair)
    add("pair", pair, types, 0)
    long = [b] + words(cfg["max_position_embeddings"] + 3) + [e]
    add("long", long, [0] * len(long), 1)
    return out


def get_path(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def set_path(obj: Any, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    setattr(get_path(obj, ".".join(parents)) if parents else obj, last, value)


def with_plan(fam: Family, model: nn.Module, plan: Optional[List[int]]) -> nn.Module:
    """A shallow copy of the model whose layer list follows the plan (the same module objects)."""
    if plan is None:
        return model
    planned = copy.deepcopy(model)
    layers = get_path(planned, fam.layers)
    set_path(planned, fam.layers, nn.ModuleList([fam.plan_module(layers, i, planned.config) for i in plan]))
    for key, value in fam.plan_config(len(plan)).items():
        setattr(planned.config, key, value)
    return planned


@torch.no_grad()
def reference(fam: Family, model: nn.Module, examples: List[Dict[str, Any]], plan: Optional[List[int]]) -> Dict[str, Any]:
    """Per example: per layer h0..hL, per real position, the head's log-softmax facts, in float64."""
    m = with_plan(fam, model, plan).double().eval()
    results: Dict[str, Any] = {}
    for batch_no in sorted({x["batch"] for x in examples}):
        rows = [x for x in examples if x["batch"] == batch_no]
        seq = max(len(x["hf_ids"]) for x in rows)
        ids = torch.full((len(rows), seq), fam.pad, dtype=torch.long)
        mask = torch.zeros((len(rows), seq), dtype=torch.long)
        types = torch.zeros((len(rows), seq), dtype=torch.long)
        for r, x in enumerate(rows):
            n = len(x["hf_ids"])
            ids[r, :n] = torch.tensor(x["hf_ids"])
            mask[r, :n] = 1
            types[r, :n] = torch.tensor(x["hf_type_ids"])
        kwargs = dict(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        if fam.token_types:
            kwargs["token_type_ids"] = types
        hidden = m(**kwargs).hidden_states
        expected = (len(plan) if plan else model.config.num_hidden_layers if hasattr(model.config, "num_hidden_layers") else model.config.n_layers) + 1
        if len(hidden) != expected:
            raise RuntimeError(f"{fam.model_class}: {len(hidden)} hidden states, expected {expected}")
        for r, x in enumerate(rows):
            n = len(x["hf_ids"])
            idx = torch.tensor(x["hf_ids"])
            layers = []
            for h in hidden:
                logp = torch.log_softmax(fam.head(m, h[r : r + 1, :n]).double()[0], dim=-1)
                top = torch.topk(logp, k=TOP_K, dim=-1)
                layers.append(dict(
                    input_logp=logp[torch.arange(n), idx].tolist(),
                    top_ids=top.indices.tolist(),
                    top_logp=top.values.tolist(),
                    top1_gap=(top.values[:, 0] - top.values[:, 1]).tolist(),
                ))
            results[x["name"]] = layers
    return results


def write_vocab(folder: str, fam: Family, vocab_size: int) -> None:
    """A WordPiece vocab.txt with the family's special ids in place, so our loader accepts the
    folder (the test feeds token ids directly; tokenization is checked by the tokenizer tests)."""
    names = {fam.pad: "[PAD]", fam.bos: "[CLS]", fam.eos: "[SEP]"}
    rest = iter(t for t in ["[UNK]", "[MASK]"])
    tokens = []
    for i in range(vocab_size):
        tokens.append(names.get(i) or (next(rest, None) if i < fam.first_normal_id else None) or f"w{i}")
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(tokens) + "\n")
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"do_lower_case": True}, f)


def export_onnx(fam: Family, model: nn.Module, examples: List[Dict[str, Any]], folder: str) -> Dict[str, Any]:
    """torch.onnx.export (TorchScript exporter) of the F32 model's logits, as Optimum's masked-LM export names them."""
    os.makedirs(folder, exist_ok=True)
    x = examples[0]
    ids = torch.tensor([x["hf_ids"]])
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if fam.token_types:
        inputs["token_type_ids"] = torch.zeros_like(ids)
    names = list(inputs)
    axes = {n: {0: "batch_size", 1: "sequence_length"} for n in names}
    axes["logits"] = {0: "batch_size", 1: "sequence_length"}
    start = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.float().eval(), (dict(inputs),), os.path.join(folder, "model.onnx"), input_names=names,
            output_names=["logits"], dynamic_axes=axes, opset_version=17, dynamo=False, do_constant_folding=True,
        )
    return {"seconds": round(time.time() - start, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--onnx", action="store_true", help="also export each F32 model with torch.onnx.export")
    ap.add_argument("--families", default=",".join(BUILDERS), help="comma list (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    start = time.time()
    manifest: Dict[str, Any] = {
        "format": FORMAT, "transformers_version": transformers.__version__, "torch_version": torch.__version__,
        "top_k": TOP_K, "models": [], "onnx_errors": [],
    }
    for fam_no, name in enumerate(args.families.split(",")):
        fam = BUILDERS[name]
        for shape_no, cfg_kwargs in enumerate(fam.shapes):
            seed = 1000 * (fam_no + 1) + shape_no
            cfg = getattr(transformers, fam.config_class)(**cfg_kwargs)
            cfg._attn_implementation = "eager"
            torch.manual_seed(seed)
            model = getattr(transformers, fam.model_class)(cfg).eval()
            randomize_weights(model, seed)
            examples = examples_for(fam, cfg_kwargs, seed)
            plan = fam.plans[shape_no]
            refs: Dict[Any, Any] = {}
            for fmt, (dtype, save_kwargs, as_bin) in FORMATS.items():
                folder = f"{name}-s{shape_no}-{fmt}"
                path = os.path.join(args.out, folder)
                saved = copy.deepcopy(model).to(dtype)
                saved.save_pretrained(path, **save_kwargs)
                if as_bin:
                    os.remove(os.path.join(path, "model.safetensors"))
                    torch.save(saved.state_dict(), os.path.join(path, "pytorch_model.bin"))
                write_vocab(path, fam, cfg_kwargs["vocab_size"])
                if dtype not in refs:
                    # The reference runs the weights as stored: rounded to the file's dtype, then float64.
                    refs[dtype] = {
                        "plain": reference(fam, saved, examples, None),
                        "plan": reference(fam, saved, examples, plan),
                    }
                for which in ("plain", "plan"):
                    manifest["models"].append(dict(
                        family=name, shape=shape_no, format=fmt, dir=folder, plan=plan if which == "plan" else None,
                        model_type=cfg.model_type, pad=fam.pad, specials=sorted({fam.bos, fam.eos, fam.pad}),
                        examples=[dict(**x, layers=refs[dtype][which][x["name"]]) for x in examples],
                    ))
            if args.onnx:
                folder = f"{name}-s{shape_no}-onnx"
                path = os.path.join(args.out, folder)
                try:
                    info = export_onnx(fam, copy.deepcopy(model), examples, path)
                    cfg.save_pretrained(path)
                    write_vocab(path, fam, cfg_kwargs["vocab_size"])
                    manifest["models"].append(dict(
                        family=name, shape=shape_no, format="onnx", dir=folder, plan=None, model_type=cfg.model_type,
                        pad=fam.pad, specials=sorted({fam.bos, fam.eos, fam.pad}), export=info,
                        examples=[dict(**x, layers=refs[torch.float32]["plain"][x["name"]]) for x in examples],
                    ))
                except Exception as e:  # noqa: BLE001 - recorded; the test fails on it
                    manifest["onnx_errors"].append(f"{folder}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    manifest["seconds"] = round(time.time() - start, 2)
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f)
    print(f"hf_live: {len(manifest['models'])} model runs in {manifest['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
