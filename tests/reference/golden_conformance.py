# SPDX-License-Identifier: MIT
"""End-to-end conformance: small models trained for several steps with PyTorch 1.13.1.

Each scenario builds Embedding or EmbeddingBag -> (mean) -> Linear -> cross_entropy, trains it
for STEPS steps on fixed batches with one optimiser setup, and records the initial weights, the
batches, the loss of every step and the final weights. tests/conformance replays the same run
with tapegrad and compares.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

V, D, C, B, T, STEPS = 20, 8, 3, 6, 5, 8


def batches(gen):
    out = []
    for _ in range(4):
        ids = torch.randint(0, V, (B, T), generator=gen)
        ids[0, :2] = 0  # some padding ids
        labels = torch.randint(0, C, (B,), generator=gen)
        out.append((ids, labels))
    return out


def bag_batches(gen):
    out = []
    for _ in range(4):
        sizes = torch.randint(0, 5, (B,), generator=gen)  # empty bags included
        ids = torch.randint(0, V, (int(sizes.sum()),), generator=gen)
        offsets = torch.cat([torch.zeros(1, dtype=torch.long), sizes.cumsum(0)[:-1]])
        weights = torch.rand(ids.shape, generator=gen)
        labels = torch.randint(0, C, (B,), generator=gen)
        out.append((ids, offsets, weights, labels))
    return out


SCENARIOS = {
    # name: (embedding kwargs, bag mode or None, optimiser factory, extras)
    "sgd_momentum_wd": (dict(padding_idx=0), None, lambda e, f: [torch.optim.SGD(e + f, lr=0.5, momentum=0.9, weight_decay=1e-3)], {}),
    "sgd_nesterov": (dict(), None, lambda e, f: [torch.optim.SGD(e + f, lr=0.3, momentum=0.9, nesterov=True)], {}),
    "adam": (dict(padding_idx=0), None, lambda e, f: [torch.optim.Adam(e + f, lr=0.05)], {}),
    "adamw_amsgrad": (dict(), None, lambda e, f: [torch.optim.AdamW(e + f, lr=0.05, amsgrad=True, weight_decay=0.01)], {}),
    "adagrad_sparse": (dict(sparse=True), None, lambda e, f: [torch.optim.Adagrad(e + f, lr=0.5)], {}),
    "sgd_sparse_momentum": (dict(sparse=True, padding_idx=0), None, lambda e, f: [torch.optim.SGD(e + f, lr=0.5, momentum=0.9)], {}),
    "sparse_adam": (dict(sparse=True), None, lambda e, f: [torch.optim.SparseAdam(e, lr=0.05), torch.optim.Adam(f, lr=0.05)], {}),
    "max_norm": (dict(max_norm=1.0), None, lambda e, f: [torch.optim.SGD(e + f, lr=0.5)], {}),
    "scale_grad_by_freq": (dict(scale_grad_by_freq=True), None, lambda e, f: [torch.optim.SGD(e + f, lr=0.5)], {}),
    "clip_steplr": (dict(), None, lambda e, f: [torch.optim.SGD(e + f, lr=0.5, momentum=0.5)], {"clip": 0.5, "step_lr": (3, 0.5)}),
    "bag_mean_adam": (dict(padding_idx=0), "mean", lambda e, f: [torch.optim.Adam(e + f, lr=0.05)], {}),
    "bag_sum_weighted_sgd": (dict(), "sum", lambda e, f: [torch.optim.SGD(e + f, lr=0.3, momentum=0.9)], {"psw": True}),
    "bag_max_sgd": (dict(), "max", lambda e, f: [torch.optim.SGD(e + f, lr=0.3)], {}),
}


def generate(writer_for):
    w = writer_for("conformance")
    for name, (emb_kwargs, bag, make_opts, extra) in SCENARIOS.items():
        gen = torch.Generator().manual_seed(sum(map(ord, name)))
        torch.manual_seed(sum(map(ord, name)))
        if bag:
            emb = nn.EmbeddingBag(V, D, mode=bag, **emb_kwargs)
            data = bag_batches(gen)
        else:
            emb = nn.Embedding(V, D, **emb_kwargs)
            data = batches(gen)
        fc = nn.Linear(D, C)
        w.add(name + "/init/emb", emb.weight)
        w.add(name + "/init/fc.weight", fc.weight)
        w.add(name + "/init/fc.bias", fc.bias)
        for i, item in enumerate(data):
            if bag:
                ids, offsets, weights, labels = item
                w.add("%s/batch%d/ids" % (name, i), ids)
                w.add("%s/batch%d/offsets" % (name, i), offsets)
                w.add("%s/batch%d/weights" % (name, i), weights)
            else:
                ids, labels = item
                w.add("%s/batch%d/ids" % (name, i), ids)
            w.add("%s/batch%d/labels" % (name, i), labels)
        opts = make_opts([emb.weight], list(fc.parameters()))
        sched = torch.optim.lr_scheduler.StepLR(opts[0], *extra["step_lr"]) if "step_lr" in extra else None
        for step in range(STEPS):
            item = data[step % len(data)]
            for o in opts:
                o.zero_grad()
            if bag:
                ids, offsets, weights, labels = item
                h = emb(ids, offsets, per_sample_weights=weights if extra.get("psw") else None)
            else:
                ids, labels = item
                h = emb(ids).mean(1)
            loss = F.cross_entropy(fc(h), labels)
            loss.backward()
            if "clip" in extra:
                total = torch.nn.utils.clip_grad_norm_([emb.weight] + list(fc.parameters()), extra["clip"])
                w.add("%s/step%d/clip_total" % (name, step), float(total))
            for o in opts:
                o.step()
            if sched:
                sched.step()
            w.add("%s/step%d/loss" % (name, step), float(loss))
        w.add(name + "/final/emb", emb.weight)
        w.add(name + "/final/fc.weight", fc.weight)
        w.add(name + "/final/fc.bias", fc.bias)
