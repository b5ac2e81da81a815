#!/usr/bin/env python3
"""A base-sized random checkpoint of a modern family, built by HF transformers, for `npm run bench`:

    random_family.py --family modernbert|eurobert --out DIR

ModernBERT-base's shape (22 layers, hidden 768, GeGLU 1152, 50,368 vocab, global every 3rd layer,
window 128) or EuroBERT-210m's (12 layers, hidden 768, SiLU-gated 3072, 128,256 vocab), with HF's
own init, saved as F32 safetensors. The tokenizer is the reference model's (ids < 30,522): speed
depends on the number of tokens, not on which tokenizer made them.
"""
import argparse, os, shutil, sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "models", "reference-bert-mini")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", choices=["modernbert", "eurobert"], required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    from transformers import EuroBertConfig, EuroBertForMaskedLM, ModernBertConfig, ModernBertForMaskedLM
    torch.manual_seed(0)
    ids = dict(pad_token_id=0, bos_token_id=101, eos_token_id=102)
    if a.family == "modernbert":
        model = ModernBertForMaskedLM(ModernBertConfig(cls_token_id=101, sep_token_id=102, **ids))
    else:
        model = EuroBertForMaskedLM(EuroBertConfig(mask_token_id=103, **ids))
    model.save_pretrained(a.out)
    for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(os.path.join(REFERENCE, f), os.path.join(a.out, f))
    print(f"{a.family}: {model.num_parameters() / 1e6:.1f} M parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
