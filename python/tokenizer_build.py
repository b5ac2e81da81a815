#!/usr/bin/env python3
"""Builds tokenizers the way real checkpoints get theirs, with HF's own tools, and records HF Rust's ids.

usage: tokenizer_build.py OUT_DIR
Writes OUT_DIR/<name>/ (tokenizer.json, tokenizer_config.json, and for SentencePiece ones the .model file)
for every tokenizer, plus OUT_DIR/expected.json: for each tokenizer and each line of
data/tokenizer-stress.jsonl, the ids and type ids HF's `tokenizers` (Rust) gives from that tokenizer.json,
in full and truncated (LongestFirst, as `truncation=True, max_length=N` does). Everything is seeded and
local: the training text is the repo's data/*.txt, the stress corpus and Debian's gcide dictionary.
"""
import gzip, json, os, shutil, sys

import sentencepiece as spm
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
import transformers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRESS = os.path.join(ROOT, "data", "tokenizer-stress.jsonl")
TRUNC = [9, 16]
LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def training_text(out):
    lines = []
    with open(os.path.join(ROOT, "data", "heldout-sentences.txt"), encoding="utf-8") as f:
        lines += [l.strip() for l in f if l.strip()]
    gcide = "/usr/share/dictd/gcide.dict.dz"
    if os.path.exists(gcide):
        with gzip.open(gcide, "rt", encoding="utf-8", errors="replace") as f:
            text = f.read(1_500_000)
        lines += [l.strip() for l in text.splitlines() if len(l.strip()) > 20]
    with open(STRESS, encoding="ascii") as f:
        for l in f:
            c = json.loads(l)
            lines += [c["a"], c.get("b", "")] * 3
    path = os.path.join(out, "train.txt")
    with open(path, "w", encoding="utf-8") as f:
        for l in lines:
            l = l.replace("\n", " ").replace("\r", " ").replace("\u2028", " ").replace("\u2029", " ").replace("\x85", " ")
            if l.strip():
                f.write(l + "\n")
    return path


def byte_level_bpe(text, specials, pre, vocab_size=3000):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train([text], trainer)
    return tok


def build(out):
    os.makedirs(out, exist_ok=True)
    text = training_text(out)
    names = []

    def save(name, t):
        d = os.path.join(out, name)
        t.save_pretrained(d)
        names.append(name)

    # WordPiece, BertTokenizerFast, with the reference model's vocabulary
    vocab = os.path.join(ROOT, "models", "reference-bert-mini", "vocab.txt")
    save("bert-uncased", transformers.BertTokenizerFast(vocab_file=vocab, do_lower_case=True))
    save("bert-cased", transformers.BertTokenizerFast(vocab_file=vocab, do_lower_case=False))

    # RoBERTa way: ByteLevelBPE trained with tokenizers, then RobertaTokenizerFast from vocab.json/merges.txt
    rob = byte_level_bpe(text, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"], pre_tokenizers.ByteLevel(add_prefix_space=False))
    rdir = os.path.join(out, "_roberta_files")
    os.makedirs(rdir, exist_ok=True)
    rob.model.save(rdir)
    save("roberta", transformers.RobertaTokenizerFast.from_pretrained(rdir))  # vocab.json + merges.txt, as roberta-base ships

    # ModernBERT way: byte-level BPE, [MASK] with lstrip, template [CLS] $A [SEP]
    mb = byte_level_bpe(text, ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"], pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True))
    mb.add_special_tokens([AddedToken("[MASK]", lstrip=True, rstrip=False, normalized=False, special=True)])
    mb.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", mb.token_to_id("[CLS]")), ("[SEP]", mb.token_to_id("[SEP]"))])
    save("modernbert", transformers.PreTrainedTokenizerFast(
        tokenizer_object=mb, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]", unk_token="[UNK]",
        mask_token=AddedToken("[MASK]", lstrip=True, normalized=False, special=True)))

    # Llama-3 style, as EuroBERT ships: regex Split + ByteLevel(use_regex=False), ignore_merges, <|mask|>
    l3 = Tokenizer(models.BPE(ignore_merges=True))
    l3.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    l3.decoder = decoders.ByteLevel()
    l3.train([text], trainers.BpeTrainer(vocab_size=3000, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                         special_tokens=["<|begin_of_text|>", "<|end_of_text|>", "<|mask|>", "<|pad|>"]))
    l3.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A <|end_of_text|>", pair="<|begin_of_text|> $A <|end_of_text|> $B:1 <|end_of_text|>:1",
        special_tokens=[("<|begin_of_text|>", l3.token_to_id("<|begin_of_text|>")), ("<|end_of_text|>", l3.token_to_id("<|end_of_text|>"))])
    save("eurobert", transformers.PreTrainedTokenizerFast(
        tokenizer_object=l3, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>", pad_token="<|pad|>", mask_token="<|mask|>"))

    # SentencePiece Unigram, trained on the text, converted by transformers' own classes
    spm_dir = os.path.join(out, "_spm")
    os.makedirs(spm_dir, exist_ok=True)
    def train(tag, **ids):
        prefix = os.path.join(spm_dir, tag)
        spm.SentencePieceTrainer.train(input=text, model_prefix=prefix, vocab_size=4000, model_type="unigram",
                                       character_coverage=0.9995, normalization_rule_name="nmt_nfkc", seed_sentencepiece_size=200000,
                                       num_threads=1, minloglevel=2, **ids)
        return prefix + ".model"
    plain = train("plain")  # <unk> <s> </s>, as XLM-R's and CamemBERT's
    albert = train("albert", pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, control_symbols="[CLS],[SEP],[MASK]")
    deberta = train("deberta", pad_id=0, pad_piece="[PAD]", bos_id=1, bos_piece="[CLS]", eos_id=2, eos_piece="[SEP]", unk_id=3, unk_piece="[UNK]")
    for name, cls, fname, model, kwargs in [
        ("xlm-roberta", "XLMRobertaTokenizer", "sentencepiece.bpe.model", plain, {}),
        ("camembert", "CamembertTokenizer", "sentencepiece.bpe.model", plain, {}),
        ("albert", "AlbertTokenizer", "spiece.model", albert, {}),
        ("albert-cased", "AlbertTokenizer", "spiece.model", albert, {"do_lower_case": False, "keep_accents": True}),
        ("deberta-v3", "DebertaV2Tokenizer", "spm.model", deberta, {}),
        ("deberta-v3-punct", "DebertaV2Tokenizer", "spm.model", deberta, {"split_by_punct": True}),
    ]:
        src = os.path.join(out, "_src_" + name)
        os.makedirs(src, exist_ok=True)
        shutil.copy(model, os.path.join(src, fname))
        t = getattr(transformers, cls).from_pretrained(src, **kwargs)
        save(name, t)
        # the folder as older repos ship it: only the SentencePiece model (plus the config the class reads)
        spm_only = os.path.join(out, name + "-spm")
        os.makedirs(spm_only, exist_ok=True)
        shutil.copy(model, os.path.join(spm_only, fname))
        cfg = json.load(open(os.path.join(out, name, "tokenizer_config.json")))
        json.dump({k: v for k, v in cfg.items() if k in ("do_lower_case", "keep_accents", "split_by_punct", "tokenizer_class", "add_prefix_space")},
                  open(os.path.join(spm_only, "tokenizer_config.json"), "w"))
    return names


def expected(out, names):
    cases = [json.loads(l) for l in open(STRESS, encoding="ascii")]
    res = {}
    for name in names:
        tok = Tokenizer.from_file(os.path.join(out, name, "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        rows = []
        for c in cases:
            def enc(t=None):
                if t is None:
                    tok.no_truncation()
                else:
                    tok.enable_truncation(t, strategy="longest_first")
                e = tok.encode(c["a"], c["b"]) if "b" in c else tok.encode(c["a"])
                return [e.ids, e.type_ids]
            row = {"full": enc()}
            for t in TRUNC:
                row[str(t)] = enc(t)
            rows.append(row)
        tok.no_truncation()
        res[name] = rows
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"names": names, "trunc": TRUNC, "versions": {"tokenizers": __import__("tokenizers").__version__,
                   "transformers": transformers.__version__, "sentencepiece": spm.__version__}, "rows": res}, f)


if __name__ == "__main__":
    out = sys.argv[1]
    names = build(out)
    expected(out, names)
    print(json.dumps({"tokenizers": names}))
