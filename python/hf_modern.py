#!/usr/bin/env python3
"""Tiny seeded random ModernBertForMaskedLM models built by HF transformers, and the lens's
per-layer outputs computed with HF's own modules in float64: head(final_norm(h_i)) for h0 (the
embedding output) and the output of every planned layer, through HF's SDPA (padded) path.

    hf_modern.py --out DIR

writes DIR/<case>/ (config.json, model.safetensors, tokenizer.json) and DIR/expected.json:
for each case and run (inputs, plan), per sentence, per state, per position: the input token's
log-prob and the top-5 log-probs and ids. A layer plan is applied by rebuilding the layers
ModuleList from the original layer modules: each keeps its attention type (sliding window) and
its attn_norm (an Identity for the original layer 0), and config.layer_types follows the plan.

    hf_modern.py --deepened SRC DEEP --plan 0,2,1,1 --out FILE

checks a model Layer Lens deepened: HF loads DEEP with no missing or unexpected keys, and its
lens outputs equal SRC's with the plan applied by hand (max |Δ| printed and asserted ≤ 1e-10).
FILE gets DEEP's expected outputs on the short inputs, in the format above (one case, "deep").
"""
import argparse, json, os, sys

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

WORDS = [
    "the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "house", "bird", "sang", "it", "was",
    "big", "and", "red", "blue", "green", "tree", "sky", "sun", "moon", "star", "river", "stone",
    "old", "new", "small", "fast", "slow", "happy", "sad", "day", "night", "city", "road", "car",
]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# name, config overrides, runs: (inputs, plan or None)
SHORT = [
    {"text": "the cat sat on the mat"},
    {"text": "a bird sang"},
    {"text": "the dog ran to the house", "pair": "it was big and red"},
]


def long_text(n, seed):
    g = torch.Generator().manual_seed(seed)
    return " ".join(WORDS[int(i)] for i in torch.randint(0, len(WORDS), (n,), generator=g))


CASES = [
    # 3 layers, global every 3rd (layer 0 global), window ±2 so local layers matter on short inputs.
    ("mb-3l-w4", dict(num_hidden_layers=3, hidden_size=32, intermediate_size=48, num_attention_heads=4,
                      local_attention=4, global_attn_every_n_layers=3), [(SHORT, None), (SHORT, [0, 2, 1, 1]), (SHORT, [2, 0, 1])]),
    # 4 layers alternating, norm/attention/mlp/classifier biases on, distinct thetas, gelu_tanh head.
    ("mb-4l-bias", dict(num_hidden_layers=4, hidden_size=48, intermediate_size=40, num_attention_heads=3,
                        local_attention=6, global_attn_every_n_layers=2, norm_bias=True, attention_bias=True,
                        mlp_bias=True, classifier_bias=True, classifier_activation="gelu_pytorch_tanh",
                        rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1000.0},
                                         "sliding_attention": {"rope_type": "default", "rope_theta": 50.0}}),
     [(SHORT, None), (SHORT, [0, 1, 1, 3, 2])]),
    # Long input: 1,100 tokens, local window ±16, 2 layers (global, local).
    ("mb-long", dict(num_hidden_layers=2, hidden_size=32, intermediate_size=32, num_attention_heads=2,
                     local_attention=32, global_attn_every_n_layers=2, max_position_embeddings=2048),
     [([{"text": long_text(1100, 1)}, {"text": "the cat sat"}], None)]),
    # mmBERT-sized vocabulary (Gemma's 256k) on a tiny hidden size: head chunking must bound memory.
    ("mb-256k", dict(vocab_size=256000, num_hidden_layers=2, hidden_size=32, intermediate_size=32, num_attention_heads=2,
                     local_attention=8, global_attn_every_n_layers=2, rope_parameters={
                         "full_attention": {"rope_type": "default", "rope_theta": 160000.0},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 160000.0}}),
     [([{"text": long_text(60, 2)}], None)]),
]


def tokenizer(vocab_words):
    vocab = {t: i for i, t in enumerate(SPECIALS + vocab_words)}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    # ModernBERT's template: [CLS] $A [SEP] and [CLS] $A [SEP] $B [SEP], all type 0.
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    for t in SPECIALS:
        tok.add_special_tokens([t])
    return tok, vocab


def randomize(model, seed):
    """HF's init (std 0.02) gives near-uniform predictions; spread the weights so top-1 means something."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)


def lens(model, enc, plan):
    """Per state [h0, planned layers…]: log_softmax(decoder(head(final_norm(h)))), [states, batch, seq, V]."""
    from transformers.models.modernbert.modeling_modernbert import ModernBertModel
    m = model.model
    original, types = m.layers, list(m.config.layer_types)
    if plan is not None:
        m.layers = torch.nn.ModuleList([original[i] for i in plan])
        m.config.layer_types = [types[i] for i in plan]
    states = []
    hooks = [m.embeddings.register_forward_hook(lambda mod, i, o: states.append(o))]
    hooks += [layer.register_forward_hook(lambda mod, i, o: states.append(o if torch.is_tensor(o) else o[0])) for layer in {id(l): l for l in m.layers}.values()]  # once per module: a plan may repeat one
    try:
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    finally:
        for h in hooks:
            h.remove()
        m.layers, m.config.layer_types = original, types
    logp = [torch.log_softmax(model.decoder(model.head(m.final_norm(s))), -1) for s in states]
    # The last state read the lens's way is exactly HF's own MLM output.
    assert torch.allclose(logp[-1], torch.log_softmax(out.logits, -1), atol=1e-10), "lens(h_L) differs from HF logits"
    return torch.stack(logp)


def encode(tok, pad_id, inputs):
    texts = [i["text"] for i in inputs]
    pairs = [i.get("pair") for i in inputs]
    encs = [tok.encode(t, p) if p else tok.encode(t) for t, p in zip(texts, pairs)]
    seq = max(len(e.ids) for e in encs)
    ids = torch.tensor([e.ids + [pad_id] * (seq - len(e.ids)) for e in encs])
    mask = torch.tensor([[1] * len(e.ids) + [0] * (seq - len(e.ids)) for e in encs])
    return texts, pairs, encs, {"input_ids": ids, "attention_mask": mask}


def per_sentence(logp, texts, pairs, encs, ids):
    sentences = []
    for b, e in enumerate(encs):
        n = len(e.ids)
        lp = logp[:, b, :n, :]
        top = lp.topk(5, dim=-1)
        inp = lp.gather(-1, ids[b, :n].view(1, n, 1).expand(lp.shape[0], n, 1)).squeeze(-1)
        sentences.append({"text": texts[b], "pair": pairs[b], "ids": e.ids,
                          "input_logp": inp.tolist(), "topk_logp": top.values.tolist(), "topk_ids": top.indices.tolist()})
    return sentences


def check_deepened(src, deep, plan, out, model_class=None, lens_of=None, load=None):
    """Shared with hf_eurobert.py and hf_deberta.py, which pass their own class, lens and loading options."""
    import transformers
    from transformers import ModernBertForMaskedLM
    model_class, lens_of = model_class or ModernBertForMaskedLM, lens_of or lens
    load = {"attn_implementation": "sdpa"} if load is None else load
    tok = Tokenizer.from_file(os.path.join(src, "tokenizer.json"))
    model, info = model_class.from_pretrained(deep, output_loading_info=True, **load)
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    assert not bad, f"HF loading {deep}: {bad}"
    model = model.double().eval()
    source = model_class.from_pretrained(src, **load).double().eval()
    texts, pairs, encs, enc = encode(tok, model.config.pad_token_id, SHORT)
    with torch.no_grad():
        got, want = lens_of(model, enc, None), lens_of(source, enc, plan)
    delta = (got - want).abs().max().item()
    assert delta <= 1e-10, f"deepened model differs from the source with the plan applied: max |Δ| {delta}"
    result = {"transformers": transformers.__version__, "torch": torch.__version__, "deep_vs_plan_max_delta": delta,
              "cases": {"deep": {"layer_types": list(getattr(model.config, "layer_types", None) or []),
                                 "runs": [{"plan": None, "sentences": per_sentence(got, texts, pairs, encs, enc["input_ids"])}]}}}
    with open(out, "w") as f:
        json.dump(result, f)
    print(json.dumps({"layer_types": result["cases"]["deep"]["layer_types"], "deep_vs_plan_max_delta": delta}))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", default=None, help="comma-separated case names")
    ap.add_argument("--deepened", nargs=2, metavar=("SRC", "DEEP"))
    ap.add_argument("--plan", default=None)
    a = ap.parse_args()
    if a.deepened:
        return check_deepened(a.deepened[0], a.deepened[1], [int(x) for x in a.plan.split(",")], a.out)
    import transformers
    from transformers import ModernBertConfig, ModernBertForMaskedLM, PreTrainedTokenizerFast
    torch.manual_seed(0)
    result = {"transformers": transformers.__version__, "torch": torch.__version__, "cases": {}}
    tok, vocab = tokenizer(WORDS)
    for ci, (name, overrides, runs) in enumerate(CASES):
        if a.only and name not in a.only.split(","):
            continue
        cfg = ModernBertConfig(vocab_size=overrides.pop("vocab_size", len(vocab)), pad_token_id=vocab["[PAD]"], cls_token_id=vocab["[CLS]"],
                               sep_token_id=vocab["[SEP]"], bos_token_id=vocab["[CLS]"], eos_token_id=vocab["[SEP]"],
                               max_position_embeddings=overrides.pop("max_position_embeddings", 512), **overrides)
        cfg._attn_implementation = "sdpa"
        model = ModernBertForMaskedLM(cfg)
        randomize(model, 100 + ci)
        model.eval()
        folder = os.path.join(a.out, name)
        model.save_pretrained(folder)
        tok.save(os.path.join(folder, "tokenizer.json"))
        PreTrainedTokenizerFast(tokenizer_object=tok, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
                                mask_token="[MASK]", unk_token="[UNK]").save_pretrained(folder)
        reloaded, info = ModernBertForMaskedLM.from_pretrained(folder, output_loading_info=True, attn_implementation="sdpa")
        bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
        assert not bad, f"{name}: {bad}"
        reloaded = reloaded.double().eval()
        case_out = {"layer_types": list(cfg.layer_types), "num_parameters": reloaded.num_parameters(), "runs": []}
        for inputs, plan in runs:
            texts, pairs, encs, enc = encode(tok, vocab["[PAD]"], inputs)
            with torch.no_grad():
                logp = lens(reloaded, enc, plan)
            case_out["runs"].append({"plan": plan, "sentences": per_sentence(logp, texts, pairs, encs, enc["input_ids"])})
        result["cases"][name] = case_out
    with open(os.path.join(a.out, "expected.json"), "w") as f:
        json.dump(result, f)
    print(json.dumps({"transformers": result["transformers"], "cases": list(result["cases"])}))


if __name__ == "__main__":
    sys.exit(main())
