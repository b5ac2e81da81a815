#!/usr/bin/env python3
"""Tiny seeded random DebertaV2ForMaskedLM models built by HF transformers, and the lens's
per-layer outputs computed with HF's own modules in float64: the MLM head (lm_predictions, or the
legacy cls.predictions) applied to every state of output_hidden_states, through the padded path.

    hf_deberta.py --out DIR
    hf_deberta.py --deepened SRC DEEP --plan 0,2,1,1 --out FILE   (as hf_modern.py)

Writes DIR/<case>/ and DIR/expected.json in hf_modern.py's format, plus per case "buckets": HF's
make_log_bucket_position over every distance −(n−1)…(n−1) for n = max_position_embeddings (the
rows of rel_embeddings the engine must pick). A layer plan is applied by rebuilding
deberta.encoder.layer from the original layer modules.
"""
import argparse, json, os, sys

import torch

from hf_modern import SHORT, WORDS, check_deepened, encode, long_text, per_sentence, randomize, tokenizer

LONG = [{"text": long_text(300, 3)}, {"text": "the cat sat"}]
CASES = [
    # v3-like: log buckets (8, up to 64), c2p + p2c through the shared query/key projections, normed
    # rel_embeddings, no absolute positions, the lm_predictions head.
    ("db-v3", dict(num_hidden_layers=3, hidden_size=32, intermediate_size=48, num_attention_heads=4, relative_attention=True,
                   position_buckets=8, max_relative_positions=64, pos_att_type="p2c|c2p", share_att_key=True,
                   norm_rel_ebd="layer_norm", position_biased_input=False, legacy=False),
     [(SHORT, None), (SHORT, [0, 2, 1, 1]), (LONG, None)]),
    # v2-like: own pos_key_proj / pos_query_proj, no buckets (distances clamped at ±16), absolute
    # positions too, rel_embeddings not normed, the legacy cls.predictions head, tanh GELU.
    ("db-v2-legacy", dict(num_hidden_layers=2, hidden_size=24, intermediate_size=40, num_attention_heads=3, relative_attention=True,
                          max_relative_positions=16, pos_att_type=["c2p", "p2c"], share_att_key=False, position_biased_input=True,
                          legacy=True, hidden_act="gelu_new"),
     [(SHORT, None), (SHORT, [1, 1, 0]), ([{"text": long_text(40, 4)}], None)]),
    # c2p only (the scale is √(2d)), buckets 16 up to 128.
    ("db-c2p", dict(num_hidden_layers=2, hidden_size=32, intermediate_size=32, num_attention_heads=2, relative_attention=True,
                    position_buckets=16, max_relative_positions=128, pos_att_type="c2p", share_att_key=True,
                    norm_rel_ebd="layer_norm", position_biased_input=False, legacy=False),
     [(SHORT, None), (LONG, None)]),
]


def head(model, h):
    if model.config.legacy:
        return model.cls(h)
    return model.lm_predictions(h, model.deberta.embeddings.word_embeddings)


def lens(model, enc, plan):
    """Per state [h0, planned layers…]: log_softmax(head(h)), [states, batch, seq, V]."""
    encoder = model.deberta.encoder
    original = encoder.layer
    if plan is not None:
        encoder.layer = torch.nn.ModuleList([original[i] for i in plan])
    try:
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], output_hidden_states=True)
    finally:
        encoder.layer = original
    logp = [torch.log_softmax(head(model, s), -1) for s in out.hidden_states]
    assert torch.allclose(logp[-1], torch.log_softmax(out.logits, -1), atol=1e-10), "lens(h_L) differs from HF logits"
    return torch.stack(logp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--deepened", nargs=2, metavar=("SRC", "DEEP"))
    ap.add_argument("--plan", default=None)
    a = ap.parse_args()
    import transformers
    from transformers import DebertaV2Config, DebertaV2ForMaskedLM, PreTrainedTokenizerFast
    if a.deepened:
        return check_deepened(a.deepened[0], a.deepened[1], [int(x) for x in a.plan.split(",")], a.out, DebertaV2ForMaskedLM, lens, load={})
    from transformers.models.deberta_v2.modeling_deberta_v2 import make_log_bucket_position
    torch.manual_seed(0)
    tok, vocab = tokenizer(WORDS)
    result = {"transformers": transformers.__version__, "torch": torch.__version__, "cases": {}}
    for ci, (name, overrides, runs) in enumerate(CASES):
        cfg = DebertaV2Config(vocab_size=len(vocab), pad_token_id=vocab["[PAD]"], max_position_embeddings=512, type_vocab_size=0, **overrides)
        model = DebertaV2ForMaskedLM(cfg)
        randomize(model, 300 + ci)
        model.eval()
        folder = os.path.join(a.out, name)
        model.save_pretrained(folder)
        PreTrainedTokenizerFast(tokenizer_object=tok, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
                                mask_token="[MASK]", unk_token="[UNK]").save_pretrained(folder)
        reloaded, info = DebertaV2ForMaskedLM.from_pretrained(folder, output_loading_info=True)
        bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
        assert not bad, f"{name}: {bad}"
        reloaded = reloaded.double().eval()
        n = cfg.max_position_embeddings
        deltas = torch.arange(-(n - 1), n, dtype=torch.long)
        buckets = getattr(cfg, "position_buckets", -1)
        max_rel = cfg.max_relative_positions if cfg.max_relative_positions >= 1 else n
        table = make_log_bucket_position(deltas, buckets, max_rel).long().tolist() if buckets > 0 else deltas.tolist()
        case_out = {"layer_types": [], "num_parameters": reloaded.num_parameters(), "buckets": table, "runs": []}
        for inputs, plan in runs:
            texts, pairs, encs, enc = encode(tok, vocab["[PAD]"], inputs)
            with torch.no_grad():
                logp = lens(reloaded, enc, plan)
            case_out["runs"].append({"plan": plan, "sentences": per_sentence(logp, texts, pairs, encs, enc["input_ids"])})
        result["cases"][name] = case_out
    with open(os.path.join(a.out, "expected.json"), "w") as f:
        json.dump(result, f)
    print(json.dumps({"transformers": result["transformers"], "cases": list(result["cases"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
