#!/usr/bin/env python3
"""Writes data/tokenizer-stress.jsonl: the multilingual stress corpus for tokenizer parity.

Every line is a JSON object {"a": text} or {"a": text, "b": pair}, written with ASCII escapes so
control characters, U+FEFF, U+0085 and the like stay visible and the file is reproducible (seeded).
Run: .cache/venv/bin/python python/tokenizer_stress.py  (test/unit/tokenizer/hfParity.test.ts checks its hash).
"""
import json, os, random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "tokenizer-stress.jsonl")

BASE = [
    # Persian with ZWNJ (U+200C), Arabic with tatweel and harakat
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u06a9\u062a\u0627\u0628\u200c\u0647\u0627 \u0631\u0627 \u0628\u062e\u0648\u0627\u0646\u0645.",
    "\u062e\u0627\u0646\u0647\u200c\u0627\u06cc \u0628\u0632\u0631\u06af \u0648 \u0646\u0627\u0645\u0647\u200c\u0647\u0627\u06cc \u0642\u062f\u06cc\u0645\u06cc\u061f",
    "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0644\u063a\u0629\u064c \u062c\u0645\u064a\u0644\u0629\u064c\u060c \u0643\u0640\u0640\u0640\u062a\u0627\u0628 \u0661\u0662\u0663 \ufefb \ufdfa",
    # Hindi, Bengali, Tamil, Telugu, Gurmukhi, with virama and ZWJ/ZWNJ
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e \u0915\u094d\u0937\u0924\u094d\u0930\u093f\u092f \u0915\u094d\u200d\u0937 \u0915\u094d\u200c\u0937 \u0966\u0967\u0968\u0964",
    "\u09ac\u09be\u0982\u09b2\u09be \u09ad\u09be\u09b7\u09be \u09b0\u200d\u09cd\u09af \u0ba4\u0bae\u0bbf\u0bb4\u0bcd \u0c24\u0c46\u0c32\u0c41\u0c17\u0c41 \u0a2a\u0a70\u0a1c\u0a3e\u0a2c\u0a40",
    # Thai (no spaces), Lao, Khmer, Myanmar
    "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22\u0e40\u0e1b\u0e47\u0e19\u0e20\u0e32\u0e29\u0e32\u0e17\u0e35\u0e48\u0e2a\u0e27\u0e22\u0e07\u0e32\u0e21 \u0e51\u0e52\u0e53 \u0ea5\u0eb2\u0ea7 \u1781\u17d2\u1798\u17c2\u179a \u1019\u103c\u1014\u103a\u1019\u102c",
    # CJK incl. Extension-B (outside the BMP), Japanese kana, Korean (composed and jamo)
    "\u6771\u4eac\u306f\u65e5\u672c\u306e\u9996\u90fd\u3067\u3059\u3002\U00020000\U0002a6d6\U00020b9f\U0002b740 \u30ab\u30bf\u30ab\u30ca \uff76\uff80\uff76\uff85",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8 \u1112\u1161\u11ab\u1100\u116e\u11a8 \u4e2d\u6587\u6df7\u5408 mixed\u6f22\u5b57text \u3400\u4db5 \uf900\uf9ff \U0002f800",
    # combining marks, decomposed vs composed, Zalgo, Vietnamese
    "cafe\u0301 caf\u00e9 na\u0131\u0308ve A\u030a\u0328 Z\u0351\u0352\u0353\u0354\u0355alg\u0310\u0311o Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u",
    "\u1e9b\u0323 \u212b \u2126 \u00c5ngstr\u00f6m \u01c4\u01c5\u01c6 \ufb01\ufb02\ufb03 \u2160\u216b \u2460\u2473 \u00bd \u00b2\u00b3 \u33a1",
    # emoji with ZWJ sequences, skin tones, flags, keycaps, variation selectors
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 \U0001f44d\U0001f3fd \U0001f1ef\U0001f1f5\U0001f1fa\U0001f1f8 1\ufe0f\u20e3 \u2764\ufe0f \U0001f3f3\ufe0f\u200d\U0001f308",
    "\U0001f600\U0001f601\U0001f602\U0001f923 \U0001f9d1\u200d\U0001f4bb \U0001f415\u200d\U0001f9ba \U0001faf6\U0001f3fb end",
    # NBSP, narrow NBSP, ideographic space, other spaces, full-width forms
    "price\u00a0100\u00a0\u20ac and\u202f5\u202f%\u3000\u5168\u89d2\u3000\u2002en\u2003em\u2009thin\u200ahair\u205f\u1680",
    "\uff26\uff55\uff4c\uff4c\uff0d\uff57\uff49\uff44\uff54\uff48 \uff11\uff12\uff13\uff01\uff1f \uff08\uff21\uff22\uff23\uff09\uff5e\uff5e \uff0c\uff0e",
    # control characters, U+FEFF, U+0085, zero-width, bidi marks, replacement char, private use
    "\ufeffBOM at start and\ufeffinside, next\u0085line, tab\there\u000bvt\u000cff\r\nCRLF",
    "ctrl\u0000nul\u0001soh\u0007bel\u001besc\u007fdel\u0080pad\u009fapc zero\u200bwidth\u2060joiner \u200e\u200f\u202a\u202c \ufffd \ue000\U000f0000",
    "line\u2028sep\u2029para \u180e mongolian \u00ad soft\u00adhyphen \u034f cgj \u2061\u2062\u2063\u2064",
    # runs of punctuation, mixed symbols
    "Wait!!! What??? No... way?!?! ---- ____ **** ((((nested)))) [[x]] {{y}} <<<>>> ''\"\"``",
    "\u00bfQu\u00e9? \u00a1S\u00ed! \u00ab guillemets \u00bb \u201ecurly\u201c \u2018single\u2019 \u2014 em \u2013 en \u2026 \u3001\u3002\u300c\u300d\u3010\u3011 \u060c\u061b\u061f \u0964\u0965",
    "e-mail: some.one+tag@example.com, url https://example.org/a_b?c=d&e=f#g ~/path/to.file $HOME 100% #hash @at ^caret |pipe \\back",
    "numbers 3.14159 1,000,000 2nd 42% $5.00 -7 +8 1/2 1e-9 0x1F 007 \u0663\u0664\u0665 \u096a\u096b \u0e55\u0e56 \uff17\uff18",
    # very long words
    "pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism Rindfleischetikettierungs\u00fcberwachungsaufgaben\u00fcbertragungsgesetz",
    "x" * 120 + " short " + "y" * 99 + " " + "\u00e9" * 60 + " " + "ab" * 70,
    "\u0939" * 80 + " " + "\u6f22" * 40 + " " + "\U0001f600" * 30,
    # mixed case and accents, Greek final sigma, Turkish dotted I, German sharp s, Cyrillic
    "UPPERCASE Words And MiXeD CaSe \u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3 \u0394\u039f\u0392\u03a1\u042b\u0419 \u0414\u0415\u041d\u042c \u0130stanbul \u0131\u0307 \u00df \u1e9e STRASSE",
    "H\u00c9LLO W\u00d6RLD \u00c7a Va \u00c0 Bient\u00d4t \u0152uvre \u00c6sir \u00d8resund \u0141\u00f3d\u017a \u010ce\u0161tina \u0218tefan",
    "\u0399\u03c3\u03c4\u03bf\u03c1\u03af\u03b1 \u1f08\u1f00\u1f81 \u1fbc \u0391\u0301 \u0413\u0435\u043e\u0440\u0433\u0438\u0439 \u0401\u0436 \u0407\u0457 \u10e5\u10d0\u10e0\u10d7\u10e3\u10da\u10d8 \u0570\u0561\u0575\u0565\u0580\u0565\u0576",
    # Hebrew with niqqud, Syriac, Ethiopic, Tibetan, Devanagari digits
    "\u05e2\u05b4\u05d1\u05b0\u05e8\u05b4\u05d9\u05ea \u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd \u0710\u0720\u0721 \u12a0\u121b\u122d\u129b \u0f56\u0f7c\u0f51\u0f0b\u0f61\u0f72\u0f42",
    # specials written literally, whitespace around them, masks
    "[CLS] [SEP] [MASK] literal specials [UNK] [PAD] <s> </s> <mask> <pad> <unk> <|mask|> <|begin_of_text|>",
    "The capital of France is [MASK]. The capital of France is <mask>. It is <|mask|>.",
    "a[MASK]b  [MASK]  c<mask>d   <mask>e <|mask|>f",
    # whitespace only and empty-ish
    "   leading and trailing   ",
    "multiple     spaces\t\t\ttabs\n\n\nnewlines",
    "\u3000\u00a0 \u2003",
    "",
    "a",
    "\u0301",
    "Don't can't won't it's O'Neill's \"quoted\" (paren) [brack] {brace} <angle> I'm we've they're you'll he'd",
    "\u2581 metaspace char \u2581\u2581 and  double\u2581space",
    "\u0120 \u010a byte-level lookalikes \u00c4\u00a0",
]

WORDS = ("the of and to in is was for on that with as by at from his her an which not this are be or had "
         "language model layer encoder token word sentence probe lens head mask vocabulary").split()


def main():
    rng = random.Random(20260302)
    pool = [s for s in BASE if s]
    lines = [{"a": s} for s in BASE]
    # generated mixtures: scripts and noise spliced into English-like text
    for i in range(180):
        k = rng.randint(1, 4)
        parts = []
        for _ in range(rng.randint(3, 14)):
            if rng.random() < 0.35:
                src = rng.choice(pool)
                start = rng.randrange(len(src))
                parts.append(src[start:start + rng.randint(1, 12)])
            else:
                w = rng.choice(WORDS)
                r = rng.random()
                w = w.upper() if r < 0.15 else w.capitalize() if r < 0.35 else w
                parts.append(w)
        sep = rng.choice([" ", " ", " ", "  ", "\u00a0", "\t", "\n", ""]) if k == 1 else " "
        lines.append({"a": sep.join(parts)})
    # pairs, including empty and long sides
    for i in range(120):
        a, b = rng.choice(pool), rng.choice(pool)
        if i % 10 == 0:
            b = b * rng.randint(2, 5)
        lines.append({"a": a, "b": b})
    lines.append({"a": "", "b": "only the second side"})
    lines.append({"a": "only the first side", "b": ""})
    with open(OUT, "w", encoding="ascii", newline="\n") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=True) + "\n")
    print(f"wrote {len(lines)} lines to {OUT}")


if __name__ == "__main__":
    main()
