#!/usr/bin/env python3
"""Fine-tune one or more BERT-family checkpoints on a classification task and write results JSON.

    python3 finetune.py --model=PATH [--model=PATH ...] (--task NAME | --data FILE) --out=DIR
                        [--eval-data FILE] [--lr 2e-5] [--batch-size 32] [--epochs 3]
                        [--max-length 128] [--seed 42] [--seeds 3] [--eval-steps N] [--max-steps N]
                        [--backend auto|transformers|torch]

Models may also be given as positionals after `--`.  Every path is taken literally: the
extension passes them as separate argv entries (never through a shell).

Backends
  transformers  AutoModelForSequenceClassification + Trainer (used whenever importable, unless
                --backend torch).  Works under `accelerate launch` and `torchrun`.
  torch         built-in: python/bert_torch.py (the same BERT code as the reference trainer) and
                python/wordpiece.py.  BERT checkpoints only; one process.

Seeds: --seeds N (default 3) runs every model with seeds SEED, SEED+1, ..., SEED+N-1, seed by seed
(every model with the first seed, then every model with the next), so that a baseline and its deepened
version are paired by seed and the first pair is complete early.  The evaluation split is the same for
every seed (a 10% hold-out, when no evaluation file is given, is drawn with SEED).

For every model and seed, <out>/<model-name>/seed-<seed>/results.json is rewritten atomically after
each evaluation (older single-seed runs wrote <out>/<model-name>/results.json; readers accept both):
    {"schema": "layer-lens-finetune/1", "status": "running"|"done"|"failed", "model": ..., "seed": 43,
     "epochs": [...], "final": {...}, ...}
"epochs" holds every evaluation, oldest first: one per epoch, and with --eval-steps N one every N
optimizer steps as well (each entry has "epoch", "step" and "at": "epoch"|"step"|"end").
"""
import argparse
import csv
import json
import math
import os
import random
import re
import sys
import time

SCHEMA = "layer-lens-finetune/1"
HERE = os.path.dirname(os.path.abspath(__file__))

# GLUE task -> (text column, pair column or None, eval split)
GLUE = {
    "cola": ("sentence", None, "validation"),
    "sst2": ("sentence", None, "validation"),
    "mrpc": ("sentence1", "sentence2", "validation"),
    "qqp": ("question1", "question2", "validation"),
    "mnli": ("premise", "hypothesis", "validation_matched"),
    "qnli": ("question", "sentence", "validation"),
    "rte": ("sentence1", "sentence2", "validation"),
    "wnli": ("sentence1", "sentence2", "validation"),
}
TEXT_COLUMNS = ("text", "sentence", "sentence1", "question", "premise", "text_a")
PAIR_COLUMNS = ("text_pair", "sentence2", "hypothesis", "text_b")


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="finetune.py", description=__doc__.split("\n")[0])
    p.add_argument("models_pos", nargs="*", metavar="MODEL", help="model folders (after --)")
    p.add_argument("--model", action="append", default=[], help="a model folder (repeatable); --model=PATH is safe for any path")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--task", help="GLUE task name (needs the datasets package and network)")
    src.add_argument("--data", help="local CSV, TSV or JSONL with text (and optional text_pair) and label columns")
    p.add_argument("--eval-data", help="evaluation file (default: a dev/validation file next to --data, else a 10%% split)")
    p.add_argument("--out", required=False, help="run folder: results go to OUT/<model-name>/results.json")
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--epochs", type=float, default=3)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=42, help="first seed")
    p.add_argument("--seeds", type=int, default=3, help="seeds per model: SEED, SEED+1, ... (default 3)")
    p.add_argument("--eval-steps", type=int, default=0, help="also evaluate every N optimizer steps (0 = per epoch only)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after this many optimizer steps (0 = no limit)")
    p.add_argument("--backend", choices=["auto", "transformers", "torch"], default="auto")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0 = torch's default)")
    p.add_argument("--print-args", action="store_true", help="print the parsed arguments as JSON and exit")
    a = p.parse_args(argv)
    a.models = list(a.model) + list(a.models_pos)
    return a


# ---------------------------------------------------------------- data

def read_table(path):
    ext = os.path.splitext(path)[1].lower()
    try:
        with open(path, encoding="utf-8", newline="") as f:
            if ext == ".jsonl":
                rows = []
                for i, line in enumerate(f, 1):
                    if line.strip():
                        try:
                            row = json.loads(line)
                        except json.JSONDecodeError as e:
                            raise UsageError(f"{path}: line {i} is not valid JSON ({e.msg})")
                        if not isinstance(row, dict):
                            raise UsageError(f"{path}: line {i} is not a JSON object with text and label fields")
                        rows.append(row)
                return rows
            if ext in (".csv", ".tsv"):
                if ext == ".tsv":  # TSV is not quoted (GLUE, our data): a '"' is just a character
                    return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
                return list(csv.DictReader(f))
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror})")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not valid UTF-8; save it as UTF-8")
    except csv.Error as e:
        raise UsageError(f"{path}: not a readable {ext[1:].upper()} file ({e})")
    raise UsageError(f"{path}: unsupported data file type '{ext}'; use .csv, .tsv or .jsonl")


def to_examples(rows, path):
    if not rows:
        raise UsageError(f"{path}: no rows")
    cols = set(rows[0].keys())
    text = next((c for c in TEXT_COLUMNS if c in cols), None)
    pair = next((c for c in PAIR_COLUMNS if c in cols), None)
    if text is None or "label" not in cols:
        raise UsageError(f"{path}: needs a text column ({', '.join(TEXT_COLUMNS)}) and a 'label' column; found: {', '.join(sorted(cols))}")
    out = []
    for i, r in enumerate(rows, 1):
        t, lab = r.get(text), r.get("label")
        if t is None or lab is None or str(lab).strip() == "":
            raise UsageError(f"{path}: row {i} is missing '{text}' or 'label'")
        out.append((str(t), None if pair is None or r.get(pair) is None else str(r.get(pair)), str(lab).strip()))
    return out


def sibling_eval_file(path):
    d, base = os.path.split(path)
    stem, ext = os.path.splitext(base)
    if not re.search(r"train", stem):
        return None
    for name in ("dev", "validation", "valid", "test"):
        cand = os.path.join(d, re.sub(r"train", name, stem, count=1) + ext)
        if os.path.exists(cand):
            return cand
    return None


def load_local(args):
    train = to_examples(read_table(args.data), args.data)
    eval_path = args.eval_data or sibling_eval_file(args.data)
    if eval_path:
        dev = to_examples(read_table(eval_path), eval_path)
        split = f"file {eval_path}"
    else:
        rnd = random.Random(args.seed)
        idx = list(range(len(train)))
        rnd.shuffle(idx)
        n_dev = max(1, len(train) // 10)
        dev = [train[i] for i in idx[:n_dev]]
        train = [train[i] for i in idx[n_dev:]]
        split = f"10% of {args.data} held out (seed {args.seed})"
    labels = sorted({lab for _, _, lab in train})
    unknown = sorted({lab for _, _, lab in dev} - set(labels))
    if unknown:
        raise UsageError(f"evaluation labels not seen in training: {', '.join(unknown[:5])}")
    if all(re.fullmatch(r"-?\d+", lab) for lab in labels):
        labels = sorted(labels, key=int)
    return {"kind": "data", "name": os.path.basename(args.data), "path": os.path.abspath(args.data), "eval": split,
            "labels": labels, "train": train, "dev": dev}


def load_glue(args):
    name = args.task.lower().replace("-", "")
    if name == "stsb":
        raise UsageError("GLUE stsb is a regression task; only classification tasks are supported")
    if name not in GLUE:
        raise UsageError(f"unknown GLUE task '{args.task}'; known: {', '.join(sorted(GLUE))}")
    try:
        import datasets  # noqa: F401
        from datasets import load_dataset
    except ImportError:
        raise UsageError("--task needs the 'datasets' package (pip install datasets) and network access; "
                         "or pass a local file with --data FILE")
    try:
        ds = load_dataset("glue", name)
    except Exception as e:  # offline, proxy, hub errors
        raise UsageError(f"could not load GLUE '{name}' through datasets (offline?): {str(e).splitlines()[0]}; "
                         "pass a local file with --data FILE instead")
    text, pair, ev = GLUE[name]
    names = ds["train"].features["label"].names
    conv = lambda split: [(r[text], r[pair] if pair else None, names[r["label"]]) for r in ds[split]]
    return {"kind": "glue", "name": name, "path": None, "eval": ev, "labels": list(names),
            "train": conv("train"), "dev": conv(ev)}


# ---------------------------------------------------------------- metrics / results

def metrics(preds, golds, n_labels):
    n = len(golds)
    acc = sum(int(p == g) for p, g in zip(preds, golds)) / max(1, n)
    f1s = []
    for c in range(n_labels):
        tp = sum(1 for p, g in zip(preds, golds) if p == c and g == c)
        fp = sum(1 for p, g in zip(preds, golds) if p == c and g != c)
        fn = sum(1 for p, g in zip(preds, golds) if p != c and g == c)
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    out = {"accuracy": acc, "f1_macro": sum(f1s) / max(1, n_labels)}
    if n_labels == 2:
        tp = sum(1 for p, g in zip(preds, golds) if p == 1 and g == 1)
        tn = sum(1 for p, g in zip(preds, golds) if p == 0 and g == 0)
        fp = sum(1 for p, g in zip(preds, golds) if p == 1 and g == 0)
        fn = sum(1 for p, g in zip(preds, golds) if p == 0 and g == 1)
        den = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
        out["mcc"] = 0.0 if den == 0 else (tp * tn - fp * fn) / den
    return out


class Results:
    def __init__(self, run_dir, doc, enabled=True):
        self.path = os.path.join(run_dir, "results.json")
        self.doc = doc
        self.enabled = enabled
        self.write()

    def write(self):
        if not self.enabled:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.doc, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def epoch(self, entry):
        self.doc["epochs"].append(entry)
        self.write()

    def finish(self, final):
        self.doc.update(status="done", final=final, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.write()

    def fail(self, msg):
        self.doc.update(status="failed", error=msg, finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        self.write()


def slug(name):
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"
    return s[:80]


def run_dirs(out, models):
    seen, dirs = {}, []
    for m in models:
        base = slug(os.path.basename(os.path.normpath(m)))
        seen[base] = seen.get(base, 0) + 1
        dirs.append(os.path.join(out, base if seen[base] == 1 else f"{base}-{seen[base]}"))
    return dirs


def read_config(model):
    path = os.path.join(model, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise UsageError(f"{path}: cannot read ({e.strerror}); a model folder needs config.json")
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}: not valid JSON ({e.msg})")


def set_seed(seed):
    import numpy as np
    import torch
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------- built-in torch backend

def load_bert_classifier(model_dir, num_labels):
    import numpy as np
    import torch
    sys.path.insert(0, HERE)
    import bert_torch as bt
    raw = read_config(model_dir)
    if raw.get("model_type") != "bert":
        raise UsageError(f"the built-in torch backend handles BERT checkpoints only (this is '{raw.get('model_type')}'); "
                         "install transformers for other families")
    cfg = bt.BertConfig.from_dict(dict(raw, num_labels=num_labels))
    model = bt.BertForSequenceClassification(cfg)
    tensors = {}
    single = os.path.join(model_dir, "model.safetensors")
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(single):
        tensors, _ = bt.load_safetensors(single)
    elif os.path.exists(index):
        with open(index, encoding="utf-8") as f:
            for shard in sorted(set(json.load(f)["weight_map"].values())):
                tensors.update(bt.load_safetensors(os.path.join(model_dir, shard))[0])
    else:
        raise UsageError(f"{model_dir}: no model.safetensors (the built-in backend reads safetensors only)")
    # legacy TF-converted names
    ren = lambda k: k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
    own = model.state_dict()
    sd = {ren(k): torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items() if ren(k) in own}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    fresh = sorted(k for k in missing)
    encoder_missing = [k for k in fresh if k.startswith("bert.embeddings") or k.startswith("bert.encoder")]
    if encoder_missing:
        raise UsageError(f"{model_dir}: checkpoint lacks encoder weights: {', '.join(encoder_missing[:4])}")
    return model, fresh, sorted(k for k in tensors if ren(k) not in own)


def tokenizer_for(model_dir):
    sys.path.insert(0, HERE)
    from wordpiece import WordPiece
    vocab = os.path.join(model_dir, "vocab.txt")
    if os.path.exists(vocab):
        tok = WordPiece(vocab)
    else:
        tj = os.path.join(model_dir, "tokenizer.json")
        if not os.path.exists(tj):
            raise UsageError(f"{model_dir}: no vocab.txt or tokenizer.json")
        with open(tj, encoding="utf-8") as f:
            v = json.load(f)["model"]["vocab"]
        tok = WordPiece(vocab=[t for t, _ in sorted(v.items(), key=lambda kv: kv[1])])
    cfg_path = os.path.join(model_dir, "tokenizer_config.json")
    if os.path.exists(cfg_path):
        with open(cfg_path, encoding="utf-8") as f:
            if json.load(f).get("do_lower_case") is False:
                print("warning: the built-in tokenizer lowercases; this tokenizer is cased", file=sys.stderr)
    return tok


def encode_all(tok, examples, label_ids, max_length):
    out = []
    for t, pair, lab in examples:
        e = tok.encode(t, pair)
        ids, tt = e["input_ids"], e["token_type_ids"]
        if len(ids) > max_length:  # keep [SEP] at the end
            ids, tt = ids[: max_length - 1] + [tok.sep_id], tt[: max_length - 1] + [tt[-1]]
        out.append((ids, tt, label_ids[lab]))
    return out


def collate(batch, pad_id, device):
    import torch
    T = max(len(b[0]) for b in batch)
    ids = torch.full((len(batch), T), pad_id, dtype=torch.long)
    tt = torch.zeros((len(batch), T), dtype=torch.long)
    am = torch.zeros((len(batch), T), dtype=torch.long)
    for i, (a, b, _) in enumerate(batch):
        ids[i, : len(a)] = torch.tensor(a)
        tt[i, : len(b)] = torch.tensor(b)
        am[i, : len(a)] = 1
    y = torch.tensor([b[2] for b in batch], dtype=torch.long)
    return ids.to(device), tt.to(device), am.to(device), y.to(device)


def run_torch(args, model_dir, task, results):
    import torch
    import torch.nn.functional as F
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UsageError("the built-in torch backend runs in one process; install transformers to use torchrun/accelerate")
    set_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    labels = task["labels"]
    label_ids = {l: i for i, l in enumerate(labels)}
    model, fresh, ignored = load_bert_classifier(model_dir, len(labels))
    results.doc["loading"] = {"newly_initialized": fresh, "unused": ignored}
    model.to(device)
    tok = tokenizer_for(model_dir)
    train = encode_all(tok, task["train"], label_ids, args.max_length)
    dev = encode_all(tok, task["dev"], label_ids, args.max_length)

    no_decay = lambda n: n.endswith(".bias") or "LayerNorm" in n
    params = [{"params": [p for n, p in model.named_parameters() if not no_decay(n)], "weight_decay": 0.01},
              {"params": [p for n, p in model.named_parameters() if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(params, lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    # as in Trainer, --max-steps overrides the number of epochs
    total = args.max_steps if args.max_steps > 0 else math.ceil(steps_per_epoch * args.epochs)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / max(1, total)))  # Trainer default: linear, no warmup

    @torch.no_grad()
    def evaluate():
        model.eval()
        preds, golds, loss_sum = [], [], 0.0
        for i in range(0, len(dev), 128):
            ids, tt, am, y = collate(dev[i:i + 128], tok.pad_id, device)
            logits = model(ids, tt, am)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            preds += logits.argmax(-1).tolist()
            golds += y.tolist()
        model.train()
        return dict(eval_loss=loss_sum / max(1, len(dev)), **metrics(preds, golds, len(labels)))

    rnd = random.Random(args.seed)
    step, t0, last = 0, time.time(), None
    model.train()
    epoch = 0
    # train loss since the last evaluation, for each entry
    window = {"sum": 0.0, "n": 0}

    def record(at):
        nonlocal last
        ev = evaluate()
        last = dict(epoch=round(step / steps_per_epoch, 4), step=step, at=at,
                    train_loss=window["sum"] / window["n"] if window["n"] else None,
                    seconds=round(time.time() - t0, 2), **ev)
        window.update(sum=0.0, n=0)
        tl = "–" if last["train_loss"] is None else f"{last['train_loss']:.4f}"
        print(f"[{results.doc['model_name']} seed {args.seed}] step {step} (epoch {last['epoch']:.2f}, {at} evaluation): train loss {tl}, "
              f"eval loss {ev['eval_loss']:.4f}, accuracy {ev['accuracy']:.4f}", flush=True)
        results.epoch(last)

    while step < total:
        order = list(range(len(train)))
        rnd.shuffle(order)
        for i in range(0, len(order), args.batch_size):
            if step >= total:
                break
            ids, tt, am, y = collate([train[j] for j in order[i:i + args.batch_size]], tok.pad_id, device)
            loss = F.cross_entropy(model(ids, tt, am), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            window["sum"] += loss.item()
            window["n"] += 1
            if args.eval_steps and step % args.eval_steps == 0 and step < total and i + args.batch_size < len(order):
                record("step")
        epoch += 1
        record("epoch" if step < total else "end")
    return dict(last, steps=step, train_seconds=round(time.time() - t0, 2))


# ---------------------------------------------------------------- transformers backend

SAFETENSORS_FILES = ("model.safetensors", "model.safetensors.index.json")


def require_safetensors(model_dir):
    """The transformers backend loads safetensors only. A pytorch_model.bin is a pickle, and loading
    it goes through torch.load, which can run code from the file; refuse it before transformers is
    even imported (from_pretrained is also called with use_safetensors=True, which never falls back)."""
    if any(os.path.isfile(os.path.join(model_dir, f)) for f in SAFETENSORS_FILES):
        return
    try:
        pickles = sorted(f for f in os.listdir(model_dir) if f.endswith((".bin", ".pt", ".pth", ".ckpt")))
    except OSError:
        pickles = []
    found = f"it has only {pickles[0]}" if pickles else "it has no weights file"
    raise UsageError(f"{model_dir}: no model.safetensors; {found}, and the transformers backend never loads pickled "
                     "weights (torch.load can run code); convert it to safetensors first")


def run_transformers(args, model_dir, task, results, run_dir):
    require_safetensors(model_dir)
    import inspect
    import numpy as np
    import torch
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainerCallback,
                              TrainingArguments, DataCollatorWithPadding)
    set_seed(args.seed)
    labels = task["labels"]
    label_ids = {l: i for i, l in enumerate(labels)}
    tok = AutoTokenizer.from_pretrained(model_dir)
    model, info = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label_ids, output_loading_info=True,
        use_safetensors=True)
    # Train in float32 whatever the checkpoint stores: recent transformers keep the checkpoint's
    # dtype (e.g. float16), and plain fp16 training without a scaler diverges to NaN.
    model = model.float()
    results.doc["loading"] = {k: sorted(v) if isinstance(v, (list, set)) else str(v) for k, v in info.items()}

    class DS(torch.utils.data.Dataset):
        def __init__(self, ex):
            self.items = []
            for t, pair, lab in ex:
                e = tok(t, pair, truncation=True, max_length=args.max_length)
                e["labels"] = label_ids[lab]
                self.items.append(e)

        def __len__(self):
            return len(self.items)

        def __getitem__(self, i):
            return self.items[i]

    train, dev = DS(task["train"]), DS(task["dev"])
    kw = dict(output_dir=os.path.join(run_dir, "trainer"), learning_rate=args.lr, per_device_train_batch_size=args.batch_size,
              per_device_eval_batch_size=max(args.batch_size, 64), num_train_epochs=args.epochs, max_steps=args.max_steps or -1,
              seed=args.seed, save_strategy="no", report_to=[], logging_strategy="epoch", weight_decay=0.01,
              disable_tqdm=True)
    sig = inspect.signature(TrainingArguments.__init__).parameters
    kw["eval_strategy" if "eval_strategy" in sig else "evaluation_strategy"] = "epoch"
    targs = TrainingArguments(**kw)
    n_labels = len(labels)

    def compute(p):
        logits = p.predictions[0] if isinstance(p.predictions, tuple) else p.predictions
        return metrics(np.argmax(logits, -1).tolist(), p.label_ids.tolist(), n_labels)

    t0 = time.time()
    train_losses = {}

    class Record(TrainerCallback):
        def on_log(self, a, state, control, logs=None, **k):
            if logs and "loss" in logs:
                train_losses[state.global_step] = logs["loss"]

        def on_step_end(self, a, state, control, **k):
            # --eval-steps: an evaluation every N steps besides the per-epoch ones (not twice at an epoch's end)
            at_epoch_end = state.max_steps > 0 and abs((state.epoch or 0) - round(state.epoch or 0)) < 1e-9
            if args.eval_steps and state.global_step % args.eval_steps == 0 and state.global_step < state.max_steps and not at_epoch_end:
                control.should_evaluate = True
                self.next_at = "step"
            return control

        def on_evaluate(self, a, state, control, metrics=None, **k):
            m = {k2[5:] if k2.startswith("eval_") and k2 != "eval_loss" else k2: v for k2, v in (metrics or {}).items()}
            at = getattr(self, "next_at", None) or ("end" if state.global_step >= state.max_steps else "epoch")
            self.next_at = None
            entry = dict(epoch=round(state.epoch or 0, 4), step=state.global_step, at=at, seconds=round(time.time() - t0, 2),
                         train_loss=train_losses.get(state.global_step), eval_loss=m.get("eval_loss"),
                         **{k2: m[k2] for k2 in ("accuracy", "f1_macro", "mcc") if k2 in m})
            results.epoch(entry)

    sig_t = inspect.signature(Trainer.__init__).parameters
    tk = dict(model=model, args=targs, train_dataset=train, eval_dataset=dev, compute_metrics=compute,
              data_collator=DataCollatorWithPadding(tok), callbacks=[Record()])
    tk["processing_class" if "processing_class" in sig_t else "tokenizer"] = tok
    trainer = Trainer(**tk)
    results.enabled = trainer.is_world_process_zero()
    out = trainer.train()
    if not results.doc["epochs"] or results.doc["epochs"][-1]["step"] != trainer.state.global_step:
        trainer.evaluate()
    last = dict(results.doc["epochs"][-1]) if results.doc["epochs"] else {}
    last.update(steps=trainer.state.global_step, train_seconds=round(time.time() - t0, 2), train_loss=out.training_loss)
    return last


# ---------------------------------------------------------------- main

def choose_backend(requested):
    if requested == "torch":
        return "torch"
    try:
        import transformers  # noqa: F401
        return "transformers"
    except ImportError:
        if requested == "transformers":
            raise UsageError("--backend transformers: the transformers package is not importable in this Python")
        return "torch"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.print_args:
        print(json.dumps({k: v for k, v in vars(args).items() if k not in ("model", "models_pos")}, ensure_ascii=False))
        return 0
    try:
        if not args.models:
            raise UsageError("give at least one model folder (--model=PATH)")
        if not args.task and not args.data:
            raise UsageError("give a task: --task GLUE_NAME or --data FILE")
        if not args.out:
            raise UsageError("give a run folder with --out=DIR")
        for name, v in (("--lr", args.lr), ("--batch-size", args.batch_size), ("--epochs", args.epochs), ("--max-length", args.max_length)):
            if not v > 0:
                raise UsageError(f"{name} must be positive, got {v}")
        if args.max_steps < 0:
            raise UsageError(f"--max-steps must be ≥ 0, got {args.max_steps}")
        if args.seeds < 1:
            raise UsageError(f"--seeds must be ≥ 1, got {args.seeds}")
        if args.eval_steps < 0:
            raise UsageError(f"--eval-steps must be ≥ 0, got {args.eval_steps}")
        for m in args.models:
            if not os.path.isfile(os.path.join(m, "config.json")):
                raise UsageError(f"{m}: not a model folder (no config.json)")
        backend = choose_backend(args.backend)
        if args.threads > 0:
            import torch
            torch.set_num_threads(args.threads)
        task = load_local(args) if args.data else load_glue(args)
    except UsageError as e:
        print(f"finetune.py: {e}", file=sys.stderr)
        return 2
    rank0 = int(os.environ.get("RANK", "0")) == 0
    print(f"task {task['name']}: {len(task['train'])} train, {len(task['dev'])} eval ({task['eval']}), "
          f"labels {task['labels']}; backend {backend}", flush=True)
    failed = 0
    seeds = [args.seed + k for k in range(args.seeds)]
    model_dirs = run_dirs(args.out, args.models)
    print(f"{len(args.models)} model(s) x {len(seeds)} seed(s) {seeds}: {len(args.models) * len(seeds)} runs", flush=True)
    for seed in seeds:  # seed by seed: each pair (baseline, deepened) is complete before the next seed starts
        run_args = argparse.Namespace(**vars(args))
        run_args.seed = seed
        for model_dir, model_out in zip(args.models, model_dirs):
            run_dir = os.path.join(model_out, f"seed-{seed}")
            if rank0:
                os.makedirs(run_dir, exist_ok=True)
            cfg = {}
            try:
                cfg = read_config(model_dir)
            except UsageError:
                pass
            doc = {
                "schema": SCHEMA, "status": "running", "backend": backend,
                "model": os.path.abspath(model_dir), "model_name": os.path.basename(os.path.normpath(model_dir)),
                "model_type": cfg.get("model_type"), "num_layers": cfg.get("num_hidden_layers", cfg.get("n_layers")),
                "layer_lens": cfg.get("layer_lens"),
                "seed": seed, "seeds": seeds,
                "task": {k: task[k] for k in ("kind", "name", "path", "eval", "labels")} | {"train_size": len(task["train"]), "eval_size": len(task["dev"])},
                "hyperparameters": {"lr": args.lr, "batch_size": args.batch_size, "epochs": args.epochs, "max_length": args.max_length,
                                    "seed": seed, "max_steps": args.max_steps, "eval_steps": args.eval_steps},
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "epochs": [], "final": None,
            }
            results = Results(run_dir, doc, enabled=rank0)
            try:
                final = (run_transformers(run_args, model_dir, task, results, run_dir) if backend == "transformers"
                         else run_torch(run_args, model_dir, task, results))
                results.finish(final)
                print(f"[{doc['model_name']} seed {seed}] done: accuracy {final.get('accuracy', float('nan')):.4f} -> {results.path}", flush=True)
            except UsageError as e:
                results.fail(str(e))
                print(f"finetune.py: {e}", file=sys.stderr)
                failed += 1
            except Exception as e:  # keep going with the next run; record why this one failed
                results.fail(f"{type(e).__name__}: {e}")
                print(f"finetune.py: {doc['model_name']} seed {seed} failed: {type(e).__name__}: {e}", file=sys.stderr)
                failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
