# SPDX-License-Identifier: MIT
"""Golden values for tests/data/distributed_sampler_test.cpp, from PyTorch 1.13.1's
torch.utils.data.distributed.DistributedSampler (num_replicas and rank given, so no process group).

sampler/<n>_<replicas>_<rank>_<shuffle>_<seed>_<drop_last>/epoch<e>: list(sampler) after set_epoch(e)
(as int64; without shuffle the epoch does not matter and only epoch0 is written).
seed_minus1/<n>_<replicas>_<rank>/epoch<e>: shuffled with seed=-1, whose seed + epoch is -1, 0, 1;
seed_big/...: with seed=2**40 + 3 (torch's generator keeps only the low 32 bits).
loader/<case>/epoch<e>: the examples DataLoader(list(range(n)), batch_size=b, sampler=...) visits after
sampler.set_epoch(e), concatenated; loader/<case>/batches: len(loader); loader/<case>/rand_after:
torch.rand(4) afterwards, which shows how much the loader drew from the global RNG.
"""
import torch
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler


def as_tensor(indices):
    return torch.tensor(list(indices), dtype=torch.int64)


def generate(writer_for):
    w = writer_for("distributed_sampler")
    for n in [0, 1, 2, 3, 5, 7, 8, 10, 13, 100]:
        for replicas in [1, 2, 3, 4, 5, 8]:
            for rank in range(replicas):
                for drop_last in [False, True]:
                    for shuffle, seed in [(False, 0), (True, 0), (True, 7)]:
                        s = DistributedSampler(list(range(n)), num_replicas=replicas, rank=rank, shuffle=shuffle,
                                               seed=seed, drop_last=drop_last)
                        prefix = "sampler/%d_%d_%d_%d_%d_%d/" % (n, replicas, rank, int(shuffle), seed, int(drop_last))
                        for epoch in range(3 if shuffle else 1):
                            s.set_epoch(epoch)
                            w.add(prefix + "epoch%d" % epoch, as_tensor(s))
    for n, replicas, rank in [(10, 3, 1), (1000, 7, 3)]:
        for name, seed in [("minus1", -1), ("big", 2**40 + 3)]:
            s = DistributedSampler(list(range(n)), num_replicas=replicas, rank=rank, seed=seed)
            for epoch in range(3):
                s.set_epoch(epoch)
                w.add("seed_%s/%d_%d_%d/epoch%d" % (name, n, replicas, rank, epoch), as_tensor(s))

    # DataLoader with the sampler: global seed, n, replicas, rank, batch, loader drop_last, sampler shuffle,
    # sampler drop_last, loader generator seed (-1: none).
    for case in [(0, 10, 3, 1, 2, False, True, False, -1), (3, 17, 4, 3, 2, True, True, False, -1),
                 (5, 17, 4, 0, 3, False, False, True, -1), (1, 2, 4, 3, 1, False, True, False, -1),
                 (8, 33, 2, 1, 5, False, True, True, 11)]:
        seed, n, replicas, rank, batch, drop_last, shuffle, sampler_drop_last, loader_seed = case
        key = "loader/%s/" % "_".join(str(int(v)) for v in case)
        torch.manual_seed(seed)
        sampler = DistributedSampler(list(range(n)), num_replicas=replicas, rank=rank, shuffle=shuffle,
                                     drop_last=sampler_drop_last)
        generator = torch.Generator().manual_seed(loader_seed) if loader_seed >= 0 else None
        loader = DataLoader(list(range(n)), batch_size=batch, sampler=sampler, drop_last=drop_last,
                            generator=generator)
        w.add(key + "batches", torch.tensor([len(loader)], dtype=torch.int64))
        for epoch in range(3):
            sampler.set_epoch(epoch)
            batches = [b.reshape(-1) for b in loader]
            w.add(key + "epoch%d" % epoch, torch.cat(batches) if batches else torch.zeros(0, dtype=torch.int64))
        w.add(key + "rand_after", torch.rand(4, dtype=torch.float64))
