"""Mistakes learners make in chapter 1 (solutions/ex01_gan_basics.py), graded by tests/test_graders_catch_bugs.py.

Each entry is ``(bug_id, old_text, new_text, why)``: ``old_text`` occurs exactly once in the
solution and ``new_text`` is what a learner with that misconception writes instead.
"""

D_LOSS = "return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()"
G_LOSS = "return F.softplus(-fake_logits).mean()"
D_STAR = "return torch.where(total > 0, p_data / total.clamp_min(torch.finfo(total.dtype).tiny), 0.5)"

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
        D_LOSS,
        "return F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()",
        "real and fake targets swapped: D learns to call fakes real",
    ),
    (
        "d_loss_log_of_sigmoid",
        D_LOSS,
        "return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()",
        "log(sigmoid(l)) is log 0 = -inf once sigmoid rounds to 0 (l below about -104 in float32)",
    ),
    (
        "d_loss_sigmoid_then_bce",
        D_LOSS,
        "return F.binary_cross_entropy(torch.sigmoid(real_logits), torch.ones_like(real_logits))"
        " + F.binary_cross_entropy(torch.sigmoid(fake_logits), torch.zeros_like(fake_logits))",
        "Sigmoid + BCELoss on logits: BCELoss clamps log 0 at -100 and the gradient vanishes",
    ),
    (
        "d_loss_sum_not_mean",
        D_LOSS,
        "return F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()",
        "a sum over the batch instead of the mean: the loss and learning rate scale with B",
    ),
    (
        "d_loss_one_mean_over_both",
        D_LOSS,
        "return torch.cat([F.softplus(-real_logits), F.softplus(fake_logits)]).mean()",
        "one mean over reals and fakes together halves the loss for equal batches",
    ),
    (
        "g_loss_saturating",
        G_LOSS,
        "return -F.softplus(fake_logits).mean()",
        "the saturating minimax form mean log(1 - D(G(z))), whose gradient vanishes when D rejects the fakes",
    ),
    (
        "g_loss_log_of_sigmoid",
        G_LOSS,
        "return -torch.log(torch.sigmoid(fake_logits)).mean()",
        "log(sigmoid(l)) instead of logsigmoid: inf once the logit is below about -104",
    ),
    (
        "g_loss_sum_not_mean",
        G_LOSS,
        "return F.softplus(-fake_logits).sum()",
        "a sum over the batch instead of the mean",
    ),
    (
        "d_star_swapped",
        D_STAR,
        "return torch.where(total > 0, p_g / total.clamp_min(torch.finfo(total.dtype).tiny), 0.5)",
        "the derivation's two densities swapped: the ratio of p_g to the total",
    ),
    (
        "d_star_nan_where_both_vanish",
        D_STAR,
        "return p_data / total",
        "0 / 0 gives NaN where both densities vanish",
    ),
    (
        "d_star_float32",
        "total = p_data + p_g",
        "p_data, total = p_data.float(), (p_data + p_g).float()",
        "a cast to float32 loses the precision of float64 densities",
    ),
    (
        "js_in_bits",
        "return (a * torch.log(ratio)).sum() * dx",
        "return (a * torch.log2(ratio)).sum() * dx",
        "log base 2 gives bits, the chapter's values are in nats",
    ),
    (
        "js_without_dx",
        "return (a * torch.log(ratio)).sum() * dx",
        "return (a * torch.log(ratio)).sum()",
        "a sum without the grid spacing is not an integral",
    ),
    (
        "js_nan_at_zero_density",
        "ratio = torch.where(a > 0, a / m.clamp_min(torch.finfo(m.dtype).tiny), 1.0)",
        "ratio = a / m",
        "0 log 0 evaluated as 0 * log(0) = NaN instead of its limit 0",
    ),
    (
        "js_kl_between_p_and_q",
        "return 0.5 * kl_to_m(p) + 0.5 * kl_to_m(q)",
        "return kl_to_m(p)",
        "only half of the symmetric divergence",
    ),
    (
        "step_fakes_not_detached",
        "fake = G(sample_z(batch_size)).detach()  # (B, 2), a constant for D's phase",
        "fake = G(sample_z(batch_size))",
        "missing detach: L_D's backward fills G's gradients",
    ),
    (
        "step_no_zero_grad_for_d",
        "    opt_d.zero_grad()\n    loss_d.backward()",
        "    loss_d.backward()",
        "gradients add up: D also steps on the gradient G's phase left in D and on the last call's",
    ),
    (
        "step_no_zero_grad_for_g",
        "    opt_g.zero_grad()\n    loss_g.backward()",
        "    loss_g.backward()",
        "G's gradients add up across calls",
    ),
    (
        "step_zero_grad_on_the_wrong_optimizer",
        "    opt_d.zero_grad()\n    loss_d.backward()",
        "    opt_g.zero_grad()\n    loss_d.backward()",
        "zero_grad on G's optimizer before D's backward: D's gradients are never cleared",
    ),
    (
        "step_zero_grad_after_backward",
        "    opt_d.zero_grad()\n    loss_d.backward()\n    opt_d.step()",
        "    loss_d.backward()\n    opt_d.zero_grad()\n    opt_d.step()",
        "clearing the gradients between backward and step: D never moves",
    ),
    (
        "step_wrong_optimizer_in_g_phase",
        "    loss_g.backward()\n    opt_g.step()",
        "    loss_g.backward()\n    opt_d.step()",
        "stepping D's optimizer on the generator loss",
    ),
    (
        "step_g_loss_through_the_old_d",
        "    opt_d.step()\n\n    loss_g = generator_loss(D(G(sample_z(batch_size))))  # through the updated D",
        "    loss_g = generator_loss(D(G(sample_z(batch_size))))\n    opt_d.step()\n",
        "L_G computed before D's update: the G step sees the old D (and autograd sees weights changed in place)",
    ),
    (
        "step_g_loss_on_detached_fakes",
        "loss_g = generator_loss(D(G(sample_z(batch_size))))  # through the updated D",
        "loss_g = generator_loss(D(G(sample_z(batch_size)).detach()))",
        "a detach in G's phase too: no gradient reaches G",
    ),
    (
        "step_minimax_g_loss",
        "loss_g = generator_loss(D(G(sample_z(batch_size))))  # through the updated D",
        "loss_g = -discriminator_loss(D(real), D(G(sample_z(batch_size))))",
        "G minimising -L_D, the saturating minimax objective, instead of the non-saturating loss",
    ),
    (
        "step_same_codes_for_both_phases",
        "fake = G(sample_z(batch_size)).detach()  # (B, 2), a constant for D's phase",
        "z = sample_z(batch_size)\n    sample_z = lambda n: z  # noqa: E731\n    fake = G(z).detach()",
        "the codes of D's phase reused for G's phase instead of a new draw",
    ),
    (
        "step_returns_tensors",
        'return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}',
        'return {"loss_d": loss_d, "loss_g": loss_g}',
        "returning the loss tensors keeps their graphs alive in the log",
    ),
    (
        "step_returns_detached_tensors",
        'return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}',
        'return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}',
        "a detached tensor is still not a Python float",
    ),
    (
        "step_fakes_and_reals_swapped",
        "    loss_d = discriminator_loss(D(real), D(fake))\n",
        "    loss_d = discriminator_loss(D(fake), D(real))\n",
        "the arguments of the D loss in the wrong order: D learns to call fakes real",
    ),
    (
        "step_reports_d_loss_after_the_update",
        'return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}',
        'return {"loss_d": discriminator_loss(D(real), D(fake)).item(), "loss_g": loss_g.item()}',
        "the logged D loss recomputed after both updates instead of the loss D stepped on",
    ),
]
