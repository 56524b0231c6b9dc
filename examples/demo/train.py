#!/usr/bin/env python3
"""Trains the demo's character-level model on sonnets.txt and records what PyTorch generates with it.

    /usr/bin/python3 examples/demo/train.py        # about five minutes on one CPU core

Writes, beside this script:
  model.safetensors  the state dict: embedding.weight, lstm.weight_ih_l0 ..., head.weight, head.bias
  vocab.json         the characters, in the order of the embedding's rows
  expected.json      greedy generations from fixed prompts: the text, the logits of the first steps and
                     the smallest margin between the best and second-best logit over every step, which
                     must be far above float32 rounding for torchrnn's text to be comparable exactly

Seeds are fixed and deterministic algorithms required, so a rerun on the same PyTorch gives the same files.
sonnets.txt holds some of Shakespeare's sonnets (1609, public domain).
"""
import json
import math
import os
import struct
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))

SEED = 0
EMBEDDING_DIM = 32
HIDDEN_SIZE = 128
NUM_LAYERS = 1
SEQ_LEN = 64
BATCH = 32
STEPS = 600
LEARNING_RATE = 5e-3

PROMPTS = ["Shall I compare thee", "When I do count the clock", "O, how shall summer"]
GREEDY_LENGTH = 200
RECORDED_STEPS = 5
# Logits are O(10); float32 engines differ by ~1e-5 in them. A margin 100 times that keeps argmax exact.
MIN_MARGIN = 1e-3


class CharModel(nn.Module):
    """Embedding -> LSTM -> Linear: a character's id in, the next character's logits out."""

    def __init__(self, vocab_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, EMBEDDING_DIM)
        self.lstm = nn.LSTM(EMBEDDING_DIM, HIDDEN_SIZE, NUM_LAYERS, batch_first=True)
        self.head = nn.Linear(HIDDEN_SIZE, vocab_size)

    def forward(self, ids, state=None):
        output, state = self.lstm(self.embedding(ids), state)
        return self.head(output), state


def save_safetensors(path, tensors, metadata):
    """safetensors' layout: an 8-byte little-endian header length, a JSON header, then the raw bytes."""
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the data starts 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)


def train(model, ids):
    generator = torch.Generator().manual_seed(SEED)
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, STEPS)
    loss_fn = nn.CrossEntropyLoss()
    started = time.time()
    for step in range(1, STEPS + 1):
        starts = torch.randint(0, len(ids) - SEQ_LEN - 1, (BATCH,), generator=generator)
        window = torch.stack([ids[s : s + SEQ_LEN + 1] for s in starts.tolist()])
        logits, _ = model(window[:, :-1])
        loss = loss_fn(logits.reshape(-1, logits.size(-1)), window[:, 1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        if step % 100 == 0:
            print(f"step {step}/{STEPS}  loss {loss.item():.3f}  {time.time() - started:.0f}s", flush=True)


@torch.no_grad()
def greedy(model, stoi, itos, prompt):
    """The prompt in one forward, then one character at a time, each the argmax of the last logits."""
    logits, state = model(torch.tensor([[stoi[c] for c in prompt]]))
    last = logits[0, -1]
    text, recorded, margins = [], [], []
    for step in range(GREEDY_LENGTH):
        top = torch.topk(last, 2).values
        margins.append((top[0] - top[1]).item())
        if step < RECORDED_STEPS:
            recorded.append(last.tolist())
        nxt = int(torch.argmax(last))
        text.append(itos[nxt])
        logits, state = model(torch.tensor([[nxt]]), state)
        last = logits[0, -1]
    return {
        "prompt": prompt,
        "length": GREEDY_LENGTH,
        "text": "".join(text),
        "logits": recorded,
        "minMargin": min(margins),
    }


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)  # matrices this small train faster on one thread than on two
    torch.use_deterministic_algorithms(True)
    text = open(os.path.join(HERE, "sonnets.txt"), encoding="utf-8").read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text])

    model = CharModel(len(chars))
    train(model, ids)
    model.eval()

    generations = [greedy(model, stoi, chars, p) for p in PROMPTS]
    for g in generations:
        print(f"{g['prompt']!r} -> {g['text']!r}  (smallest margin {g['minMargin']:.4f})")
        if not g["minMargin"] > MIN_MARGIN:
            raise SystemExit(f"greedy margin {g['minMargin']} too small for an exact comparison")

    state = model.state_dict()
    save_safetensors(os.path.join(HERE, "model.safetensors"), state, {"source": "examples/demo/train.py"})
    with open(os.path.join(HERE, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({"chars": chars}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "examples/demo/train.py", "torch": torch.__version__, "generations": generations}, f, indent=1)
        f.write("\n")
    print("wrote model.safetensors, vocab.json, expected.json")


if __name__ == "__main__":
    main()
