"""Applies a tuned lens with torch, independently of the engine's graph (issue 15's check).

argv: MODEL_DIR LENS_DIR IDS_JSON. HF's BertForMaskedLM (float64) gives the hidden states of the
ids; state i < len(plan) goes through translator i (y = h·Wᵀ + b, as torch's Linear), the final
state as is; the model's own head then gives log-softmax. Prints per state and position the log p
of the input id, as JSON [[…], …].
"""
import json
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForMaskedLM


def main(model_dir, lens_dir, ids_json):
    ids = torch.tensor([json.loads(ids_json)])
    model = AutoModelForMaskedLM.from_pretrained(model_dir, torch_dtype=torch.float64).eval()
    card = json.load(open(f"{lens_dir}/lens.json", encoding="utf-8"))
    weights = load_file(f"{lens_dir}/translators.safetensors")
    with torch.no_grad():
        states = model(input_ids=ids, attention_mask=torch.ones_like(ids), output_hidden_states=True).hidden_states
        out = []
        for i, h in enumerate(states):
            if i < len(card["plan"]):
                h = torch.nn.functional.linear(h, weights[f"translator.{i}.weight"].double(), weights[f"translator.{i}.bias"].double())
            logp = torch.log_softmax(model.cls(h)[0], dim=-1)
            out.append([logp[p, ids[0, p]].item() for p in range(ids.shape[1])])
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:4])
