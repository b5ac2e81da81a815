#!/usr/bin/env python3
"""Golden fixtures from HF transformers itself (issue 7), run on the GPU machine (CPU is enough).

For each masked-LM family Layer Lens reads, this builds a tiny randomly initialised model with
HF transformers, saves it the way users get it (model.safetensors via save_pretrained, plus a
pytorch_model.bin from torch.save(state_dict)), and records what HF computes when the model's own
MLM head is applied to every hidden state h0..hL (Kao et al., arXiv 2001.09309): per layer and per
real position, the input token's log-prob and rank, the top-5 ids and log-probs, the argmax, the
entropy and the KL(final || layer). The golden numbers are computed in float64 (the float32
weights upcast with model.double()); the float32 run users would do is compared with them and
the difference is recorded too.

Optional checks (step 3 of the issue, and issue 5):
  --deepen-source DIR --deepened DIR --plan "0,1,1"
      a deepened checkpoint written by our TypeScript writer loads in HF with no missing or
      unexpected keys (BertForMaskedLM and BertForSequenceClassification), and HF's outputs on it
      equal HF's outputs on the source with the layer plan applied by hand.
  --finetune-check
      runs python/finetune.py (transformers backend) for a few steps and records whether it finished.

Outputs (all under --out, at most 8 files):
  hf-golden.tar.gz    hf-golden/<family>/{config.json, model.safetensors, pytorch_model.bin,
                      golden.json[, vocab.txt]} for every family
  summary.json        what was checked, per family, and anything that went wrong
  versions.json       python, torch, transformers, safetensors, numpy versions
  deepen-check.json   only with --deepened
  finetune-check.json only with --finetune-check

Needs: torch, transformers (4.4x or 5.x), safetensors. No network. Takes well under a minute.
What it writes is checked by test/unit/golden/hfGolden.test.ts ("fixture is consistent").
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FORMAT = "layer-lens-hf-golden/1"
TOP_K = 5
#: Standard deviation of the re-initialised weights: far above HF's 0.02 so that the per-layer
#: distributions are peaked and differ between layers (near-uniform outputs would prove nothing).
WEIGHT_STD = 0.3
BIAS_STD = 0.1
#: Each file under $OUT must stay below this (the device tool's limit is 16 MB).
MAX_OUT_FILE = 15 * 1024 * 1024


def log(msg: str) -> None:
    print(f"[hf_golden {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------------------------
# Families: the config of each tiny model, its special ids, and how to apply its own MLM head.
# ----------------------------------------------------------------------------------------------


def head_bert(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    # BertForMaskedLM.cls = BertOnlyMLMHead: transform (dense, act, LayerNorm) + decoder (+ bias).
    return model.cls(h)


def head_roberta(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    # RobertaLMHead (also XLM-R): dense, gelu, layer_norm, decoder (+ bias).
    return model.lm_head(h)


def head_albert(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    # AlbertMLMHead: dense H->E, act, LayerNorm(E), decoder E->V (+ bias).
    return model.predictions(h)


def head_distilbert(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    # DistilBertForMaskedLM.forward: vocab_transform -> activation -> vocab_layer_norm -> vocab_projector.
    act = getattr(model, "activation", None)
    if act is None:  # defensive: in case a version stops keeping the activation as a module attribute
        from transformers.activations import get_activation

        act = get_activation(model.config.activation)
    x = model.vocab_transform(h)
    x = act(x)
    x = model.vocab_layer_norm(x)
    return model.vocab_projector(x)


def head_electra(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    # ElectraForMaskedLM (the generator): generator_predictions (dense H->E, gelu, LayerNorm) + generator_lm_head.
    return model.generator_lm_head(model.generator_predictions(h))


@dataclass
class FamilySpec:
    name: str  # fixture folder name, e.g. "bert"
    model_class: str  # transformers class, e.g. "BertForMaskedLM"
    config_class: str
    config: Dict[str, Any]
    seed: int
    bos: int  # [CLS] / <s>
    eos: int  # [SEP] / </s>
    pad: int
    #: Random "word" ids are drawn from [first_normal_id, vocab_size): no specials inside sentences.
    first_normal_id: int
    #: How the pair example is laid out: "bert" ([CLS] A [SEP] B [SEP], types 0/1),
    #: "roberta" (<s> A </s></s> B </s>, no types), "distilbert" ([CLS] A [SEP] B [SEP], no types).
    pair_style: str
    token_types: bool
    head: Callable[[nn.Module, torch.Tensor], torch.Tensor]
    #: Write a WordPiece vocab.txt next to the weights (cheap for BERT-style vocabularies).
    vocab_txt: bool = False
    notes: List[str] = field(default_factory=list)


FAMILIES: List[FamilySpec] = [
    FamilySpec(
        name="bert",
        model_class="BertForMaskedLM",
        config_class="BertConfig",
        config=dict(
            vocab_size=400, hidden_size=48, num_hidden_layers=3, num_attention_heads=4, intermediate_size=96,
            max_position_embeddings=40, type_vocab_size=2, hidden_act="gelu", layer_norm_eps=1e-12,
            pad_token_id=0,
        ),
        seed=101, bos=2, eos=3, pad=0, first_normal_id=5, pair_style="bert", token_types=True,
        head=head_bert, vocab_txt=True,
    ),
    FamilySpec(
        name="roberta",
        model_class="RobertaForMaskedLM",
        config_class="RobertaConfig",
        config=dict(
            vocab_size=350, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
            max_position_embeddings=40, type_vocab_size=1, hidden_act="gelu", layer_norm_eps=1e-5,
            pad_token_id=1, bos_token_id=0, eos_token_id=2,
        ),
        seed=102, bos=0, eos=2, pad=1, first_normal_id=4, pair_style="roberta", token_types=False,
        head=head_roberta,
        notes=["positions are computed by HF from input_ids: padding_idx + 1 + p for real tokens, padding_idx for pads"],
    ),
    FamilySpec(
        name="xlm-roberta",
        model_class="XLMRobertaForMaskedLM",
        config_class="XLMRobertaConfig",
        config=dict(
            vocab_size=500, hidden_size=40, num_hidden_layers=3, num_attention_heads=4, intermediate_size=80,
            max_position_embeddings=40, type_vocab_size=1, hidden_act="gelu", layer_norm_eps=1e-5,
            pad_token_id=1, bos_token_id=0, eos_token_id=2,
        ),
        seed=103, bos=0, eos=2, pad=1, first_normal_id=4, pair_style="roberta", token_types=False,
        head=head_roberta,
    ),
    FamilySpec(
        name="albert",
        model_class="AlbertForMaskedLM",
        config_class="AlbertConfig",
        config=dict(
            vocab_size=300, embedding_size=16, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
            intermediate_size=64, num_hidden_groups=1, inner_group_num=1, hidden_act="gelu_new",
            max_position_embeddings=40, type_vocab_size=2, layer_norm_eps=1e-12,
            pad_token_id=0, bos_token_id=2, eos_token_id=3,
        ),
        seed=104, bos=2, eos=3, pad=0, first_normal_id=5, pair_style="bert", token_types=True,
        head=head_albert,
        notes=["one shared layer group applied num_hidden_layers times; E=16 != H=32 (embedding_hidden_mapping_in)"],
    ),
    FamilySpec(
        name="distilbert",
        model_class="DistilBertForMaskedLM",
        config_class="DistilBertConfig",
        config=dict(
            vocab_size=320, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=40,
            sinusoidal_pos_embds=False, activation="gelu", pad_token_id=0,
        ),
        seed=105, bos=2, eos=3, pad=0, first_normal_id=5, pair_style="distilbert", token_types=False,
        head=head_distilbert, vocab_txt=True,
    ),
    FamilySpec(
        name="electra",
        model_class="ElectraForMaskedLM",
        config_class="ElectraConfig",
        config=dict(
            vocab_size=360, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64, max_position_embeddings=40, type_vocab_size=2, hidden_act="gelu",
            layer_norm_eps=1e-12, pad_token_id=0,
        ),
        seed=106, bos=2, eos=3, pad=0, first_normal_id=5, pair_style="bert", token_types=True,
        head=head_electra, vocab_txt=True,
        notes=["the generator (the masked LM); E=16 != H=32 so embeddings_project is present"],
    ),
]


# ----------------------------------------------------------------------------------------------
# Pure helpers (unit-checked locally with a fake model).
# ----------------------------------------------------------------------------------------------


def r7(x: float) -> float:
    """Rounds to 7 significant digits, for compact JSON. Refuses NaN/inf: they would hide a bug."""
    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        raise ValueError(f"non-finite value {x} in golden output")
    return float(f"{x:.7g}")


@dataclass
class Example:
    name: str
    ids: List[int]  # real tokens only, no padding
    type_ids: Optional[List[int]]  # None for families without token types
    description: str


def build_examples(spec: FamilySpec, vocab_size: int) -> List[Example]:
    """Three fixed examples from token ids, deterministic from the family's seed.

    (a) 9 tokens; (b) 5 tokens, padded to 9 in the same batch as (a); (c) a sentence pair of 12
    tokens in the family's own pair layout (token types 0/1 where the family has them)."""
    g = torch.Generator().manual_seed(spec.seed * 1000 + 7)

    def words(n: int) -> List[int]:
        return torch.randint(spec.first_normal_id, vocab_size, (n,), generator=g).tolist()

    b, e = spec.bos, spec.eos
    a_ids = [b] + words(7) + [e]
    b_ids = [b] + words(3) + [e]
    first = words(5)
    if spec.pair_style == "roberta":
        second = words(3)
        c_ids = [b] + first + [e, e] + second + [e]  # <s> A </s></s> B </s>
        c_types = None
    else:
        second = words(4)
        c_ids = [b] + first + [e] + second + [e]  # [CLS] A [SEP] B [SEP]
        c_types = [0] * (len(first) + 2) + [1] * (len(second) + 1) if spec.token_types else None
    zeros = lambda ids: [0] * len(ids) if spec.token_types else None  # noqa: E731
    return [
        Example("a", a_ids, zeros(a_ids), "single sequence, 9 tokens"),
        Example("b", b_ids, zeros(b_ids), "single sequence, 5 tokens, padded to 9 in a batch with (a)"),
        Example(
            "c",
            c_ids,
            c_types if c_types is not None else zeros(c_ids),
            "sentence pair, 12 tokens" + (", token types 0/1" if spec.token_types else ", one token type"),
        ),
    ]


@dataclass
class Batch:
    examples: List[Example]
    input_ids: torch.Tensor  # [B, S] int64, padded with the pad id
    attention_mask: torch.Tensor  # [B, S] int64, 0 on pads
    token_type_ids: Optional[torch.Tensor]  # [B, S] int64 or None

    def to_json(self) -> Dict[str, Any]:
        return {
            "examples": [e.name for e in self.examples],
            "seq": int(self.input_ids.shape[1]),
            "input_ids": self.input_ids.tolist(),
            "attention_mask": self.attention_mask.tolist(),
            "token_type_ids": None if self.token_type_ids is None else self.token_type_ids.tolist(),
        }


def make_batch(examples: Sequence[Example], pad_id: int, with_types: bool) -> Batch:
    """Right-pads the examples to the longest one; pads get pad_id, mask 0 and token type 0."""
    seq = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), seq), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), seq), dtype=torch.long)
    types = torch.zeros((len(examples), seq), dtype=torch.long) if with_types else None
    for i, e in enumerate(examples):
        n = len(e.ids)
        ids[i, :n] = torch.tensor(e.ids)
        mask[i, :n] = 1
        if types is not None and e.type_ids is not None:
            types[i, :n] = torch.tensor(e.type_ids)
    return Batch(list(examples), ids, mask, types)


def batches_for(spec: FamilySpec, examples: List[Example]) -> List[Batch]:
    """(a) and (b) share a batch (so (b) is padded), (c) runs alone."""
    return [
        make_batch(examples[:2], spec.pad, spec.token_types),
        make_batch(examples[2:], spec.pad, spec.token_types),
    ]


def roberta_position_ids(input_ids: torch.Tensor, padding_idx: int) -> torch.Tensor:
    """What HF's create_position_ids_from_input_ids computes (for the record only: HF computes it itself)."""
    mask = input_ids.ne(padding_idx).long()
    return torch.cumsum(mask, dim=1) * mask + padding_idx


def layer_stats(logp: torch.Tensor, final_logp: torch.Tensor, ids: Sequence[int], k: int = TOP_K) -> Dict[str, list]:
    """Per-position facts for one layer. logp, final_logp: [n, V] log-probs (float64) of n real positions.

    input_logp: log-prob of the input token; rank: 1 + how many ids score strictly higher;
    rank_gap: distance from the input's log-prob to the nearest other id's (ranks may swap below it);
    top_ids/top_logp: the k best; argmax; top1_gap: best minus second best;
    entropy: -sum p log p; kl: KL(final || this layer) = sum p_final (log p_final - log p)."""
    n, vocab = logp.shape
    idx = torch.tensor(list(ids), dtype=torch.long)
    inp = logp[torch.arange(n), idx]  # [n]
    rank = (logp > inp[:, None]).sum(dim=1) + 1
    others = (logp - inp[:, None]).abs()
    others[torch.arange(n), idx] = float("inf")
    rank_gap = others.min(dim=1).values
    top = torch.topk(logp, k=min(max(k, 2), vocab), dim=1)
    entropy = -(logp.exp() * logp).sum(dim=1)
    kl = (final_logp.exp() * (final_logp - logp)).sum(dim=1)
    return {
        "input_logp": [r7(v) for v in inp.tolist()],
        "rank": [int(v) for v in rank.tolist()],
        "rank_gap": [r7(v) for v in rank_gap.tolist()],
        "top_ids": [[int(v) for v in row[:k]] for row in top.indices.tolist()],
        "top_logp": [[r7(v) for v in row[:k]] for row in top.values.tolist()],
        "argmax": [int(row[0]) for row in top.indices.tolist()],
        "top1_gap": [r7(row[0] - row[1]) for row in top.values.tolist()],
        "entropy": [r7(v) for v in entropy.tolist()],
        "kl": [r7(v) for v in kl.tolist()],
    }


def call_model(model: nn.Module, **kwargs: Any):
    """model(**kwargs) without gradients; drops return_dict if a version no longer takes it."""
    with torch.no_grad():
        try:
            return model(**kwargs)
        except TypeError as e:
            if "return_dict" not in str(e) or "return_dict" not in kwargs:
                raise
            kwargs.pop("return_dict")
            return model(**kwargs)


def forward_hidden_states(model: nn.Module, spec: FamilySpec, batch: Batch):
    """Runs the HF model with output_hidden_states=True; returns (hidden_states tuple, logits)."""
    kwargs: Dict[str, Any] = dict(
        input_ids=batch.input_ids,
        attention_mask=batch.attention_mask,
        output_hidden_states=True,
        return_dict=True,
    )
    if spec.token_types and batch.token_type_ids is not None:
        kwargs["token_type_ids"] = batch.token_type_ids
    # No position_ids: HF computes them (RoBERTa-family from input_ids), which is what we check against.
    out = call_model(model, **kwargs)
    hidden = out.hidden_states if hasattr(out, "hidden_states") else out[1]
    logits = out.logits if hasattr(out, "logits") else out[0]
    return tuple(hidden), logits


def per_layer_logp(model: nn.Module, spec: FamilySpec, batch: Batch):
    """Applies the model's own head to every hidden state: returns ([L+1] x [B, S, V] log-probs, self-check).

    The self-check is max |head(h_L) - model logits|: it proves the head function is the one the
    model itself uses (it must be ~0)."""
    hidden, logits = forward_hidden_states(model, spec, batch)
    with torch.no_grad():
        layer_logits = [spec.head(model, h) for h in hidden]
        self_check = float((layer_logits[-1] - logits).abs().max())
        return [torch.log_softmax(x, dim=-1) for x in layer_logits], self_check


def golden_for_examples(model64: nn.Module, model32: nn.Module, spec: FamilySpec, batches: List[Batch]):
    """Golden per-example, per-layer statistics from the float64 model; plus float32-vs-float64 and
    head self-check figures."""
    examples_json = []
    compare = {"max_abs_input_logp": 0.0, "max_abs_top_logp": 0.0, "argmax_disagreements": 0, "positions": 0}
    self_checks = []
    for bi, batch in enumerate(batches):
        lp64, sc64 = per_layer_logp(model64, spec, batch)
        lp32, sc32 = per_layer_logp(model32, spec, batch)
        self_checks += [sc64, sc32]
        for row, ex in enumerate(batch.examples):
            n = len(ex.ids)
            final = lp64[-1][row, :n].double()
            layers = []
            for l in range(len(lp64)):
                a = lp64[l][row, :n].double()
                layers.append(layer_stats(a, final, ex.ids))
                # float32 (what users run) against float64 (the golden numbers)
                b = lp32[l][row, :n].double()
                idx = torch.tensor(ex.ids)
                compare["max_abs_input_logp"] = max(
                    compare["max_abs_input_logp"], float((a[torch.arange(n), idx] - b[torch.arange(n), idx]).abs().max())
                )
                compare["max_abs_top_logp"] = max(
                    compare["max_abs_top_logp"],
                    float((torch.topk(a, TOP_K, dim=1).values - torch.topk(b, TOP_K, dim=1).values).abs().max()),
                )
                compare["argmax_disagreements"] += int((a.argmax(dim=1) != b.argmax(dim=1)).sum())
                compare["positions"] += n
            positions = None
            if spec.pair_style == "roberta":
                positions = roberta_position_ids(batch.input_ids[row : row + 1], spec.pad)[0].tolist()
            examples_json.append(
                {
                    "name": ex.name,
                    "description": ex.description,
                    "batch": bi,
                    "row": row,
                    "input_ids": ex.ids,
                    "token_type_ids": ex.type_ids,
                    "attention_mask": [1] * n,
                    # Not passed to HF (it computes them); recorded for RoBERTa-family for reference only.
                    "position_ids": None,
                    "position_ids_hf": positions,
                    "layers": layers,
                }
            )
    compare["max_abs_input_logp"] = r7(compare["max_abs_input_logp"])
    compare["max_abs_top_logp"] = r7(compare["max_abs_top_logp"])
    return examples_json, compare, max(self_checks)


def randomize_weights(model: nn.Module, seed: int, std: float = WEIGHT_STD, bias_std: float = BIAS_STD) -> Dict[str, int]:
    """Re-initialises every parameter in place from a seeded generator: LayerNorm weights 1 + 0.1 N,
    LayerNorm biases 0.1 N, other matrices std * N, other vectors bias_std * N.

    named_parameters() yields a shared (tied) parameter once and the copy is in place, so the
    decoder/word-embedding tying survives."""
    g = torch.Generator().manual_seed(seed)
    ln_weights, ln_biases = set(), set()
    for m in model.modules():
        if isinstance(m, nn.LayerNorm) or type(m).__name__.endswith("LayerNorm"):
            if getattr(m, "weight", None) is not None:
                ln_weights.add(id(m.weight))
            if getattr(m, "bias", None) is not None:
                ln_biases.add(id(m.bias))
    counts = {"layernorm_weight": 0, "layernorm_bias": 0, "matrix": 0, "vector": 0}
    with torch.no_grad():
        for _, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g, dtype=torch.float32).to(p.dtype)
            if id(p) in ln_weights:
                p.copy_(1 + 0.1 * noise)
                counts["layernorm_weight"] += 1
            elif id(p) in ln_biases:
                p.copy_(0.1 * noise)
                counts["layernorm_bias"] += 1
            elif p.dim() >= 2:
                p.copy_(std * noise)
                counts["matrix"] += 1
            else:
                p.copy_(bias_std * noise)
                counts["vector"] += 1
    return counts


def decoder_is_tied(model: nn.Module) -> Optional[bool]:
    try:
        out_emb = model.get_output_embeddings()
        in_emb = model.get_input_embeddings()
        return bool(out_emb.weight.data_ptr() == in_emb.weight.data_ptr())
    except Exception:  # noqa: BLE001 - informational only
        return None


def wordpiece_vocab(vocab_size: int, pad: int, bos: int, eos: int) -> List[str]:
    """A WordPiece vocab.txt of exactly vocab_size lines with [PAD]/[CLS]/[SEP] at the model's ids."""
    tokens: List[Optional[str]] = [None] * vocab_size
    tokens[pad], tokens[bos], tokens[eos] = "[PAD]", "[CLS]", "[SEP]"
    rest = ["[UNK]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz") + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
    i = 0
    for slot in range(vocab_size):
        if tokens[slot] is None:
            tokens[slot] = rest[i] if i < len(rest) else f"w{slot}"
            i += 1
    return [t for t in tokens if t is not None]


def write_json(path: str, obj: Any, compact: bool = True) -> None:
    with open(path, "w", encoding="utf-8") as f:
        if compact:
            json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        else:
            json.dump(obj, f, indent=2, allow_nan=False)
        f.write("\n")


def parse_plan(text: str) -> List[int]:
    """"0,1,1" or "0-2,2" (inclusive ranges), as Layer Lens prints plans."""
    plan: List[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            plan += list(range(lo, hi + 1)) if lo <= hi else list(range(lo, hi - 1, -1))
        else:
            plan.append(int(part))
    if not plan:
        raise ValueError(f"empty plan {text!r}")
    return plan


# ----------------------------------------------------------------------------------------------
# HF side: build, save, compute.
# ----------------------------------------------------------------------------------------------


def build_model(spec: FamilySpec):
    import transformers

    config_cls = getattr(transformers, spec.config_class)
    model_cls = getattr(transformers, spec.model_class)
    config = config_cls(**spec.config)
    try:  # eager attention: the plain softmax(QK^T)V path, identical in float32 and float64
        config._attn_implementation = "eager"
    except Exception:  # noqa: BLE001
        pass
    torch.manual_seed(spec.seed)
    model = model_cls(config)
    randomize_weights(model, spec.seed)
    try:
        model.tie_weights()  # no-op when tying already holds; re-ties if a version unties on re-init
    except Exception:  # noqa: BLE001
        pass
    model = model.float().eval()
    return model


def tensor_list_safetensors(path: str) -> Dict[str, Any]:
    from safetensors import safe_open

    out = {}
    with safe_open(path, framework="pt") as f:
        for k in sorted(f.keys()):
            t = f.get_slice(k)
            out[k] = {"dtype": str(t.get_dtype()), "shape": list(t.get_shape())}
    return out


def load_info_json(info: Any) -> Dict[str, Any]:
    """output_loading_info as JSON: every field a sorted list of strings."""
    out: Dict[str, Any] = {}
    for k, v in dict(info).items():
        try:
            out[k] = sorted(str(x) for x in v)
        except TypeError:
            out[k] = str(v)
    return out


def from_pretrained(cls, path: str, **kwargs):
    """cls.from_pretrained with eager attention where the version supports the argument."""
    try:
        return cls.from_pretrained(path, attn_implementation="eager", **kwargs)
    except TypeError:
        return cls.from_pretrained(path, **kwargs)


def reload_check(spec: FamilySpec, model: nn.Module, folder: str, weights_file: str, batch: Batch) -> Dict[str, Any]:
    """Loads `weights_file` back with HF from a folder holding only config.json and that file, and
    compares its logits with the model that was saved (float32)."""
    import transformers

    model_cls = getattr(transformers, spec.model_class)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(folder, "config.json"), tmp)
        shutil.copy(os.path.join(folder, weights_file), tmp)
        loaded, info = from_pretrained(model_cls, tmp, output_loading_info=True)
        loaded = loaded.float().eval()
        _, a = forward_hidden_states(model, spec, batch)
        _, b = forward_hidden_states(loaded, spec, batch)
        return {"max_abs_logits": r7(float((a - b).abs().max())), "loading_info": load_info_json(info)}


def run_family(spec: FamilySpec, fixtures_dir: str) -> Dict[str, Any]:
    import transformers

    t0 = time.time()
    model = build_model(spec)
    cfg = model.config
    folder = os.path.join(fixtures_dir, spec.name)
    os.makedirs(folder, exist_ok=True)

    # 1. Save as users get it: save_pretrained (safetensors; transformers 5 has no other format) and a
    #    pytorch_model.bin written by torch.save(state_dict()) like pre-safetensors HF did.
    model.save_pretrained(folder)
    state = model.state_dict()
    torch.save(state, os.path.join(folder, "pytorch_model.bin"))
    for extra in ("generation_config.json",):  # not part of an encoder checkpoint; keep the folder small
        if os.path.exists(os.path.join(folder, extra)):
            os.remove(os.path.join(folder, extra))
    if spec.vocab_txt:
        with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(wordpiece_vocab(cfg.vocab_size, spec.pad, spec.bos, spec.eos)) + "\n")

    # 2. Inputs and golden numbers (float64), with the float32 run compared to them.
    expected_layers = getattr(cfg, "num_hidden_layers", None)
    examples = build_examples(spec, cfg.vocab_size)
    batches = batches_for(spec, examples)
    model64 = copy.deepcopy(model).double().eval()
    examples_json, f32_vs_f64, self_check = golden_for_examples(model64, model, spec, batches)
    if expected_layers is not None and len(examples_json[0]["layers"]) != expected_layers + 1:
        raise RuntimeError(f"{spec.name}: {len(examples_json[0]['layers'])} hidden states for {expected_layers} layers")
    if self_check > 1e-4:
        raise RuntimeError(f"{spec.name}: head(h_L) differs from the model's logits by {self_check}: wrong head function")

    # 3. The saved files, read back by HF, give the same logits (proves what we ship is what HF runs).
    reload = {}
    for wf in ("model.safetensors", "pytorch_model.bin"):
        try:
            reload[wf] = reload_check(spec, model, folder, wf, batches[0])
        except Exception as e:  # noqa: BLE001 - recorded, not fatal
            reload[wf] = {"error": f"{type(e).__name__}: {e}"}

    golden = {
        "format": FORMAT,
        "family": spec.name,
        "model_type": cfg.model_type,
        "model_class": spec.model_class,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "seed": spec.seed,
        "init": {"weight_std": WEIGHT_STD, "bias_std": BIAS_STD, "layernorm": "weight 1+0.1N, bias 0.1N"},
        "config_args": spec.config,
        "attn_implementation": getattr(cfg, "_attn_implementation", None),
        "num_layers": len(examples_json[0]["layers"]) - 1,
        "vocab_size": cfg.vocab_size,
        "special_ids": {"bos": spec.bos, "eos": spec.eos, "pad": spec.pad},
        "token_types": spec.token_types,
        "pair_style": spec.pair_style,
        "notes": spec.notes,
        "head": spec.head.__name__,
        "decoder_tied": decoder_is_tied(model),
        "golden_dtype": "float64",
        "top_k": TOP_K,
        "float32_vs_float64": f32_vs_f64,
        "head_self_check_max_abs": r7(self_check),
        "reload_check": reload,
        "files": {
            "model.safetensors": tensor_list_safetensors(os.path.join(folder, "model.safetensors")),
            "pytorch_model.bin": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)} for k, v in state.items()},
        },
        "batches": [b.to_json() for b in batches],
        "examples": examples_json,
    }
    write_json(os.path.join(folder, "golden.json"), golden)
    summary = {
        "ok": True,
        "seconds": round(time.time() - t0, 2),
        "model_type": cfg.model_type,
        "layers": golden["num_layers"],
        "decoder_tied": golden["decoder_tied"],
        "attn_implementation": golden["attn_implementation"],
        "float32_vs_float64": f32_vs_f64,
        "head_self_check_max_abs": golden["head_self_check_max_abs"],
        "reload_check": reload,
        "files": sorted(os.listdir(folder)),
        "bytes": {f: os.path.getsize(os.path.join(folder, f)) for f in sorted(os.listdir(folder))},
    }
    log(f"{spec.name}: ok in {summary['seconds']}s; f32 vs f64 {f32_vs_f64}; self-check {self_check:.2e}")
    return summary


# ----------------------------------------------------------------------------------------------
# Optional: deepened checkpoint written by our TypeScript writer (issue 7 step 3, issue 5).
# ----------------------------------------------------------------------------------------------


def read_vocab_ids(folder: str) -> Dict[str, int]:
    path = os.path.join(folder, "vocab.txt")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n"): i for i, line in enumerate(f)}


def manual_layers(src: nn.Module, plan: List[int], input_ids: torch.Tensor, token_type_ids: torch.Tensor):
    """Source embeddings, then source encoder.layer[i] for i in plan, called one by one (no padding,
    so no attention mask is needed). Returns the list of hidden states h0..h_len(plan)."""
    with torch.no_grad():
        h = src.bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        states = [h]
        for i in plan:
            out = src.bert.encoder.layer[i](h)
            h = out[0] if isinstance(out, (tuple, list)) else out
            states.append(h)
    return states


def deepen_check(source_dir: str, deepened_dir: str, plan: List[int]) -> Dict[str, Any]:
    from transformers import BertForMaskedLM, BertForSequenceClassification

    res: Dict[str, Any] = {"plan": plan, "source": source_dir, "deepened": deepened_dir}
    src, src_info = from_pretrained(BertForMaskedLM, source_dir, output_loading_info=True)
    res["source_loading_info"] = load_info_json(src_info)
    deep, deep_info = from_pretrained(BertForMaskedLM, deepened_dir, output_loading_info=True)
    res["mlm_loading_info"] = load_info_json(deep_info)
    mlm = res["mlm_loading_info"]
    res["mlm_ok"] = not mlm.get("missing_keys") and not mlm.get("unexpected_keys") and not mlm.get("mismatched_keys")
    clf, clf_info = from_pretrained(BertForSequenceClassification, deepened_dir, output_loading_info=True, num_labels=2)
    clf_json = load_info_json(clf_info)
    res["classifier_loading_info"] = clf_json
    # A masked-LM checkpoint has no classifier (and often no pooler): those may be missing; its MLM
    # head (cls.*) is expected to be unexpected for the classifier. Anything else is a real problem.
    bad_missing = [k for k in clf_json.get("missing_keys", []) if not k.startswith(("classifier.", "bert.pooler."))]
    bad_unexpected = [k for k in clf_json.get("unexpected_keys", []) if not k.startswith("cls.")]
    res["classifier_missing_other_than_classifier_or_pooler"] = bad_missing
    res["classifier_unexpected_other_than_mlm_head"] = bad_unexpected
    res["classifier_ok"] = not bad_missing and not bad_unexpected and not clf_json.get("mismatched_keys")
    res["config_num_hidden_layers"] = deep.config.num_hidden_layers
    res["config_layers_ok"] = deep.config.num_hidden_layers == len(plan)
    sdiff = {}
    s_cfg, d_cfg = src.config.to_dict(), deep.config.to_dict()
    for k in sorted(set(s_cfg) | set(d_cfg)):
        if s_cfg.get(k) != d_cfg.get(k):
            sdiff[k] = [s_cfg.get(k), d_cfg.get(k)]
    res["config_diff_source_vs_deepened"] = sdiff

    # Inputs: ids from the source vocabulary, [CLS]/[SEP] from its vocab.txt when there is one.
    vocab = read_vocab_ids(source_dir)
    cls_id, sep_id, pad_id = vocab.get("[CLS]", 2), vocab.get("[SEP]", 3), src.config.pad_token_id or 0
    V = src.config.vocab_size
    g = torch.Generator().manual_seed(77)
    rnd = lambda n: torch.randint(5, V, (n,), generator=g).tolist()  # noqa: E731
    a = [cls_id] + rnd(4) + [sep_id] + rnd(3) + [sep_id]
    b = [cls_id] + rnd(4) + [sep_id]
    ids = torch.full((2, len(a)), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    types = torch.zeros_like(ids)
    ids[0], mask[0] = torch.tensor(a), 1
    types[0, 6:] = 1
    ids[1, : len(b)], mask[1, : len(b)] = torch.tensor(b), 1

    src64, deep64 = src.double().eval(), deep.double().eval()
    inputs = dict(input_ids=ids, attention_mask=mask, token_type_ids=types, output_hidden_states=True, return_dict=True)
    d_out = call_model(deep64, **inputs)
    # (1) HF runs the plan: the source's own layer modules, in plan order, inside HF's own forward
    #     (so padding and the attention mask are handled by HF exactly as for the deepened model).
    by_hand = copy.deepcopy(src64)
    by_hand.bert.encoder.layer = nn.ModuleList([by_hand.bert.encoder.layer[i] for i in plan])
    by_hand.config.num_hidden_layers = len(plan)
    m_out = call_model(by_hand, **inputs)
    real = mask.bool()
    hs = [float((x[real] - y[real]).abs().max()) for x, y in zip(d_out.hidden_states, m_out.hidden_states)]
    res["hidden_states_count"] = [len(d_out.hidden_states), len(m_out.hidden_states)]
    res["plan_in_hf_forward_max_abs_hidden"] = hs
    res["plan_in_hf_forward_max_abs_logits"] = float((d_out.logits[real] - m_out.logits[real]).abs().max())
    # (2) Fully by hand: embeddings, then encoder.layer[i] called one by one (row 0 only, no padding).
    try:
        states = manual_layers(src64, plan, ids[:1], types[:1])
        with torch.no_grad():
            logits = src64.cls(states[-1])
        res["layer_by_layer_max_abs_hidden"] = [float((x[0] - y[0]).abs().max()) for x, y in zip(d_out.hidden_states, states)]
        res["layer_by_layer_max_abs_logits"] = float((d_out.logits[0] - logits[0]).abs().max())
    except Exception as e:  # noqa: BLE001 - the layer call signature varies between versions
        res["layer_by_layer_error"] = f"{type(e).__name__}: {e}"
    # The classifier runs on it too.
    with torch.no_grad():
        c = clf.eval()(input_ids=ids, attention_mask=mask, token_type_ids=types)
    res["classifier_logits_shape"] = list(c.logits.shape)
    tol = 1e-9
    res["outputs_equal"] = max(hs + [res["plan_in_hf_forward_max_abs_logits"]]) <= tol and all(
        v <= tol for v in res.get("layer_by_layer_max_abs_hidden", [0.0])
    )
    res["ok"] = bool(res["mlm_ok"] and res["classifier_ok"] and res["config_layers_ok"] and res["outputs_equal"])
    return res


# ----------------------------------------------------------------------------------------------
# Optional: a very short transformers-backend fine-tune with python/finetune.py (issue 5).
# ----------------------------------------------------------------------------------------------


def write_finetune_data(folder: str, model_dir: str) -> str:
    """A tiny learnable 2-class CSV (text,label) from whole-word tokens of the model's vocab.txt."""
    vocab = [t for t in read_vocab_ids(model_dir) if t.isalpha() and not t.startswith("[")] or list("abcdefgh")
    half = max(1, len(vocab) // 2)
    g = torch.Generator().manual_seed(5)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "train.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("text,label\n")
        for i in range(64):
            label = i % 2
            pool = vocab[:half] if label == 0 else vocab[half:] or vocab
            words = [pool[j % len(pool)] for j in torch.randint(0, 10_000, (6,), generator=g).tolist()]
            f.write(f"{' '.join(words)},{label}\n")
    shutil.copy(path, os.path.join(folder, "dev.csv"))
    return path


def finetune_check(model_dir: str, argv_template: Optional[str], work: str, timeout: int) -> Dict[str, Any]:
    script = os.path.join(ROOT, "python", "finetune.py")
    if not os.path.exists(script):
        return {"ran": False, "reason": "python/finetune.py does not exist"}
    data = write_finetune_data(os.path.join(work, "ft-data"), model_dir)
    out_dir = os.path.join(work, "ft-out")
    fill = {"python": sys.executable, "script": script, "model": model_dir, "data": data,
            "dev": os.path.join(os.path.dirname(data), "dev.csv"), "out": out_dir}
    template = json.loads(argv_template) if argv_template else [
        "{python}", "{script}", "--backend", "transformers", "--model={model}", "--data", "{data}",
        "--eval-data", "{dev}", "--out", "{out}", "--max-steps", "5", "--batch-size", "8", "--threads", "4",
    ]
    argv = [a.format(**fill) for a in template]
    res: Dict[str, Any] = {"ran": True, "argv": argv, "model": model_dir}
    try:
        h = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, timeout=60)
        res["help"] = (h.stdout + h.stderr)[-3000:]
    except Exception as e:  # noqa: BLE001
        res["help"] = f"{type(e).__name__}: {e}"
    t0 = time.time()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        res.update(rc=p.returncode, output_tail=(p.stdout + p.stderr)[-6000:])
    except subprocess.TimeoutExpired as e:
        res.update(rc=None, error=f"timed out after {timeout}s", output_tail=str(e.output or "")[-6000:])
    res["seconds"] = round(time.time() - t0, 1)
    results = {}
    if os.path.isdir(out_dir):
        for dirpath, _, files in os.walk(out_dir):
            for f in files:
                if f.endswith(".json"):
                    p_ = os.path.join(dirpath, f)
                    try:
                        with open(p_, encoding="utf-8") as fh:
                            results[os.path.relpath(p_, out_dir)] = json.load(fh)
                    except Exception:  # noqa: BLE001
                        results[os.path.relpath(p_, out_dir)] = "(not JSON)"
    res["results_json"] = results
    res["completed"] = res.get("rc") == 0
    return res


# ----------------------------------------------------------------------------------------------


def versions() -> Dict[str, Any]:
    v: Dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(), "torch": torch.__version__}
    for mod in ("transformers", "safetensors", "numpy", "tokenizers", "accelerate"):
        try:
            v[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001
            v[mod] = None
    return v


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.environ.get("OUT", "hf-golden-out"), help="output folder (default $OUT)")
    ap.add_argument("--only", default="", help="comma-separated family names (default: all)")
    ap.add_argument("--deepen-source", help="source tiny BERT folder the deepened copy was written from")
    ap.add_argument("--deepened", help="deepened folder written by the TypeScript deepen writer")
    ap.add_argument("--plan", help='layer plan used for --deepened, e.g. "0,1,1" (default: plan.txt next to it)')
    ap.add_argument("--finetune-check", action="store_true", help="run python/finetune.py for a few steps")
    ap.add_argument("--finetune-model", help="model folder to fine-tune (default: --deepened, else the golden bert)")
    ap.add_argument("--finetune-argv", help="JSON list; placeholders {python} {script} {model} {data} {dev} {out}")
    ap.add_argument("--finetune-timeout", type=int, default=90)
    args = ap.parse_args(argv)

    t0 = time.time()
    torch.set_num_threads(min(8, os.cpu_count() or 1))
    os.makedirs(args.out, exist_ok=True)
    ver = versions()
    write_json(os.path.join(args.out, "versions.json"), ver, compact=False)
    log(f"versions: {ver}")

    work = tempfile.mkdtemp(prefix="hf-golden-")
    fixtures = os.path.join(work, "hf-golden")
    os.makedirs(fixtures)
    only = {s for s in args.only.split(",") if s}
    summary: Dict[str, Any] = {"format": FORMAT, "versions": ver, "families": {}}
    for spec in FAMILIES:
        if only and spec.name not in only:
            continue
        try:
            summary["families"][spec.name] = run_family(spec, fixtures)
        except Exception as e:  # noqa: BLE001 - one family failing must not lose the others
            log(f"{spec.name}: FAILED {type(e).__name__}: {e}")
            traceback.print_exc()
            summary["families"][spec.name] = {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-4000:]}

    with open(os.path.join(fixtures, "versions.json"), "w", encoding="utf-8") as f:
        json.dump(ver, f, indent=2)
        f.write("\n")
    tar_path = os.path.join(args.out, "hf-golden.tar.gz")
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(fixtures, arcname="hf-golden")
    summary["tar_bytes"] = os.path.getsize(tar_path)
    log(f"wrote {tar_path} ({summary['tar_bytes']} bytes)")

    if args.deepened:
        plan_text = args.plan
        if not plan_text:
            pf = os.path.join(os.path.dirname(os.path.abspath(args.deepened)), "plan.txt")
            plan_text = open(pf, encoding="utf-8").read().strip() if os.path.exists(pf) else ""
        try:
            if not args.deepen_source:
                raise ValueError("--deepened needs --deepen-source")
            res = deepen_check(args.deepen_source, args.deepened, parse_plan(plan_text))
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            res = {"ok": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-4000:]}
        write_json(os.path.join(args.out, "deepen-check.json"), res, compact=False)
        summary["deepen_check"] = {"ok": res.get("ok"), "error": res.get("error")}
        log(f"deepen check: ok={res.get('ok')} {res.get('error', '')}")
    else:
        summary["deepen_check"] = {"ok": None, "skipped": "no --deepened folder given"}

    if args.finetune_check:
        model_dir = args.finetune_model or args.deepened or os.path.join(fixtures, "bert")
        try:
            res = finetune_check(model_dir, args.finetune_argv, work, args.finetune_timeout)
        except Exception as e:  # noqa: BLE001
            res = {"ran": False, "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-4000:]}
        write_json(os.path.join(args.out, "finetune-check.json"), res, compact=False)
        summary["finetune_check"] = {"completed": res.get("completed"), "reason": res.get("reason"), "error": res.get("error")}
        log(f"finetune check: {summary['finetune_check']}")

    summary["seconds"] = round(time.time() - t0, 1)
    summary["ok"] = all(f.get("ok") for f in summary["families"].values())
    write_json(os.path.join(args.out, "summary.json"), summary, compact=False)
    for name in os.listdir(args.out):
        size = os.path.getsize(os.path.join(args.out, name))
        if size > MAX_OUT_FILE:
            log(f"WARNING: {name} is {size} bytes, over the limit of what comes back")
    shutil.rmtree(work, ignore_errors=True)
    log(f"done in {summary['seconds']}s; all families ok: {summary['ok']}")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
