"""Pure-Python BERT uncased tokenizer, equivalent to HF BertTokenizer(do_lower_case=True).

BasicTokenizer: clean text (drop NUL/U+FFFD/control chars, whitespace -> ' '),
pad CJK ideographs with spaces, whitespace split, lowercase + strip accents
(NFD, drop Mn), split on punctuation.  Then greedy longest-match-first
WordPiece with the '##' prefix; words longer than 100 chars become [UNK].
"""
import os
import re
import unicodedata


SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        toks = [line.rstrip("\n") for line in f]
    if toks and toks[-1] == "":
        toks.pop()
    return toks


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126):
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp):
    return ((0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF) or (0x20000 <= cp <= 0x2A6DF)
            or (0x2A700 <= cp <= 0x2B73F) or (0x2B740 <= cp <= 0x2B81F) or (0x2B820 <= cp <= 0x2CEAF)
            or (0xF900 <= cp <= 0xFAFF) or (0x2F800 <= cp <= 0x2FA1F))


def basic_tokenize(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            out.append(" ")
        elif _is_chinese_char(cp):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    text = "".join(out)
    tokens = []
    for word in text.strip().split():
        # per-character lowercasing, like HF's Rust tokenizers (no context-dependent final sigma:
        # "ΟΣ" -> "οσ", whereas str.lower() gives "ος")
        word = "".join(c.lower() for c in word)
        word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
        cur = []
        for c in word:
            if _is_punctuation(c):
                if cur:
                    tokens.append("".join(cur))
                    cur = []
                tokens.append(c)
            else:
                cur.append(c)
        if cur:
            tokens.append("".join(cur))
    return tokens


class WordPiece:
    def __init__(self, vocab_path=None, vocab=None, unk="[UNK]", max_chars=100):
        if vocab is None:
            vocab = load_vocab(vocab_path)
        self.vocab = list(vocab)
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.unk = unk
        self.max_chars = max_chars
        self.cls_id = self.ids["[CLS]"]
        self.sep_id = self.ids["[SEP]"]
        self.pad_id = self.ids["[PAD]"]
        self.mask_id = self.ids["[MASK]"]
        self.unk_id = self.ids[unk]
        self._cache = {}

    def _word(self, w):
        r = self._cache.get(w)
        if r is not None:
            return r
        if len(w) > self.max_chars:
            r = [self.unk]
        else:
            r, start = [], 0
            while start < len(w):
                end, cur = len(w), None
                while start < end:
                    sub = w[start:end]
                    if start > 0:
                        sub = "##" + sub
                    if sub in self.ids:
                        cur = sub
                        break
                    end -= 1
                if cur is None:
                    r = [self.unk]
                    break
                r.append(cur)
                start = end
        if len(self._cache) < 500000:
            self._cache[w] = r
        return r

    def tokenize(self, text):
        """Literal special tokens ([CLS], [SEP], [MASK], [UNK], [PAD]) in the text are kept
        whole, as HF's BertTokenizer / tokenizer.json added_tokens do."""
        out = []
        for part in _SPECIAL_SPLIT.split(text):
            if part in SPECIAL_TOKENS:
                out.append(part)
                continue
            for w in basic_tokenize(part):
                out.extend(self._word(w))
        return out

    def convert_tokens_to_ids(self, toks):
        return [self.ids.get(t, self.unk_id) for t in toks]

    def encode(self, text, text_pair=None, add_special_tokens=True):
        """Return dict(input_ids, token_type_ids, attention_mask) like HF."""
        a = self.convert_tokens_to_ids(self.tokenize(text))
        if not add_special_tokens:
            ids = a + (self.convert_tokens_to_ids(self.tokenize(text_pair)) if text_pair else [])
            return {"input_ids": ids, "token_type_ids": [0] * len(ids), "attention_mask": [1] * len(ids)}
        ids = [self.cls_id] + a + [self.sep_id]
        tt = [0] * len(ids)
        if text_pair:  # like HF and tokenizers.js, an empty string means "no pair"
            b = self.convert_tokens_to_ids(self.tokenize(text_pair))
            ids += b + [self.sep_id]
            tt += [1] * (len(b) + 1)
        return {"input_ids": ids, "token_type_ids": tt, "attention_mask": [1] * len(ids)}


def default_tokenizer():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = os.path.join(root, "models", "reference-bert-mini", "vocab.txt")
    if os.path.exists(p):
        return WordPiece(p)
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from build_vocab import load_vocab_list
    return WordPiece(vocab=load_vocab_list())
