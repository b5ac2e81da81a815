#!/usr/bin/env python3
"""Local checks of scripts/device/hf_golden.py where transformers is not installed (only torch).

  /usr/bin/python3 scripts/device/test_hf_golden.py

1. Pure helpers: rounding, example/batch building, per-layer statistics against a direct
   computation, weight re-initialisation keeps tying, plan parsing, vocab.txt.
2. The whole main() flow, BERT only, with a small fake `transformers` + `safetensors` (a plain
   post-LN BERT in torch exposing the attributes the script uses), including the deepen check on a
   hand-made "deepened" copy and the fine-tune check against a fake python/finetune.py.
This checks the script's control flow and file layout, not HF's numbers (only the device can).
"""
import json
import math
import os
import struct
import sys
import tarfile
import tempfile
import types
import unittest

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


# ---------------------------------------------------------------- fake transformers / safetensors


def _write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def _read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(e["shape"]).clone()
    return out


class _Slice:
    def __init__(self, t):
        self.t = t

    def get_dtype(self):
        return "F32"

    def get_shape(self):
        return list(self.t.shape)


class _SafeOpen:
    def __init__(self, path, framework="pt"):
        self.tensors = _read_safetensors(path)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def keys(self):
        return list(self.tensors)

    def get_slice(self, k):
        return _Slice(self.tensors[k])


class BertConfig:
    model_type = "bert"

    def __init__(self, vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=64, max_position_embeddings=40, type_vocab_size=2, hidden_act="gelu",
                 layer_norm_eps=1e-12, pad_token_id=0, num_labels=2, **kw):
        self.__dict__.update({k: v for k, v in locals().items() if k not in ("self", "kw")})
        self.__dict__.update(kw)
        self._attn_implementation = "eager"

    def to_dict(self):
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}


class _Out(dict):
    __getattr__ = dict.get


class _Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, input_ids, token_type_ids=None):
        pos = torch.arange(input_ids.shape[1])[None]
        tt = token_type_ids if token_type_ids is not None else torch.zeros_like(input_ids)
        return self.LayerNorm(self.word_embeddings(input_ids) + self.position_embeddings(pos) + self.token_type_embeddings(tt))


def _box(**modules):
    m = nn.Module()
    for k, v in modules.items():
        setattr(m, k, v)
    return m


class _Layer(nn.Module):
    """A post-LN BERT layer with HF's module (hence tensor) names."""

    def __init__(self, c):
        super().__init__()
        H, I, eps = c.hidden_size, c.intermediate_size, c.layer_norm_eps
        self.heads = c.num_attention_heads
        self.attention = _box(
            self=_box(query=nn.Linear(H, H), key=nn.Linear(H, H), value=nn.Linear(H, H)),
            output=_box(dense=nn.Linear(H, H), LayerNorm=nn.LayerNorm(H, eps=eps)),
        )
        self.intermediate = _box(dense=nn.Linear(H, I))
        self.output = _box(dense=nn.Linear(I, H), LayerNorm=nn.LayerNorm(H, eps=eps))

    def forward(self, x, attention_mask=None):
        B, S, H = x.shape
        d = H // self.heads
        att = self.attention
        sp = lambda t: t.view(B, S, self.heads, d).transpose(1, 2)  # noqa: E731
        s = sp(att.self.query(x)) @ sp(att.self.key(x)).transpose(-1, -2) / math.sqrt(d)
        if attention_mask is not None:
            s = s + (1.0 - attention_mask[:, None, None, :].to(s.dtype)) * torch.finfo(s.dtype).min
        a = (s.softmax(-1) @ sp(att.self.value(x))).transpose(1, 2).reshape(B, S, H)
        x = att.output.LayerNorm(x + att.output.dense(a))
        y = self.output.dense(nn.functional.gelu(self.intermediate.dense(x)))
        return (self.output.LayerNorm(x + y),)


class _Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([_Layer(c) for _ in range(c.num_hidden_layers)])


class _Bert(nn.Module):
    def __init__(self, c, pooler=False):
        super().__init__()
        self.embeddings, self.encoder = _Embeddings(c), _Encoder(c)
        if pooler:
            self.pooler = _box(dense=nn.Linear(c.hidden_size, c.hidden_size))

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        h = self.embeddings(input_ids, token_type_ids)
        hs = [h]
        for layer in self.encoder.layer:
            h = layer(h, attention_mask)[0]
            hs.append(h)
        return hs


class _Transform(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense, self.LayerNorm = nn.Linear(c.hidden_size, c.hidden_size), nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, h):
        return self.LayerNorm(nn.functional.gelu(self.dense(h)))


class _Predictions(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transform = _Transform(c)
        self.decoder = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))

    def forward(self, h):
        return self.decoder(self.transform(h)) + self.bias


class _Cls(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.predictions = _Predictions(c)

    def forward(self, h):
        return self.predictions(h)


class _Base(nn.Module):
    config_class = BertConfig
    tied = {}

    def save_pretrained(self, folder):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(dict(self.config.to_dict(), model_type="bert"), f)
        sd = {k: v for k, v in self.state_dict().items() if k not in self.tied}
        _write_safetensors(os.path.join(folder, "model.safetensors"), sd)

    @classmethod
    def from_pretrained(cls, folder, output_loading_info=False, attn_implementation=None, **kw):
        with open(os.path.join(folder, "config.json")) as f:
            c = BertConfig(**{**json.load(f), **kw})
        m = cls(c)
        st = os.path.join(folder, "model.safetensors")
        sd = _read_safetensors(st) if os.path.exists(st) else torch.load(os.path.join(folder, "pytorch_model.bin"))
        own = m.state_dict()
        missing = [k for k in own if k not in sd and k not in cls.tied]
        unexpected = [k for k in sd if k not in own]
        m.load_state_dict({k: v for k, v in sd.items() if k in own}, strict=False)
        m.tie_weights()
        info = {"missing_keys": missing, "unexpected_keys": unexpected, "mismatched_keys": [], "error_msgs": []}
        return (m, info) if output_loading_info else m


class BertForMaskedLM(_Base):
    tied = {"cls.predictions.decoder.weight"}

    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert, self.cls = _Bert(c), _Cls(c)
        self.tie_weights()

    def tie_weights(self):
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def get_input_embeddings(self):
        return self.bert.embeddings.word_embeddings

    def get_output_embeddings(self):
        return self.cls.predictions.decoder

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, output_hidden_states=False, return_dict=True):
        hs = self.bert(input_ids, attention_mask, token_type_ids)
        return _Out(logits=self.cls(hs[-1]), hidden_states=tuple(hs) if output_hidden_states else None)


class BertForSequenceClassification(_Base):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = _Bert(c, pooler=True)
        self.classifier = nn.Linear(c.hidden_size, c.num_labels)

    def tie_weights(self):
        pass

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        hs = self.bert(input_ids, attention_mask, token_type_ids)
        return _Out(logits=self.classifier(torch.tanh(self.bert.pooler.dense(hs[-1][:, 0]))))


def install_fakes():
    tf = types.ModuleType("transformers")
    tf.__version__ = "0.0-fake"
    tf.BertConfig, tf.BertForMaskedLM, tf.BertForSequenceClassification = BertConfig, BertForMaskedLM, BertForSequenceClassification
    st = types.ModuleType("safetensors")
    st.__version__ = "0.0-fake"
    st.safe_open = _SafeOpen
    sys.modules["transformers"], sys.modules["safetensors"] = tf, st


install_fakes()
import hf_golden as hg  # noqa: E402


# ---------------------------------------------------------------- tests


def read_json(folder, name):
    with open(os.path.join(folder, name), encoding="utf-8") as f:
        return json.load(f)


class Helpers(unittest.TestCase):
    def test_r7(self):
        self.assertEqual(hg.r7(-1.234567891), -1.234568)
        self.assertEqual(hg.r7(1e-9 / 3), 3.333333e-10)
        with self.assertRaises(ValueError):
            hg.r7(float("nan"))

    def test_examples_and_batches(self):
        for spec in hg.FAMILIES:
            ex = hg.build_examples(spec, spec.config["vocab_size"])
            self.assertEqual([len(e.ids) for e in ex], [9, 5, 12], spec.name)
            self.assertEqual(ex, hg.build_examples(spec, spec.config["vocab_size"]), "deterministic")
            for e in ex:
                self.assertEqual(e.ids[0], spec.bos)
                self.assertEqual(e.ids[-1], spec.eos)
                inner = [i for i in e.ids[1:-1] if i not in (spec.eos,)]
                self.assertTrue(all(spec.first_normal_id <= i < spec.config["vocab_size"] for i in inner))
                self.assertNotIn(spec.pad, e.ids[1:-1])
                if spec.token_types:
                    self.assertEqual(len(e.type_ids), len(e.ids))
                else:
                    self.assertIsNone(e.type_ids)
            if spec.token_types:
                self.assertEqual(ex[2].type_ids, [0] * 7 + [1] * 5)
            if spec.pair_style == "roberta":
                self.assertEqual(ex[2].ids[6:8], [spec.eos, spec.eos])
            b1, b2 = hg.batches_for(spec, ex)
            self.assertEqual(tuple(b1.input_ids.shape), (2, 9))
            self.assertEqual(b1.input_ids[1, 5:].tolist(), [spec.pad] * 4)
            self.assertEqual(b1.attention_mask[1].tolist(), [1] * 5 + [0] * 4)
            self.assertEqual(tuple(b2.input_ids.shape), (1, 12))
            self.assertEqual(b1.token_type_ids is not None, spec.token_types)
            json.dumps(b1.to_json())

    def test_roberta_positions(self):
        ids = torch.tensor([[0, 7, 8, 2, 1, 1]])
        self.assertEqual(hg.roberta_position_ids(ids, 1).tolist(), [[2, 3, 4, 5, 1, 1]])

    def test_layer_stats(self):
        g = torch.Generator().manual_seed(0)
        logits = torch.randn(4, 50, generator=g, dtype=torch.float64) * 3
        final = torch.randn(4, 50, generator=g, dtype=torch.float64) * 3
        lp, fp = logits.log_softmax(-1), final.log_softmax(-1)
        ids = [3, 10, 49, 0]
        s = hg.layer_stats(lp, fp, ids)
        for p, i in enumerate(ids):
            row = lp[p].tolist()
            self.assertAlmostEqual(s["input_logp"][p], row[i], places=5)
            self.assertEqual(s["rank"][p], 1 + sum(v > row[i] for v in row))
            order = sorted(range(50), key=lambda j: -row[j])
            self.assertEqual(s["top_ids"][p], order[:5])
            self.assertEqual(s["argmax"][p], order[0])
            self.assertAlmostEqual(s["top1_gap"][p], row[order[0]] - row[order[1]], places=5)
            self.assertAlmostEqual(s["rank_gap"][p], min(abs(v - row[i]) for j, v in enumerate(row) if j != i), places=6)
            self.assertAlmostEqual(s["entropy"][p], -sum(math.exp(v) * v for v in row), places=5)
            f = fp[p].tolist()
            self.assertAlmostEqual(s["kl"][p], sum(math.exp(a) * (a - b) for a, b in zip(f, row)), places=5)
        self.assertEqual(hg.layer_stats(fp, fp, ids)["kl"], [0.0] * 4)

    def test_randomize_keeps_tying(self):
        m = BertForMaskedLM(BertConfig(vocab_size=60))
        counts = hg.randomize_weights(m, 3)
        self.assertTrue(hg.decoder_is_tied(m))
        self.assertGreater(counts["layernorm_weight"], 0)
        ln = m.bert.embeddings.LayerNorm.weight
        self.assertLess(float((ln - 1).abs().max()), 0.6)
        self.assertGreater(float(m.bert.encoder.layer[0].attention.self.query.weight.std()), 0.2)
        m2 = BertForMaskedLM(BertConfig(vocab_size=60))
        hg.randomize_weights(m2, 3)
        self.assertTrue(all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), m2.state_dict().values())))

    def test_plan_and_vocab(self):
        self.assertEqual(hg.parse_plan("0,1,1"), [0, 1, 1])
        self.assertEqual(hg.parse_plan("0-2,2"), [0, 1, 2, 2])
        v = hg.wordpiece_vocab(100, 0, 2, 3)
        self.assertEqual(len(v), 100)
        self.assertEqual((v[0], v[2], v[3]), ("[PAD]", "[CLS]", "[SEP]"))
        self.assertEqual(len(set(v)), 100)


class MainFlow(unittest.TestCase):
    """main() end to end for BERT, with the fakes, plus the deepen and fine-tune checks."""

    def test_main(self):
        with tempfile.TemporaryDirectory() as tmp:
            # A source tiny BERT (with vocab.txt) and a "deepened" copy written by hand for plan 0,1,1.
            cfg = BertConfig(vocab_size=80, num_hidden_layers=2)
            src = BertForMaskedLM(cfg)
            hg.randomize_weights(src, 9)
            src_dir, deep_dir = os.path.join(tmp, "src"), os.path.join(tmp, "deep")
            src.save_pretrained(src_dir)
            with open(os.path.join(src_dir, "vocab.txt"), "w") as f:
                f.write("\n".join(hg.wordpiece_vocab(80, 0, 2, 3)) + "\n")
            plan = [0, 1, 1]
            sd = {k: v for k, v in src.state_dict().items() if k not in BertForMaskedLM.tied}
            deep_sd = {k: v for k, v in sd.items() if ".layer." not in k}
            for new, old in enumerate(plan):
                for k, v in sd.items():
                    if k.startswith(f"bert.encoder.layer.{old}."):
                        deep_sd[k.replace(f".layer.{old}.", f".layer.{new}.", 1)] = v
            os.makedirs(deep_dir)
            with open(os.path.join(deep_dir, "config.json"), "w") as f:
                json.dump(dict(cfg.to_dict(), num_hidden_layers=3), f)
            _write_safetensors(os.path.join(deep_dir, "model.safetensors"), deep_sd)
            # A fake python/finetune.py is not created: the check must report that it is missing.
            out = os.path.join(tmp, "out")
            rc = hg.main(["--out", out, "--only", "bert", "--deepen-source", src_dir, "--deepened", deep_dir,
                          "--plan", "0,1,1", "--finetune-check"])
            self.assertEqual(rc, 0)
            files = sorted(os.listdir(out))
            self.assertLessEqual(len(files), 8)
            self.assertEqual(files, ["deepen-check.json", "finetune-check.json", "hf-golden.tar.gz", "summary.json", "versions.json"])
            summary = read_json(out, "summary.json")
            self.assertTrue(summary["families"]["bert"]["ok"], summary)
            self.assertTrue(summary["families"]["bert"]["decoder_tied"])
            self.assertLess(summary["families"]["bert"]["float32_vs_float64"]["max_abs_input_logp"], 1e-4)
            self.assertEqual(summary["families"]["bert"]["reload_check"]["model.safetensors"]["max_abs_logits"], 0.0)
            self.assertEqual(summary["families"]["bert"]["reload_check"]["pytorch_model.bin"]["max_abs_logits"], 0.0)
            deep = read_json(out, "deepen-check.json")
            self.assertTrue(deep["ok"], deep)
            self.assertEqual(deep["classifier_loading_info"]["missing_keys"],
                             ["bert.pooler.dense.bias", "bert.pooler.dense.weight", "classifier.bias", "classifier.weight"])
            self.assertEqual(deep["layer_by_layer_max_abs_logits"], 0.0)
            ft = read_json(out, "finetune-check.json")
            if not os.path.exists(os.path.join(hg.ROOT, "python", "finetune.py")):
                self.assertFalse(ft["ran"])
            with tarfile.open(os.path.join(out, "hf-golden.tar.gz")) as tar:
                names = sorted(tar.getnames())
                self.assertIn("hf-golden/bert/golden.json", names)
                self.assertIn("hf-golden/bert/model.safetensors", names)
                self.assertIn("hf-golden/bert/pytorch_model.bin", names)
                self.assertIn("hf-golden/bert/vocab.txt", names)
                self.assertIn("hf-golden/versions.json", names)
                golden = json.load(tar.extractfile("hf-golden/bert/golden.json"))
            self.assertEqual(golden["num_layers"], 3)
            self.assertEqual([e["name"] for e in golden["examples"]], ["a", "b", "c"])
            ex = golden["examples"][1]
            self.assertEqual(len(ex["layers"]), 4)
            self.assertEqual(len(ex["layers"][0]["input_logp"]), 5, "only real positions")
            self.assertEqual(golden["batches"][0]["attention_mask"][1], [1] * 5 + [0] * 4)
            # Final-layer KL is zero, and the golden float64 numbers vary across layers (not uniform).
            self.assertTrue(all(abs(v) < 1e-12 for v in golden["examples"][0]["layers"][-1]["kl"]))
            self.assertGreater(max(golden["examples"][0]["layers"][0]["kl"]), 0.1)
            self.assertGreater(max(golden["examples"][0]["layers"][0]["top1_gap"]), 0.1)
            self.assertIn("cls.predictions.bias", golden["files"]["model.safetensors"])
            self.assertNotIn("cls.predictions.decoder.weight", golden["files"]["model.safetensors"])
            self.assertIn("cls.predictions.decoder.weight", golden["files"]["pytorch_model.bin"])


class PreparedDeepen(unittest.TestCase):
    """The deepen check on the folders scripts/device/prepare_deepen.sh wrote with our TS writer."""

    def test_prepared(self):
        d = os.path.join(hg.ROOT, ".cache", "device-in", "deepen")
        if not os.path.isdir(os.path.join(d, "deepened")):
            self.skipTest("run scripts/device/prepare_deepen.sh first")
        with open(os.path.join(d, "plan.txt"), encoding="utf-8") as f:
            plan = hg.parse_plan(f.read())
        res = hg.deepen_check(os.path.join(d, "source"), os.path.join(d, "deepened"), plan)
        self.assertTrue(res["ok"], json.dumps(res, indent=1))


if __name__ == "__main__":
    unittest.main(verbosity=2)
