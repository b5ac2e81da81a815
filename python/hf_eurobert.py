#!/usr/bin/env python3
"""Tiny seeded random EuroBertForMaskedLM models built by HF transformers, and the lens's per-layer
outputs computed with HF's own modules in float64: lm_head(norm(h_i)) for h0 (the token
embeddings) and the output of every planned layer, through the SDPA (padded) path.

    hf_eurobert.py --out DIR
    hf_eurobert.py --deepened SRC DEEP --plan 0,2,1,1 --out FILE

The output formats are hf_modern.py's. The tokenizer is Llama-3 style, as EuroBERT ships: a regex
Split and ByteLevel BPE with <|begin_of_text|> $A <|end_of_text|> and <|mask|>, trained here with
HF tokenizers on the test words. A layer plan is applied by rebuilding the layers ModuleList.
"""
import argparse, json, os, sys

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from hf_modern import SHORT, WORDS, check_deepened, encode, long_text, per_sentence, randomize
from tokenizer_build import LLAMA3_SPLIT

SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|mask|>", "<|pad|>"]

CASES = [
    # Grouped-query attention (4 query heads, 2 key/value heads), untied lm_head without bias.
    ("eb-gqa", dict(num_hidden_layers=3, hidden_size=32, intermediate_size=48, num_attention_heads=4, num_key_value_heads=2,
                    rope_parameters={"rope_type": "default", "rope_theta": 500.0}),
     [(SHORT, None), (SHORT, [0, 2, 1, 1]), (SHORT, [2, 0, 1])]),
    # Every bias on (lm_head's follows mlp_bias), the head tied to the embeddings, a tanh-GELU gate.
    ("eb-bias-tied", dict(num_hidden_layers=2, hidden_size=24, intermediate_size=40, num_attention_heads=3,
                          attention_bias=True, mlp_bias=True, tie_word_embeddings=True, hidden_act="gelu_pytorch_tanh",
                          rope_parameters={"rope_type": "default", "rope_theta": 10000.0}),
     [(SHORT, None), (SHORT, [1, 1, 0])]),
    # Long input: 1,100 words, one key/value head for two query heads.
    ("eb-long", dict(num_hidden_layers=2, hidden_size=32, intermediate_size=32, num_attention_heads=2, num_key_value_heads=1,
                     max_position_embeddings=2048, rope_parameters={"rope_type": "default", "rope_theta": 250000.0}),
     [([{"text": long_text(1100, 1)}, {"text": "the cat sat"}], None)]),
]


def tokenizer():
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    g = torch.Generator().manual_seed(7)
    text = [" ".join(WORDS[int(i)] for i in torch.randint(0, len(WORDS), (12,), generator=g)) for _ in range(400)]
    tok.train_from_iterator(text, trainers.BpeTrainer(vocab_size=400, show_progress=False, special_tokens=SPECIALS,
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    bos, eos = tok.token_to_id("<|begin_of_text|>"), tok.token_to_id("<|end_of_text|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A <|end_of_text|>", pair="<|begin_of_text|> $A <|end_of_text|> $B:1 <|end_of_text|>:1",
        special_tokens=[("<|begin_of_text|>", bos), ("<|end_of_text|>", eos)])
    return tok


def lens(model, enc, plan):
    """Per state [h0, planned layers…]: log_softmax(lm_head(norm(h))), [states, batch, seq, V]."""
    m = model.model
    original, count = m.layers, m.config.num_hidden_layers
    if plan is not None:
        m.layers = torch.nn.ModuleList([original[i] for i in plan])
        m.config.num_hidden_layers = len(plan)  # forward runs layers[:num_hidden_layers]
    states = []
    hooks = [m.embed_tokens.register_forward_hook(lambda mod, i, o: states.append(o))]
    hooks += [layer.register_forward_hook(lambda mod, i, o: states.append(o if torch.is_tensor(o) else o[0]))
              for layer in {id(l): l for l in m.layers}.values()]  # once per module: a plan may repeat one
    try:
        out = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    finally:
        for h in hooks:
            h.remove()
        m.layers, m.config.num_hidden_layers = original, count
    logp = [torch.log_softmax(model.lm_head(m.norm(s)), -1) for s in states]
    assert torch.allclose(logp[-1], torch.log_softmax(out.logits, -1), atol=1e-10), "lens(h_L) differs from HF logits"
    return torch.stack(logp)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--deepened", nargs=2, metavar=("SRC", "DEEP"))
    ap.add_argument("--plan", default=None)
    a = ap.parse_args()
    import transformers
    from transformers import EuroBertConfig, EuroBertForMaskedLM, PreTrainedTokenizerFast
    if a.deepened:
        return check_deepened(a.deepened[0], a.deepened[1], [int(x) for x in a.plan.split(",")], a.out, EuroBertForMaskedLM, lens)
    torch.manual_seed(0)
    tok = tokenizer()
    pad = tok.token_to_id("<|pad|>")
    result = {"transformers": transformers.__version__, "torch": torch.__version__, "cases": {}}
    for ci, (name, overrides, runs) in enumerate(CASES):
        cfg = EuroBertConfig(vocab_size=tok.get_vocab_size(), pad_token_id=pad, bos_token_id=tok.token_to_id("<|begin_of_text|>"),
                             eos_token_id=tok.token_to_id("<|end_of_text|>"), mask_token_id=tok.token_to_id("<|mask|>"),
                             max_position_embeddings=overrides.pop("max_position_embeddings", 512), **overrides)
        cfg._attn_implementation = "sdpa"
        model = EuroBertForMaskedLM(cfg)
        randomize(model, 200 + ci)
        model.eval()
        folder = os.path.join(a.out, name)
        model.save_pretrained(folder)
        PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>",
                                pad_token="<|pad|>", mask_token="<|mask|>").save_pretrained(folder)
        reloaded, info = EuroBertForMaskedLM.from_pretrained(folder, output_loading_info=True, attn_implementation="sdpa")
        bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
        assert not bad, f"{name}: {bad}"
        reloaded = reloaded.double().eval()
        case_out = {"layer_types": [], "num_parameters": reloaded.num_parameters(), "runs": []}
        for inputs, plan in runs:
            texts, pairs, encs, enc = encode(tok, pad, inputs)
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
