# SPDX-License-Identifier: MIT
"""Golden values for tests/data/data_test.cpp: the order in which torch.utils.data.DataLoader visits a
dataset, from PyTorch 1.13.1.

For each case the examples visited in each epoch are recorded (concatenated batches, as int64), and,
for loaders without a generator of their own, torch.rand(4) drawn afterwards from the global RNG, which
shows how many numbers the loader consumed from it.
"""
import torch
from torch.utils.data import DataLoader


def epochs_of(loader, count):
    return [torch.cat([b.reshape(-1) for b in loader]) if len(loader) else torch.zeros(0, dtype=torch.int64)
            for _ in range(count)]


def generate(writer_for):
    w = writer_for("data")
    # A loader with a seeded generator: DataLoader(..., shuffle=True, generator=Generator().manual_seed(s)).
    for seed, n, batch, drop_last in [(0, 10, 3, False), (5, 10, 3, True), (42, 33, 4, False), (7, 12, 4, False),
                                      (7, 12, 5, True), (123, 1, 1, False), (3, 100, 16, False)]:
        g = torch.Generator().manual_seed(seed)
        loader = DataLoader(list(range(n)), batch_size=batch, shuffle=True, drop_last=drop_last, generator=g)
        for e, order in enumerate(epochs_of(loader, 3)):
            w.add("seeded/%d_%d_%d_%d/epoch%d" % (seed, n, batch, int(drop_last), e), order)
    # Without a generator: the global RNG, after torch.manual_seed(s); then what the global RNG gives next.
    for seed, n, batch, shuffle in [(0, 10, 3, True), (9, 17, 5, True), (0, 10, 3, False)]:
        torch.manual_seed(seed)
        loader = DataLoader(list(range(n)), batch_size=batch, shuffle=shuffle)
        for e, order in enumerate(epochs_of(loader, 2)):
            w.add("global/%d_%d_%d_%d/epoch%d" % (seed, n, batch, int(shuffle), e), order)
        w.add("global/%d_%d_%d_%d/rand_after" % (seed, n, batch, int(shuffle)), torch.rand(4, dtype=torch.float64))
