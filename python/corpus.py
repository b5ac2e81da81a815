#!/usr/bin/env python3
"""Build the English training corpus for the reference checkpoint from Debian packages.

Sources (installed by scripts/install-python.sh):
  gcide    dict-gcide      /usr/share/dictd/gcide.dict.dz     (Webster 1913 + WordNet definitions)
  wordnet  wordnet-base    /usr/share/wordnet/data.{noun,verb,adj,adv}  (glosses + examples)
  foldoc   dict-foldoc     /usr/share/dictd/foldoc.dict.dz    (computing dictionary)
  jargon   dict-jargon     /usr/share/dictd/jargon.dict.dz    (Jargon File)
  bible    bible-kjv(-text) `bible` program over /usr/lib/bible.data (King James Version)
  fortune  fortunes(-min)  /usr/share/games/fortunes/*

Text is cleaned (markup stripped), split into sentences, kept if 5-60 words,
deduplicated (case-insensitive), shuffled with --seed and split into train and
held-out test (--test-frac).  Outputs under .cache/corpus/:
  train.tsv, test.tsv      source \t sentence
  train_tok.npz            WordPiece ids of train sentences (flat uint16 ids + lengths + source index)
  stats.json               sentence counts per source
Also writes committed derived data:
  data/heldout-sentences.txt          500 held-out sentences (<= 40 wordpieces each)
  data/source-clf/{train,dev}.tsv     text \t label (dictionary/bible/computing/fortune), held-out only
"""
import argparse, glob, gzip, json, os, random, re, subprocess, sys, unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

CLASS_OF = {"gcide": "dictionary", "wordnet": "dictionary", "foldoc": "computing", "jargon": "computing",
            "bible": "bible", "fortune": "fortune"}

SENT_SPLIT = re.compile(r'(?<=[.!?])["\')\]]*\s+(?=["\'(\[]?[A-Z0-9])')
ABBREV_END = re.compile(r'\b(?:[A-Z]|Mr|Mrs|Dr|St|Mt|etc|e\.g|i\.e|cf|vs|viz|Jr|Sr|No|fr|esp|p\.\s?p|pr|imp|Gr|L|F|OE|AS|Prof|Rev|Gen|Col|Capt|Lt)\.$')


def norm_space(s):
    return re.sub(r"\s+", " ", s).strip()


def split_sentences(text):
    parts = SENT_SPLIT.split(text)
    out, buf = [], ""
    for p in parts:
        buf = (buf + " " + p).strip() if buf else p.strip()
        if ABBREV_END.search(buf):
            continue
        out.append(buf)
        buf = ""
    if buf:
        out.append(buf)
    return out


def good(s):
    words = s.split()
    if not (5 <= len(words) <= 60):
        return False
    letters = sum(c.isalpha() for c in s)
    if letters < 0.7 * len(s.replace(" ", "")):
        return False
    if re.search(r"[|\\<>{}_=#@~^*]|https?:|www\.|\.\.\.\.|--", s):
        return False
    if not re.match(r'^["\'(]?[A-Za-z0-9]', s):
        return False
    return True


def dict_entries(path):
    """Yield entry bodies (list of paragraphs) from a dictd .dict.dz; body lines are indented."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    entry = []
    for line in text.split("\n"):
        if line and not line[0].isspace():
            if entry:
                yield entry
            entry = [line]
        else:
            entry.append(line)
    if entry:
        yield entry


def paragraphs(lines):
    para = []
    for l in lines:
        if l.strip():
            para.append(l.strip())
        elif para:
            yield " ".join(para)
            para = []
    if para:
        yield " ".join(para)


def from_gcide():
    for entry in dict_entries("/usr/share/dictd/gcide.dict.dz"):
        head = entry[0]
        if head.startswith("00-database") or "\\" not in head and len(entry) < 2:
            continue
        for p in paragraphs(entry[1:]):
            p = re.sub(r"\[(?:1913 Webster|WordNet 1\.5|PJC|Century Dict\.|Webster 1913 Suppl\.|RN|Chambers 1881)[^\]]*\]", " ", p)
            p = re.sub(r"\\[^\\]*\\", " ", p)            # pronunciation \Ab*jure"\
            p = re.sub(r"\[[^\]]*\]", " ", p)            # etymology / usage labels
            p = re.sub(r"--\s*[A-Z][^.]*\.", " ", p)     # --Shak. citations
            p = re.sub(r"^\s*(?:\d+\.|\([a-z]\)|Syn:|Note:|Defn:)\s*", "", p)
            p = p.replace("{", "").replace("}", "")
            p = p.replace('"', "\u0022")
            p = norm_space(p)
            if not p or p.startswith("Syn"):
                continue
            for s in split_sentences(p):
                yield s


def from_wordnet():
    for pos in ("noun", "verb", "adj", "adv"):
        with open(f"/usr/share/wordnet/data.{pos}", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("  ") or "|" not in line:
                    continue
                gloss = line.split("|", 1)[1].strip()
                for part in gloss.split(";"):
                    part = part.strip()
                    if part.startswith('"'):
                        part = part.strip('"').strip()
                        if part and part[0].isalpha():
                            part = part[0].upper() + part[1:]
                    if part and not part.endswith((".", "!", "?")) and part[0].isupper():
                        part += "."
                    if part:
                        yield norm_space(part)


def from_dictd_text(path):
    for entry in dict_entries(path):
        if entry[0].startswith("00-database") or entry[0].startswith("00database"):
            continue
        for p in paragraphs(entry[1:]):
            p = re.sub(r"<[^>]*>", " ", p)
            p = re.sub(r"\(\d{4}-\d{2}-\d{2}\)", " ", p)
            p = re.sub(r"^/[^/]*/,?\s*", "", p)                  # pronunciation
            p = re.sub(r"^\s*\d+\.\s*", "", p)
            p = p.replace("{", "").replace("}", "")
            p = p.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'").replace("\u2018", "'")
            p = p.replace("\u2014", " - ")
            p = norm_space(p)
            for s in split_sentences(p):
                yield s


def from_bible():
    out = subprocess.run(["bible", "gen1:1-rev22:21"], capture_output=True, text=True, check=True,
                         env=dict(os.environ, COLUMNS="100000")).stdout
    verse = []
    for line in out.split("\n"):
        m = re.match(r"^\s+\d+\s+(.*)$", line)
        if m:
            if verse:
                yield from split_sentences(norm_space(" ".join(verse)))
            verse = [m.group(1)]
        elif line.strip() and verse and not re.match(r"^[1-3]?\s?[A-Z][a-z]+( of [A-Z][a-z]+)? \d+$", line.strip()):
            verse.append(line)
        elif verse:
            yield from split_sentences(norm_space(" ".join(verse)))
            verse = []
    if verse:
        yield from split_sentences(norm_space(" ".join(verse)))


def from_fortunes():
    skip = {"ascii-art", "art"}
    d = "/usr/share/games/fortunes"
    files = sorted(f for f in os.listdir(d) if not f.endswith((".dat", ".u8")) and f not in skip
                   and os.path.isfile(os.path.join(d, f)))
    for name in files:
        p = os.path.join(d, name)
        if os.path.exists(p + ".u8"):
            p = p + ".u8"
        with open(p, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for fort in text.split("\n%\n"):
            lines = [l for l in fort.split("\n") if not re.match(r"^\s*(--|- )", l)]
            t = norm_space(" ".join(lines))
            t = t.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
            for s in split_sentences(t):
                yield s


def collect():
    gens = [("gcide", from_gcide()), ("wordnet", from_wordnet()),
            ("foldoc", from_dictd_text("/usr/share/dictd/foldoc.dict.dz")),
            ("jargon", from_dictd_text("/usr/share/dictd/jargon.dict.dz")),
            ("bible", from_bible()), ("fortune", from_fortunes())]
    seen, rows = set(), []
    for src, g in gens:
        for s in g:
            s = unicodedata.normalize("NFC", s.strip())
            if not good(s):
                continue
            key = re.sub(r"[^a-z0-9 ]", "", s.lower())
            if key in seen:
                continue
            seen.add(key)
            rows.append((src, s))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--test-frac", type=float, default=0.01)
    ap.add_argument("--out", default=os.path.join(ROOT, ".cache", "corpus"))
    ap.add_argument("--data", default=os.path.join(ROOT, "data"))
    ap.add_argument("--clf-train", type=int, default=500, help="source-clf train sentences per class")
    ap.add_argument("--clf-dev", type=int, default=100, help="source-clf dev sentences per class")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rows = collect()
    rows.sort()
    rng = random.Random(a.seed)
    rng.shuffle(rows)
    import numpy as np
    import wordpiece
    tok = wordpiece.default_tokenizer()
    # Held out first: a per-class pool for the source-classification data set
    # (balanced; <= 40 wordpieces), then a random --test-frac split for MLM eval.
    clf_pool, rest, per_class = {}, [], a.clf_train + a.clf_dev
    for src, s in rows:
        c = CLASS_OF[src]
        lst = clf_pool.setdefault(c, [])
        if len(lst) < per_class and len(tok.tokenize(s)) <= 40:
            lst.append(s)
        else:
            rest.append((src, s))
    n_test = max(2000, int(len(rest) * a.test_frac))
    test, train = rest[:n_test], rest[n_test:]
    for name, part in (("train", train), ("test", test)):
        with open(os.path.join(a.out, name + ".tsv"), "w", encoding="utf-8") as f:
            for src, s in part:
                f.write(f"{src}\t{s}\n")
    stats = {"total": len(rows), "train": len(train), "test": len(test), "source_clf_pool": sum(len(v) for v in clf_pool.values()), "per_source": {}, "train_per_source": {}}
    for src, _ in rows:
        stats["per_source"][src] = stats["per_source"].get(src, 0) + 1
    for src, _ in train:
        stats["train_per_source"][src] = stats["train_per_source"].get(src, 0) + 1

    srcs = sorted(CLASS_OF)
    ids, lens, srcidx = [], [], []
    ntok = 0
    for src, s in train:
        t = tok.convert_tokens_to_ids(tok.tokenize(s))
        ids.extend(t)
        lens.append(len(t))
        srcidx.append(srcs.index(src))
        ntok += len(t)
    np.savez(os.path.join(a.out, "train_tok.npz"), ids=np.array(ids, dtype=np.uint16),
             lens=np.array(lens, dtype=np.int32), src=np.array(srcidx, dtype=np.int8),
             sources=np.array(srcs))
    stats["train_wordpieces"] = ntok
    with open(os.path.join(a.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=2)

    # committed derived data, from held-out sentences only
    os.makedirs(os.path.join(a.data, "source-clf"), exist_ok=True)
    short = [(src, s) for src, s in test if len(tok.tokenize(s)) <= 40]
    with open(os.path.join(a.data, "heldout-sentences.txt"), "w", encoding="utf-8") as f:
        for _, s in short[:500]:
            f.write(s + "\n")
    tr, dv = [], []
    for c in sorted(clf_pool):
        v = clf_pool[c]
        tr += [(s, c) for s in v[:a.clf_train]]
        dv += [(s, c) for s in v[a.clf_train:]]
    rng2 = random.Random(a.seed + 1)
    rng2.shuffle(tr)
    rng2.shuffle(dv)
    for name, part in (("train", tr), ("dev", dv)):
        with open(os.path.join(a.data, "source-clf", name + ".tsv"), "w", encoding="utf-8") as f:
            f.write("text\tlabel\n")
            for s, c in part:
                f.write(f"{s}\t{c}\n")
    stats["heldout_sentences"] = min(500, len(short))
    stats["source_clf"] = {"train": len(tr), "dev": len(dv), "per_class": {c: len(v) for c, v in clf_pool.items()}}
    with open(os.path.join(a.out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=2)
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()
