#!/usr/bin/env python3
"""A base-sized random checkpoint of a modern family, built by HF transformers, for `npm run bench`:

    random_family.py --family modernbert|eurobert|deberta --out DIR

ModernBERT-base's shape (22 layers, hidden 768, GeGLU 1152, 50,368 vocab, global every 3rd layer,
window 128), EuroBERT-210m's (12 layers, hidden 768, SiLU-gated 3072, 128,256 vocab; HF's defaults)
or DeBERTa-v3-base's (12 layers, hidden 768, 128,100 vocab, 256 log buckets, c2p + p2c), with HF's
own init, saved as F32 safetensors. The tokenizer is the reference model's (ids < 30,522): speed
depends on the number of tokens, not on which tokenizer made them.
"""
import argparse, os, shutil, sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "models", "reference-bert-mini")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", choices=["modernbert", "eurobert", "deberta"], required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
