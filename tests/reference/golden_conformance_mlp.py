# SPDX-License-Identifier: MIT
"""End-to-end conformance of the training toolkit: a Sequential MLP with LayerNorm, GELU and Dropout,
trained with AdamW over two parameter groups (weight decay on the Linear weights only) and a
LinearLR schedule, as PyTorch 1.13.1 trains it.

Dropout draws from the default generator after torch.manual_seed(SEED); tapegrad's Dropout replays
the same stream, so the masks (and so the whole run) are the same.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED, STEPS, B, IN, HID, C = 7, 12, 8, 6, 16, 3


def generate(writer_for):
    w = writer_for("conformance_mlp")
    torch.manual_seed(SEED)
    net = nn.Sequential(nn.Linear(IN, HID), nn.LayerNorm(HID), nn.GELU(), nn.Dropout(0.2), nn.Linear(HID, C))
    with torch.no_grad():  # a non-trivial LayerNorm affine to start from
        net[1].weight.uniform_(0.5, 1.5)
        net[1].bias.uniform_(-0.5, 0.5)
    for key, value in net.state_dict().items():
        w.add("init/" + key, value)
    gen = torch.Generator().manual_seed(SEED + 1)
    xs = [torch.randn(B, IN, generator=gen) for _ in range(4)]
    ys = [torch.randint(0, C, (B,), generator=gen) for _ in range(4)]
    for i, (x, y) in enumerate(zip(xs, ys)):
        w.add("batch%d/x" % i, x)
        w.add("batch%d/y" % i, y)
    decay = [net[0].weight, net[4].weight]
    no_decay = [net[0].bias, net[1].weight, net[1].bias, net[4].bias]
    opt = torch.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0, "lr": 0.02}],
                            lr=0.05, weight_decay=0.1)
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=STEPS)
    torch.manual_seed(SEED + 2)
    net.train()
    losses = []
    for step in range(STEPS):
        x, y = xs[step % 4], ys[step % 4]
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    w.add("losses", torch.tensor(losses, dtype=torch.float64))
    w.add("final_lrs", torch.tensor([g["lr"] for g in opt.param_groups], dtype=torch.float64))
    for key, value in net.state_dict().items():
        w.add("final/" + key, value)
    net.eval()
    w.add("eval_logits", net(xs[0]))
