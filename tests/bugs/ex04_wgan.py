"""Mistakes learners make in chapter 4 (solutions/ex04_wgan.py), graded by tests/test_graders_catch_bugs.py.

Each entry is ``(bug_id, old_text, new_text, why)``: ``old_text`` occurs exactly once in the
solution and ``new_text`` is what a learner with that misconception writes instead.
"""

CRITIC = "    return fake_scores.mean() - real_scores.mean()\n"
GEN = "    return -fake_scores.mean()\n"
CLAMP = "            p.clamp_(-c, c)\n"
COVER = "    return int((counts >= 0.01 * len(points)).sum()), good.float().mean().item()\n"
CDF_X = "    cdf_x = torch.searchsorted(x.sort().values, t, right=True).to(t.dtype) / len(x)  # F_x(t_k)\n"
W1_SUM = "    return ((cdf_x - cdf_y).abs()[:-1] * t.diff()).sum()  # sum_k |F_x - F_y| (t_{k+1} - t_k)\n"
FAKE = "        fake = G(sample_z(real.shape[0])).detach()  # (B, ...), a constant for the critic\n"
STEP_AND_CLIP = "        opt_d.step()\n        clip_weights_(D, clip)\n"
LOSS_G = "    loss_g = generator_loss(D(G(sample_z(real.shape[0]))))\n"

BUGS = [
    (
        "critic_loss_sign_flipped",
        CRITIC,
        "    return real_scores.mean() - fake_scores.mean()\n",
        "the critic maximises E f(real) - E f(fake); minimising that instead pushes the scores the wrong way",
    ),
    (
        "critic_loss_elementwise",
        CRITIC,
        "    return (fake_scores - real_scores).mean()\n",
        "subtracting elementwise: breaks for unequal batches and broadcasts (B, 1) - (B,) to (B, B)",
    ),
    (
        "critic_loss_through_a_sigmoid",
        CRITIC,
        "    return torch.sigmoid(fake_scores).mean() - torch.sigmoid(real_scores).mean()\n",
        "treating the critic's scores as probabilities",
    ),
    (
        "critic_loss_sum",
        CRITIC,
        "    return fake_scores.sum() - real_scores.sum()\n",
        "sums instead of means: not an estimate of an expectation",
    ),
    (
        "generator_loss_sign_flipped",
        GEN,
        "    return fake_scores.mean()\n",
        "G minimising its critic score instead of maximising it",
    ),
    (
        "generator_loss_log",
        GEN,
        "    return -torch.log(fake_scores.clamp_min(1e-8)).mean()\n",
        "the non-saturating GAN loss carried over to a critic that outputs scores",
    ),
    (
        "clip_one_sided",
        CLAMP,
        "            p.clamp_(max=c)\n",
        "only the upper bound: large negative weights stay",
    ),
    (
        "clip_rescales_instead",
        CLAMP,
        "            p.mul_(c / p.abs().max().clamp_min(c))\n",
        "rescaling the whole tensor instead of clamping each value",
    ),
    (
        "clip_weights_only",
        "        for p in critic.parameters():\n",
        "        for p in (m.weight for m in critic.modules() if isinstance(m, nn.Linear)):\n",
        "biases and norm scales left unclipped",
    ),
    (
        "clip_new_tensors",
        CLAMP,
        "            p.data = p.data.clamp(-c, c)\n",
        "a new tensor behind the parameter: the optimizer's state no longer matches it",
    ),
    (
        "clip_recorded_by_autograd",
        "    with torch.no_grad():\n        for p in critic.parameters():\n            p.clamp_(-c, c)\n",
        "    for p in critic.parameters():\n        p.clamp_(-c, c)\n",
        "an in-place change of a leaf that requires grad, outside torch.no_grad()",
    ),
    (
        "coverage_one_percent_of_the_good_points",
        COVER,
        "    return int((counts >= 0.01 * good.sum()).sum()), good.float().mean().item()\n",
        "the 1% threshold taken of the high-quality points instead of all points",
    ),
    (
        "coverage_within_one_sigma",
        "    good = distance <= 3 * std\n",
        "    good = distance <= std\n",
        "one standard deviation instead of three",
    ),
    (
        "coverage_counts_all_points",
        "    counts = torch.bincount(nearest[good], minlength=len(centers))\n",
        "    counts = torch.bincount(nearest, minlength=len(centers))\n",
        "far-away points counted towards their nearest mode",
    ),
    (
        "w1_pairs_sorted_samples",
        "    t = torch.cat([x, y]).sort().values  # (N + M,) every point where a CDF jumps\n",
        "    return (x.sort().values - y.sort().values).abs().mean()\n",
        "the equal-size shortcut mean |x_(i) - y_(i)| used for samples of different sizes",
    ),
    (
        "w1_left_limits_of_the_cdf",
        CDF_X,
        "    cdf_x = torch.searchsorted(x.sort().values, t).to(t.dtype) / len(x)\n",
        "counting x_i < t instead of x_i <= t: F_x is evaluated at the wrong side of each jump",
    ),
    (
        "w1_cdf_in_float32",
        CDF_X,
        "    cdf_x = torch.searchsorted(x.sort().values, t, right=True) / len(x)\n",
        "the integer count divided by N becomes float32 and loses float64 precision",
    ),
    (
        "w1_squared_difference",
        W1_SUM,
        "    return ((cdf_x - cdf_y).pow(2)[:-1] * t.diff()).sum()\n",
        "the Cramér distance (squared CDF difference), not W1",
    ),
    (
        "w1_without_the_gaps",
        W1_SUM,
        "    return (cdf_x - cdf_y).abs().mean()\n",
        "an average of CDF differences is not an integral over t",
    ),
    (
        "step_clips_once_after_the_loop",
        STEP_AND_CLIP,
        "        opt_d.step()\n    clip_weights_(D, clip)\n",
        "clipping once after all critic steps: the critic is unconstrained between them",
    ),
    (
        "step_clips_before_the_update",
        STEP_AND_CLIP,
        "        clip_weights_(D, clip)\n        opt_d.step()\n",
        "clipping before opt_d.step(): the critic G trains against is not clipped",
    ),
    (
        "step_one_critic_step",
        "    for _ in range(n_critic):\n",
        "    for _ in range(1):\n",
        "n_critic ignored: one critic step per G step",
    ),
    (
        "step_one_real_batch_for_all_critic_steps",
        "    for _ in range(n_critic):\n        real = next_real()  # (B, ...)\n",
        "    real = next_real()\n    for _ in range(n_critic):\n",
        "the same real batch for every critic step",
    ),
    (
        "step_one_fake_batch_for_all_critic_steps",
        "    for _ in range(n_critic):\n        real = next_real()  # (B, ...)\n" + FAKE,
        "    fake = G(sample_z(next_real().shape[0])).detach()\n    for _ in range(n_critic):\n"
        "        real = next_real()\n",
        "the same fakes for every critic step",
    ),
    (
        "step_fakes_not_detached",
        FAKE,
        "        fake = G(sample_z(real.shape[0]))\n",
        "missing detach: the critic loss's backward fills G's gradients",
    ),
    (
        "step_no_zero_grad_for_the_critic",
        "        opt_d.zero_grad()\n",
        "",
        "critic gradients add up over critic steps and with those G's step left",
    ),
    (
        "step_no_zero_grad_for_g",
        "    opt_g.zero_grad()\n",
        "",
        "G's gradients add up across calls",
    ),
    (
        "step_wrong_optimizer_for_g",
        "    loss_g.backward()\n    opt_g.step()\n",
        "    loss_g.backward()\n    opt_d.step()\n",
        "stepping the critic's optimizer on the generator loss",
    ),
    (
        "step_critic_arguments_swapped",
        "        loss_d = critic_loss(D(real), D(fake))\n",
        "        loss_d = critic_loss(D(fake), D(real))\n",
        "real and fake scores passed in the wrong order: the critic learns the opposite sign",
    ),
    (
        "step_generator_loss_negated",
        LOSS_G,
        "    loss_g = -generator_loss(D(G(sample_z(real.shape[0]))))\n",
        "G minimising E f(G(z)): it runs away from the data",
    ),
    (
        "step_returns_tensors",
        '    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}\n',
        '    return {"loss_d": loss_d, "loss_g": loss_g}\n',
        "tensors holding a graph in the log instead of Python floats",
    ),
    (
        "step_generator_before_the_critic",
        "    for _ in range(n_critic):\n",
        "    generator_loss(D(G(sample_z(1)))).backward()\n    opt_g.step()\n    for _ in range(n_critic):\n",
        "an extra G step before the critic loop (the loop order of a GAN turned around)",
    ),
    (
        "step_clips_at_the_default_bound",
        "        clip_weights_(D, clip)\n",
        "        clip_weights_(D)\n",
        "the clip argument not passed on: every critic is clipped at the default 0.01",
    ),
    (
        "step_one_critic_step_too_many",
        "    for _ in range(n_critic):\n",
        "    for _ in range(n_critic + 1):\n",
        "an off-by-one in the critic loop",
    ),
    (
        "step_reports_critic_loss_after_the_update",
        '    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}\n',
        '    return {"loss_d": critic_loss(D(real), D(fake)).item(), "loss_g": loss_g.item()}\n',
        "the logged critic loss recomputed after the updates instead of the loss the critic stepped on",
    ),
]
