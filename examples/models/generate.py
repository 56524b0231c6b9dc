#!/usr/bin/env python3
"""Trains six small models typical of recurrent work in production, and saves each as a checkpoint and a record
of what PyTorch computes with it: what examples/models/*.mjs load, and what test/models.test.ts holds them to.

    /usr/bin/python3 examples/models/generate.py      # torch 1.13; about a minute on one core

Writes, beside this script, for each model NAME:
  NAME.pt    a training checkpoint, as saved by a training loop:
             torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
  NAME.json  fixed inputs and PyTorch's outputs for them in eval mode (logits, probabilities, generated
             tokens, final states), as nested lists, and each output's dtype; float32 values are written
             as the exact float64 of each float32, so they read back bit for bit

The classes below are what the ports in examples/models/ translate, line by line. Greedy decoding must give
the same tokens in float32 everywhere, so this script checks that at every step the best logit beats the
second by far more than float32 rounding (MIN_MARGIN), and records the smallest such margin.

Seeds are fixed and deterministic algorithms required: a rerun on the same PyTorch writes the same files.
"""
import json
import os

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
EPOCHS = 3
# Logits are O(10); float32 engines differ by ~1e-5 in them. A margin 100 times that keeps argmax exact.
MIN_MARGIN = 1e-3


# ----------------------------------------------------------------------------------------------------
# The models
# ----------------------------------------------------------------------------------------------------


class CharLM(nn.Module):
    """A character-level language model: a character's id in, the next character's logits out."""

    def __init__(self, vocab_size, embedding_dim=12, hidden_size=32):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        output, state = self.lstm(self.embedding(ids), state)
        return self.head(output), state

    @torch.no_grad()
    def generate(self, prompt, steps):
        """Greedy decoding: the prompt in one forward, then each step's argmax fed back, one at a time."""
        logits, state = self(prompt)
        tokens, step_logits = [], []
        for _ in range(steps):
            last = logits[:, -1]
            step_logits.append(last)
            token = last.argmax(-1)
            tokens.append(token)
            logits, state = self(token.unsqueeze(1), state)
        return torch.stack(tokens, 1), torch.stack(step_logits, 1), state


class Tagger(nn.Module):
    """A sequence tagger: one tag's log-probabilities per token; id 0 is padding."""

    def __init__(self, vocab_size=40, embedding_dim=12, hidden_size=16, proj_size=8, num_tags=5):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.encoder = nn.LSTM(
            embedding_dim, hidden_size, num_layers=2, batch_first=True, bidirectional=True, proj_size=proj_size
        )
        self.norm = nn.LayerNorm(2 * proj_size)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(2 * proj_size, num_tags)

    def forward(self, ids):
        output, _ = self.encoder(self.embedding(ids))
        return self.head(self.drop(self.norm(output))).log_softmax(-1)


class PackedClassifier(nn.Module):
    """Classifies sequences of different lengths from the last layer's state after each one's own last step."""

    def __init__(self, vocab_size=30, embedding_dim=12, hidden_size=24, num_classes=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.rnn = nn.GRU(embedding_dim, hidden_size, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, ids, lengths):
        packed = pack_padded_sequence(self.embedding(ids), lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.rnn(packed)
        return self.head(h_n[-1])


class ConvGRU(nn.Module):
    """A CNN front end over multichannel time series, then a bidirectional GRU; a class per series."""

    def __init__(self, in_channels=3, channels=8, hidden_size=16, num_classes=4):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, channels, kernel_size=5, stride=2, padding=2)
        self.norm = nn.BatchNorm1d(channels)
        self.act = nn.ReLU()
        self.rnn = nn.GRU(channels, hidden_size, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, x):
        features = self.act(self.norm(self.conv(x)))  # (N, channels, L / 2)
        _, h_n = self.rnn(features.transpose(1, 2))  # the GRU reads (N, L / 2, channels)
        return self.head(torch.cat([h_n[-2], h_n[-1]], dim=1))  # last forward and last backward state


class Seq2Seq(nn.Module):
    """An encoder-decoder: an LSTM reads the source; an LSTMCell writes the target, fed its own argmax."""

    def __init__(self, vocab_size=11, embedding_dim=12, hidden_size=24, bos=10):
        super().__init__()
        self.bos = bos
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.encoder = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.decoder = nn.LSTMCell(embedding_dim, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)

    def encode(self, src):
        _, (h_n, c_n) = self.encoder(self.embedding(src))
        return h_n[-1], c_n[-1]

    def teacher_forced(self, src, tgt_in):
        h, c = self.encode(src)
        logits = []
        for t in range(tgt_in.size(1)):
            h, c = self.decoder(self.embedding(tgt_in[:, t]), (h, c))
            logits.append(self.out(h))
        return torch.stack(logits, 1)

    @torch.no_grad()
    def forward(self, src, steps):
        h, c = self.encode(src)
        token = torch.full((src.size(0),), self.bos, dtype=torch.long)
        tokens, logits = [], []
        for _ in range(steps):
            h, c = self.decoder(self.embedding(token), (h, c))
            step_logits = self.out(h)
            token = step_logits.argmax(-1)
            tokens.append(token)
            logits.append(step_logits)
        return torch.stack(tokens, 1), torch.stack(logits, 1), (h, c)


class ResidualLSTM(nn.Module):
    """A stack of LSTMs, each adding to what it reads (a skip connection), and an MLP head; float64."""

    def __init__(self, features=8, depth=3, hidden=16, outputs=2):
        super().__init__()
        self.layers = nn.ModuleList([nn.LSTM(features, features, batch_first=True) for _ in range(depth)])
        self.head = nn.Sequential(nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, outputs))

    def forward(self, x):
        for lstm in self.layers:
            x = x + lstm(x)[0]
        return self.head(x)


# ----------------------------------------------------------------------------------------------------
# Training, saving, recording
# ----------------------------------------------------------------------------------------------------


def train(model, batches, loss_of):
    """EPOCHS passes of Adam over `batches`; returns the optimizer, whose state the checkpoint keeps."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for epoch in range(1, EPOCHS + 1):
        total = 0.0
        for batch in batches:
            loss = loss_of(*batch)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            total += loss.item()
        print(f"  epoch {epoch}: mean loss {total / len(batches):.3f}", flush=True)
    model.eval()
    return optimizer


def save_checkpoint(name, model, optimizer):
    path = os.path.join(HERE, f"{name}.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": EPOCHS}, path)
    # Read back as loadTorch must read it. Not with weights_only=True: PyTorch 1.13's restricted unpickler
    # lacks the opcode of a float (BINFLOAT, in the optimizer's lr and betas); PyTorch 2.x's has it.
    checkpoint = torch.load(path)
    assert list(checkpoint) == ["model", "optimizer", "epoch"] and checkpoint["epoch"] == EPOCHS
    assert list(checkpoint["model"]) == list(model.state_dict())
    return os.path.getsize(path)


def values(t):
    """Nested lists; float32 widens exactly to float64, whose repr reads back as the same float32."""
    return t.detach().tolist()


def smallest_margin(logits):
    """The smallest gap between the best and second-best logit over every row of `logits` (..., V)."""
    top = logits.reshape(-1, logits.size(-1)).topk(2, dim=-1).values
    return (top[:, 0] - top[:, 1]).min().item()


def check_margin(name, margin):
    if not margin > MIN_MARGIN:
        raise SystemExit(f"{name}: argmax margin {margin} too small for an exact comparison of tokens")


def write_record(name, record):
    outputs = record.pop("outputs")
    record = {
        "generator": "examples/models/generate.py",
        "torch": torch.__version__,
        **record,
        "outputs": {key: values(t) for key, t in outputs.items()},
        "dtypes": {key: str(t.dtype).replace("torch.", "") for key, t in outputs.items()},
    }
    path = os.path.join(HERE, f"{name}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(record, f, separators=(",", ":"))
        f.write("\n")
    return os.path.getsize(path)


def random_batches(count, make):
    return [make() for _ in range(count)]


# --- 1. char_lm --------------------------------------------------------------------------------------


def char_lm():
    torch.manual_seed(1)
    text = open(os.path.join(HERE, "..", "demo", "sonnets.txt"), encoding="utf-8").read()
    chars = sorted(set(text))
    ids = torch.tensor([chars.index(c) for c in text])
    model = CharLM(len(chars))
    seq_len, batch = 48, 16

    def window():
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch,))
        w = torch.stack([ids[s : s + seq_len + 1] for s in starts.tolist()])
        return w[:, :-1], w[:, 1:]

    def loss_of(x, y):
        logits, _ = model(x)
        return nn.functional.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))

    optimizer = train(model, random_batches(300, window), loss_of)

    prompts = ["Shall I compare thee", "When I do count the "]
    prompt = torch.tensor([[chars.index(c) for c in p] for p in prompts])
    steps = 40
    tokens, step_logits, (h_n, c_n) = model.generate(prompt, steps)
    margin = smallest_margin(step_logits)
    check_margin("char_lm", margin)
    for p, row in zip(prompts, tokens.tolist()):
        print(f"  {p!r} -> {''.join(chars[i] for i in row)!r}")
    return model, optimizer, {
        "chars": "".join(chars),
        "inputs": {"prompts": prompts, "steps": steps},
        "outputs": {
            "tokens": tokens,
            "logits": step_logits,
            "h_n": h_n,
            "c_n": c_n,
        },
        "minMargin": margin,
    }


# --- 2. tagger ---------------------------------------------------------------------------------------


def tagged_batch(batch=16, max_len=10):
    """Random sentences of ids 1..39, padded with 0; a token's tag depends on it and on its left neighbour."""
    lengths = torch.randint(4, max_len + 1, (batch,))
    ids = torch.randint(1, 40, (batch, max_len))
    ids[torch.arange(max_len)[None, :] >= lengths[:, None]] = 0
    previous = torch.cat([torch.zeros(batch, 1, dtype=torch.long), ids[:, :-1]], 1)
    tags = (ids + (previous > 20).long()) % 5
    tags[ids == 0] = -100  # no loss on padding
    return ids, tags


def tagger():
    torch.manual_seed(2)
    model = Tagger()

    def loss_of(ids, tags):
        return nn.functional.nll_loss(model(ids).reshape(-1, 5), tags.reshape(-1), ignore_index=-100)

    optimizer = train(model, random_batches(40, tagged_batch), loss_of)
    ids = torch.tensor(
        [
            [5, 23, 7, 39, 12, 1, 30, 8, 0, 0],
            [17, 2, 26, 0, 0, 0, 0, 0, 0, 0],
            [33, 9, 21, 14, 38, 3, 11, 27, 19, 4],
        ]
    )
    with torch.no_grad():
        log_probs = model(ids)
    tags = log_probs.argmax(-1)
    margin = smallest_margin(log_probs)
    check_margin("tagger", margin)
    print(f"  tags {tags.tolist()}")
    return model, optimizer, {
        "inputs": {"ids": values(ids)},
        "outputs": {"logProbs": log_probs, "tags": tags},
        "minMargin": margin,
    }


# --- 3. packed_classifier ----------------------------------------------------------------------------


def classified_batch(batch=16, max_len=12):
    """Ids 1..29 padded with 0; the class is the third (1-9, 10-19, 20-29) most of a sequence's ids fall in."""
    lengths = torch.randint(2, max_len + 1, (batch,))
    ids = torch.randint(1, 30, (batch, max_len))
    ids[torch.arange(max_len)[None, :] >= lengths[:, None]] = 0
    third = torch.stack([((ids >= lo) & (ids < lo + 10)).sum(1) for lo in (0, 10, 20)], 1)
    third[:, 0] -= (ids == 0).sum(1)  # padding is not in the first third
    return ids, lengths, third.argmax(1)


def packed_classifier():
    torch.manual_seed(3)
    model = PackedClassifier()

    def loss_of(ids, lengths, classes):
        return nn.functional.cross_entropy(model(ids, lengths), classes)

    optimizer = train(model, random_batches(40, classified_batch), loss_of)
    ids = torch.tensor(
        [
            [4, 17, 2, 8, 0, 0, 0, 0, 0],
            [21, 25, 12, 29, 22, 3, 27, 24, 20],
            [11, 15, 0, 0, 0, 0, 0, 0, 0],
            [9, 28, 13, 16, 19, 14, 0, 0, 0],
        ]
    )
    lengths = torch.tensor([4, 9, 2, 6])  # not sorted: pack_padded_sequence sorts them
    with torch.no_grad():
        logits = model(ids, lengths)
        _, h_n = model.rnn(pack_padded_sequence(model.embedding(ids), lengths, batch_first=True, enforce_sorted=False))
    probabilities = logits.softmax(-1)
    print(f"  probabilities {[[round(p, 3) for p in row] for row in probabilities.tolist()]}")
    return model, optimizer, {
        "inputs": {"ids": values(ids), "lengths": values(lengths)},
        "outputs": {"logits": logits, "probabilities": probabilities, "h_n": h_n},
    }


# --- 4. conv_gru -------------------------------------------------------------------------------------


def series_batch(batch=16, length=32):
    """Three noisy channels of a sine whose frequency (one of four) is the class."""
    classes = torch.randint(0, 4, (batch,))
    t = torch.arange(length, dtype=torch.float32)
    frequency = (0.15 + 0.2 * classes.float())[:, None, None]
    phase = torch.rand(batch, 3, 1) * 6.28
    x = torch.sin(frequency * t + phase) * torch.tensor([1.0, 0.5, 2.0])[None, :, None]
    return x + 0.3 * torch.randn(batch, 3, length) + 0.5, classes


def conv_gru():
    torch.manual_seed(4)
    model = ConvGRU()

    def loss_of(x, classes):
        return nn.functional.cross_entropy(model(x), classes)

    optimizer = train(model, random_batches(20, series_batch), loss_of)
    assert model.norm.num_batches_tracked.item() == 20 * EPOCHS
    x, _ = series_batch(batch=3)
    with torch.no_grad():
        logits = model(x)
        _, h_n = model.rnn(model.act(model.norm(model.conv(x))).transpose(1, 2))
    print(f"  classes {logits.argmax(-1).tolist()}")
    return model, optimizer, {
        "inputs": {"x": values(x)},
        "outputs": {"logits": logits, "h_n": h_n},
    }


# --- 5. seq2seq --------------------------------------------------------------------------------------


def reversal_batch(batch=32, length=6):
    """Digit sequences; the target is the sequence reversed."""
    src = torch.randint(0, 10, (batch, length))
    tgt = src.flip(1)
    tgt_in = torch.cat([torch.full((batch, 1), 10), tgt[:, :-1]], 1)
    return src, tgt_in, tgt


def seq2seq():
    torch.manual_seed(5)
    model = Seq2Seq()

    def loss_of(src, tgt_in, tgt):
        return nn.functional.cross_entropy(model.teacher_forced(src, tgt_in).reshape(-1, 11), tgt.reshape(-1))

    optimizer = train(model, random_batches(60, reversal_batch), loss_of)
    src = torch.tensor([[3, 1, 4, 1, 5, 9], [2, 7, 1, 8, 2, 8], [0, 0, 7, 7, 3, 3]])
    steps = 6
    tokens, logits, (h, c) = model(src, steps)
    margin = smallest_margin(logits)
    check_margin("seq2seq", margin)
    print(f"  {src.tolist()} -> {tokens.tolist()}")
    return model, optimizer, {
        "inputs": {"src": values(src), "steps": steps},
        "outputs": {"tokens": tokens, "logits": logits, "h": h, "c": c},
        "minMargin": margin,
    }


# --- 6. residual_lstm (float64) ----------------------------------------------------------------------


def smoothing_batch(batch=16, length=12):
    """The target is a smoothed, mixed version of the input: a running mean of two channel combinations."""
    x = torch.randn(batch, length, 8, dtype=torch.float64)
    mixed = torch.stack([x[..., :4].sum(-1), x[..., 4:].sum(-1) - x[..., 0]], -1)
    steps = torch.arange(1, length + 1, dtype=torch.float64)[None, :, None]
    return x, mixed.cumsum(1) / steps


def residual_lstm():
    torch.manual_seed(6)
    model = ResidualLSTM().double()

    def loss_of(x, y):
        return nn.functional.mse_loss(model(x), y)

    optimizer = train(model, random_batches(30, smoothing_batch), loss_of)
    x, _ = smoothing_batch(batch=2)
    with torch.no_grad():
        y = model(x)
    return model, optimizer, {"inputs": {"x": values(x)}, "outputs": {"y": y}}


def main():
    torch.set_num_threads(1)  # matrices this small train faster on one thread than on two
    torch.use_deterministic_algorithms(True)
    total = 0
    for make in (char_lm, tagger, packed_classifier, conv_gru, seq2seq, residual_lstm):
        name = make.__name__
        print(name, flush=True)
        model, optimizer, record = make()
        checkpoint_bytes = save_checkpoint(name, model, optimizer)
        record_bytes = write_record(name, record)
        print(f"  wrote {name}.pt ({checkpoint_bytes} bytes), {name}.json ({record_bytes} bytes)")
        assert checkpoint_bytes < 200_000, f"{name}.pt is too large for a fixture"
        total += checkpoint_bytes + record_bytes
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
