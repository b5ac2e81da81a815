#!/usr/bin/env python3
"""SentencePiece-only tokenizer folders for the CLI test, with HF's ids for them.

usage: spm_folder.py OUT_DIR MAX_LENGTH
For XLM-R and ALBERT: trains a small SentencePiece Unigram model on the repo's data/heldout-sentences.txt
(seeded, one thread) and writes
  OUT_DIR/<family>-spm/  the .model under the name the class reads, and a tokenizer_config.json naming the class
  OUT_DIR/<family>-hf/   what transformers saves after converting that folder (tokenizer.json included)
and prints JSON: per family, len(tokenizer) and, for each case, the ids and type ids HF gives with
AutoTokenizer.from_pretrained(<family>-spm)(text, pair, truncation=True, max_length=MAX_LENGTH).
"""
import json, os, shutil, sys

import sentencepiece as spm
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(out, max_length):
    lines = [l.strip() for l in open(os.path.join(ROOT, "data", "heldout-sentences.txt"), encoding="utf-8") if l.strip()]
    text = os.path.join(out, "train.txt")
    with open(text, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    long_a = " ".join(lines[:12])
    long_b = " ".join(lines[12:20])
    cases = [
        {"text": lines[0]},
        {"text": lines[1], "pair": "What comes next?"},  # a pair within the limit
        {"text": long_a},  # a single text past the limit
        {"text": long_a, "pair": lines[3]},  # a pair whose first text is far longer: longest first cuts only it
        {"text": long_a, "pair": long_b},  # both long: both cut
        {"text": "Ça coûte 3,50 € — naïve café, ÅNGSTRÖM!", "pair": long_b},
    ]
    res = {"cases": cases}
    for family, cls, fname, ids in [
        ("xlm-roberta", "XLMRobertaTokenizer", "sentencepiece.bpe.model", {}),
        ("albert", "AlbertTokenizer", "spiece.model", dict(pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, control_symbols="[CLS],[SEP],[MASK]")),
    ]:
        prefix = os.path.join(out, "_" + family)
        spm.SentencePieceTrainer.train(input=text, model_prefix=prefix, vocab_size=1000, model_type="unigram",
                                       character_coverage=1.0, normalization_rule_name="nmt_nfkc", num_threads=1,
                                       minloglevel=2, **ids)
        folder = os.path.join(out, family + "-spm")
        os.makedirs(folder, exist_ok=True)
        shutil.copy(prefix + ".model", os.path.join(folder, fname))
        json.dump({"tokenizer_class": cls}, open(os.path.join(folder, "tokenizer_config.json"), "w"))
        tok = transformers.AutoTokenizer.from_pretrained(folder)
        assert type(tok).__name__ == cls, type(tok).__name__
        tok.save_pretrained(os.path.join(out, family + "-hf"))
        rows = []
        for c in cases:
            e = tok(c["text"], c.get("pair"), truncation=True, max_length=max_length, return_token_type_ids=True)
            full = tok(c["text"], c.get("pair"))
            rows.append({"ids": e["input_ids"], "type_ids": e["token_type_ids"], "full_length": len(full["input_ids"])})
        res[family] = {"vocab_size": len(tok), "rows": rows}
    print(json.dumps(res))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
