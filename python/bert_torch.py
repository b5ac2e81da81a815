"""Small, independent PyTorch implementation of post-LN BERT with exact HF tensor names.

    model = BertForMaskedLM(BertConfig(...))
    hs = model.bert(input_ids, token_type_ids, attention_mask, layer_plan=None)  # [h0, h1, ..., hL]
    logits = model.mlm_head(hs[-1])

h0 is the embedding output after LayerNorm.  `layer_plan` is a list of encoder
layer indices run in order (e.g. [0, 1, 2, 3, 3]); None means range(L).
GELU is the exact erf form; LayerNorm eps comes from the config (1e-12).
The MLM decoder weight is tied to the word embeddings (not stored in files).

Also: BertForSequenceClassification (pooler tanh on [CLS] + classifier),
probe() (per-layer log-softmax through the MLM head), and a dependency-free
safetensors reader/writer (read F32/F16/BF16/F64, write F32/F16/F64).
"""
import json, math, struct
from dataclasses import dataclass, asdict, fields

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class BertConfig:
    vocab_size: int = 30522
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    intermediate_size: int = 1024
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"
    num_labels: int = 2

    @classmethod
    def from_dict(cls, d):
        names = {f.name for f in fields(cls)}
        if "id2label" in d and "num_labels" not in d:
            d = dict(d, num_labels=len(d["id2label"]))
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def from_json(cls, path):
        with open(path) as f:
            return cls.from_dict(json.load(f))

    def to_hf_dict(self, architectures=("BertForMaskedLM",)):
        d = asdict(self)
        d.pop("num_labels")
        d.update({"architectures": list(architectures), "model_type": "bert", "classifier_dropout": None,
                  "use_cache": True, "torch_dtype": "float32"})
        return dict(sorted(d.items()))


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids):
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)[None, :]
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids) + self.position_embeddings(pos)
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h = c.num_attention_heads
        self.d = c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.attention_probs_dropout_prob)

    def forward(self, x, add_mask):
        B, T, _ = x.shape
        split = lambda t: t.view(B, T, self.h, self.d).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d) + add_mask
        p = self.dropout(torch.softmax(scores, dim=-1))
        return (p @ v).transpose(1, 2).reshape(B, T, self.h * self.d)


class DenseLN(nn.Module):
    """dense -> dropout -> LayerNorm(x + residual): HF's BertSelfOutput / BertOutput."""
    def __init__(self, d_in, d_out, eps, p):
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        self.LayerNorm = nn.LayerNorm(d_out, eps=eps)
        self.dropout = nn.Dropout(p)

    def forward(self, x, resid):
        return self.LayerNorm(self.dropout(self.dense(x)) + resid)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseLN(c.hidden_size, c.hidden_size, c.layer_norm_eps, c.hidden_dropout_prob)

    def forward(self, x, add_mask):
        return self.output(self.self(x, add_mask), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, x):
        return gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseLN(c.intermediate_size, c.hidden_size, c.layer_norm_eps, c.hidden_dropout_prob)

    def forward(self, x, add_mask):
        a = self.attention(x, add_mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c.num_hidden_layers)])


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c, add_pooler=False):
        super().__init__()
        self.config = c
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        if add_pooler:
            self.pooler = Pooler(c)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, layer_plan=None):
        """Return [h0, h1, ..., h_len(plan)] (list of (B, T, H) tensors)."""
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids)
        # additive mask: 0 for real tokens, finfo.min for padding (as HF does)
        add_mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        hs = [x]
        plan = range(len(self.encoder.layer)) if layer_plan is None else layer_plan
        for i in plan:
            x = self.encoder.layer[i](x, add_mask)
            hs.append(x)
        return hs


class MLMHead(nn.Module):
    """cls.predictions: transform (dense, gelu, LayerNorm) then tied decoder + bias."""
    def __init__(self, c):
        super().__init__()
        self.transform = nn.Module()
        self.transform.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.transform.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(c.vocab_size))

    def forward(self, h, decoder_weight):
        t = self.transform.LayerNorm(gelu(self.transform.dense(h)))
        return F.linear(t, decoder_weight, self.bias)


def _init_weights(module, std):
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, std)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class BertForMaskedLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = BertModel(c)
        self.cls = nn.Module()
        self.cls.predictions = MLMHead(c)
        _init_weights(self, c.initializer_range)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, layer_plan=None):
        return self.bert(input_ids, token_type_ids, attention_mask, layer_plan)

    def mlm_head(self, h):
        return self.cls.predictions(h, self.bert.embeddings.word_embeddings.weight)


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = BertModel(c, add_pooler=True)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        self.classifier = nn.Linear(c.hidden_size, c.num_labels)
        _init_weights(self, c.initializer_range)

    def forward(self, input_ids, token_type_ids=None, attention_mask=None, layer_plan=None):
        hs = self.bert(input_ids, token_type_ids, attention_mask, layer_plan)
        return self.classifier(self.dropout(self.bert.pooler(hs[-1])))


@torch.no_grad()
def probe(model, input_ids, token_type_ids=None, attention_mask=None, layer_plan=None):
    """Per-layer MLM log-softmax: returns a list over h0..hL of (B, T, V) float arrays (numpy)."""
    model.eval()
    t = lambda a: a if a is None or torch.is_tensor(a) else torch.as_tensor(np.asarray(a), dtype=torch.long)
    input_ids, token_type_ids, attention_mask = t(input_ids), t(token_type_ids), t(attention_mask)
    if input_ids.dim() == 1:
        input_ids = input_ids[None]
        token_type_ids = None if token_type_ids is None else token_type_ids[None]
        attention_mask = None if attention_mask is None else attention_mask[None]
    hs = model(input_ids, token_type_ids, attention_mask, layer_plan)
    return [torch.log_softmax(model.mlm_head(h), dim=-1).cpu().numpy() for h in hs]


# ---------------------------------------------------------------- safetensors (no pip package)
_DT_READ = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
_DT_WRITE = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.float64): "F64"}


def load_safetensors(path):
    """Return (dict name -> np.ndarray, metadata).  BF16 is widened to float32."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n).decode("utf-8"))
        data = f.read()
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        buf = data[a:b]
        if info["dtype"] == "BF16":
            u = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(_DT_READ[info["dtype"]]).newbyteorder("<"))
        out[name] = arr.reshape(info["shape"]).copy()
    return out, meta


def save_safetensors(path, tensors, dtype=np.float16, metadata=None):
    """Write dict name -> array/tensor as safetensors; floats cast to `dtype` (F16/F32/F64)."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        if torch.is_tensor(t):
            t = t.detach().cpu().numpy()
        arr = np.ascontiguousarray(np.asarray(t, dtype=dtype)).astype(np.dtype(dtype).newbyteorder("<"), copy=False)
        b = arr.tobytes()
        header[name] = {"dtype": _DT_WRITE[np.dtype(dtype)], "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = dict(metadata or {"format": "pt"})
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def state_for_saving(model):
    """HF-named state dict without the tied decoder weight and without non-persistent buffers."""
    sd = {k: v for k, v in model.state_dict().items() if not k.startswith("cls.predictions.decoder")}
    return sd


def load_model(model_dir, dtype=torch.float32, cls=BertForMaskedLM):
    import os
    c = BertConfig.from_json(os.path.join(model_dir, "config.json"))
    m = cls(c)
    tensors, _ = load_safetensors(os.path.join(model_dir, "model.safetensors"))
    sd = {k: torch.from_numpy(v.astype(np.float64 if dtype == torch.float64 else np.float32)) for k, v in tensors.items()
          if not k.startswith("cls.predictions.decoder")}
    missing, unexpected = m.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.startswith("cls.predictions.decoder")]
    if missing or unexpected:
        raise ValueError(f"missing={missing} unexpected={unexpected}")
    return m.to(dtype).eval()
