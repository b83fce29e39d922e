"""Mistakes learners make in chapter 1 (solutions/ex01_gan_basics.py), graded by tests/test_graders_catch_bugs.py.

Each entry is ``(bug_id, old_text, new_text, why)``: ``old_text`` occurs exactly once in the
solution and ``new_text`` is what a learner with that misconception writes instead.
"""

BUGS = [
    (
        "noise_uniform",
        "return torch.randn(batch_size, nz, device=device, generator=generator)",
        "return torch.rand(batch_size, nz, device=device, generator=generator)",
        "torch.rand draws from U[0, 1), not N(0, I)",
    ),
    (
        "noise_ignores_generator",
        "return torch.randn(batch_size, nz, device=device, generator=generator)",
        "return torch.randn(batch_size, nz, device=device)",
        "the generator argument is not passed on, so a seeded draw is not reproducible",
    ),
    (
        "d_loss_sign_swapped",
        "return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
        "return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()",
        "real and fake targets swapped: D learns to call fakes real",
    ),
    (
        "d_loss_sigmoid_then_log",
        "return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
        "return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()",
        "log(sigmoid(l)) rounds to log 0 = -inf for large negative logits",
    ),
    (
        "g_loss_saturating",
        "return F.softplus(-fake_logits).mean()",
        "return -F.softplus(fake_logits).mean()",
        "the saturating minimax form mean log(1 - D(G(z))), whose gradient vanishes when D rejects the fakes",
    ),
]
