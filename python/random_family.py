#!/usr/bin/env python3
"""A base-sized random checkpoint of a modern family, built by HF transformers, for `npm run bench`:

    random_family.py --family modernbert|eurobert|deberta --out DIR
    random_family.py --tiny --family bert|roberta|distilbert|electra|modernbert|eurobert|deberta --out DIR

ModernBERT-base's shape (22 layers, hidden 768, GeGLU 1152, 50,368 vocab, global every 3rd layer,
window 128), EuroBERT-210m's (12 layers, hidden 768, SiLU-gated 3072, 128,256 vocab; HF's defaults)
or DeBERTa-v3-base's (12 layers, hidden 768, 128,100 vocab, 256 log buckets, c2p + p2c), with HF's
own init, saved as F32 safetensors. --tiny: the same family at 2-3 layers and hidden 32 (the
PyTorch-backend test's models), with HF's init; seeded. The tokenizer is the reference model's (ids < 30,522): speed
depends on the number of tokens, not on which tokenizer made them.
"""
import argparse, os, shutil, sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "models", "reference-bert-mini")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", choices=["modernbert", "eurobert", "deberta", "bert", "roberta", "distilbert", "electra"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tiny", action="store_true")
    a = ap.parse_args()
    if a.tiny:
        return tiny(a.family, a.out)
    if a.family not in ("modernbert", "eurobert", "deberta"):
        ap.error("base-sized checkpoints: modernbert, eurobert or deberta")
    from transformers import (DebertaV2Config, DebertaV2ForMaskedLM, EuroBertConfig, EuroBertForMaskedLM, ModernBertConfig,
                              ModernBertForMaskedLM)
    torch.manual_seed(0)
    ids = dict(pad_token_id=0, bos_token_id=101, eos_token_id=102)
    if a.family == "modernbert":
        model = ModernBertForMaskedLM(ModernBertConfig(cls_token_id=101, sep_token_id=102, **ids))
    elif a.family == "eurobert":
        model = EuroBertForMaskedLM(EuroBertConfig(mask_token_id=103, **ids))
    else:
        model = DebertaV2ForMaskedLM(DebertaV2Config(
            vocab_size=128100, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
            relative_attention=True, position_buckets=256, max_relative_positions=512, pos_att_type="p2c|c2p", share_att_key=True,
            norm_rel_ebd="layer_norm", position_biased_input=False, type_vocab_size=0, legacy=False, **ids))
    model.save_pretrained(a.out)
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(os.path.join(REFERENCE, f), os.path.join(a.out, f))
    print(f"{a.family}: {model.num_parameters() / 1e6:.1f} M parameters")
    return 0


def tiny(family, out):
    import transformers as t
    torch.manual_seed(0)
    ids = dict(vocab_size=30522, pad_token_id=0)
    small = dict(hidden_size=32, num_attention_heads=4, intermediate_size=48, max_position_embeddings=128)
    if family == "bert":
        model = t.BertForMaskedLM(t.BertConfig(num_hidden_layers=3, **small, **ids))
    elif family == "roberta":
        model = t.RobertaForMaskedLM(t.RobertaConfig(num_hidden_layers=2, **{**small, "max_position_embeddings": 130}, **ids, bos_token_id=101, eos_token_id=102))
    elif family == "distilbert":
        model = t.DistilBertForMaskedLM(t.DistilBertConfig(n_layers=3, dim=32, n_heads=4, hidden_dim=48, max_position_embeddings=128, **ids))
    elif family == "electra":
        model = t.ElectraForMaskedLM(t.ElectraConfig(num_hidden_layers=2, embedding_size=16, **small, **ids))
    elif family == "modernbert":
        model = t.ModernBertForMaskedLM(t.ModernBertConfig(num_hidden_layers=3, hidden_size=32, intermediate_size=48, num_attention_heads=4,
                                                           global_attn_every_n_layers=2, local_attention=8, cls_token_id=101, sep_token_id=102,
                                                           bos_token_id=101, eos_token_id=102, max_position_embeddings=512, **ids))
    elif family == "eurobert":
        model = t.EuroBertForMaskedLM(t.EuroBertConfig(num_hidden_layers=2, hidden_size=32, intermediate_size=48, num_attention_heads=4,
                                                       num_key_value_heads=2, bos_token_id=101, eos_token_id=102, mask_token_id=103,
                                                       max_position_embeddings=512, **ids))
    else:
        model = t.DebertaV2ForMaskedLM(t.DebertaV2Config(num_hidden_layers=2, **small, relative_attention=True, position_buckets=8,
                                                         max_relative_positions=32, pos_att_type="p2c|c2p", share_att_key=True, norm_rel_ebd="layer_norm",
                                                         position_biased_input=False, type_vocab_size=0, legacy=False, **ids))
    # HF's init (std 0.02) gives near-uniform heads, where top-1 agreement would prove little: weights at
    # 1/sqrt(fan-in) and unit-scale embeddings make the distributions peaked; norms' scales stay near 1.
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 2:
                p.copy_(torch.randn(p.shape, generator=g) / (p.shape[1] ** 0.5 if "embed" not in name else 1.0))
            elif name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            else:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.1)
    model.save_pretrained(out)
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(os.path.join(REFERENCE, f), os.path.join(out, f))
    print(f"{family} (tiny): {model.num_parameters()} parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
