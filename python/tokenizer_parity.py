#!/usr/bin/env python3
"""Check that python/wordpiece.py and @huggingface/tokenizers (node) give identical ids.

Writes cases (single sentences, sentence pairs and tricky strings) with the ids
from wordpiece.py to a JSON file, runs python/tokenizer_parity.mjs on it with
node (tokenizer.json + tokenizer_config.json from --model), and reports mismatches.
"""
import argparse, json, os, random, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import wordpiece

TRICKY = [
    "Héllo Wörld! Ça va? naïve café résumé Ångström",
    "東京は日本の首都です。 한국어 텍스트 and 中文 mixed",
    "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2003em-space",
    "control\u0000chars\u0007 here \ufffd replaced\u200b zero-width",
    "x" * 101 + " short " + "y" * 100,
    "emoji 😀 👍🏽 and symbols ™ © ® § ¶ † ‡ • … ‰ ′ ″ € £ ¥",
    "Don't can't won't it's O'Neill's \"quoted\" (paren) [brack] {brace} <angle>",
    "e-mail: someone@example.com, url http://example.org/a_b?c=d&e=f#g",
    "numbers 3.14159 1,000,000 2nd 42% $5.00 -7 +8 1/2 ½ ²",
    "UPPERCASE Words And MiXeD CaSe ΣΊΣΥΦΟΣ ДОБРЫЙ ДЕНЬ",
    "unaffable antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    "İstanbul ß ﬁ ligature ǅ titlecase Ⅻ roman",
    "", "   ", "[CLS] [SEP] [MASK] literal specials [UNK] [PAD]",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "reference-bert-mini"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, ".cache", "corpus", "test.tsv"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache", "tokenizer-parity.json"))
    a = ap.parse_args()
    tok = wordpiece.WordPiece(os.path.join(a.model, "vocab.txt"))
    sents = []
    with open(a.corpus, encoding="utf-8") as f:
        for line in f:
            sents.append(line.rstrip("\n").split("\t", 1)[1])
    rng = random.Random(0)
    rng.shuffle(sents)
    n_pair = a.n // 4
    cases = [{"text": s} for s in sents[:a.n - 2 * n_pair]]
    rest = sents[a.n - 2 * n_pair:a.n]
    cases += [{"text": rest[2 * i], "text_pair": rest[2 * i + 1]} for i in range(len(rest) // 2)]
    cases += [{"text": t} for t in TRICKY]
    cases += [{"text": TRICKY[i], "text_pair": TRICKY[i + 1]} for i in range(len(TRICKY) - 1)]
    for c in cases:
        e = tok.encode(c["text"], c.get("text_pair"))
        c["input_ids"], c["token_type_ids"] = e["input_ids"], e["token_type_ids"]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False)
    r = subprocess.run(["node", os.path.join(HERE, "tokenizer_parity.mjs"), a.model, a.out],
                       cwd=ROOT, capture_output=True, text=True)
    print(r.stdout, end="")
    print(r.stderr, end="", file=sys.stderr)
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
