"""Realistic one-bug variants of solutions/ex02_dcgan.py that exercises/test_ex02_dcgan.py must catch."""

BUGS = [
    (
        "gen_batchnorm_on_output",
        "        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),  # (B, nc, 32, 32)\n        nn.Tanh(),\n",
        "        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),  # (B, nc, 32, 32)\n        nn.BatchNorm2d(nc),\n"
        "        nn.Tanh(),\n",
        "BatchNorm on G's output layer",
    ),
    (
        "gen_bias",
        "        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),",
        "        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0),",
        "a bias before BatchNorm is wasted parameters",
    ),
    (
        "gen_first_layer_stride_2",
        "        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),",
        "        nn.ConvTranspose2d(nz, ngf * 4, 4, 2, 1, bias=False),",
        "the projection from 1x1 gives 2x2 instead of 4x4",
    ),
    (
        "gen_sigmoid_output",
        "        nn.Tanh(),\n    )",
        "        nn.Sigmoid(),\n    )",
        "images in [0, 1] instead of [-1, 1]",
    ),
    (
        "disc_sigmoid",
        "        nn.Flatten(0),  # (B,)\n",
        "        nn.Flatten(0),  # (B,)\n        nn.Sigmoid(),\n",
        "D returns probabilities instead of logits",
    ),
    (
        "disc_batchnorm_on_input",
        "        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # (B, ndf, 16, 16)\n        nn.LeakyReLU",
        "        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),  # (B, ndf, 16, 16)\n        nn.BatchNorm2d(ndf),\n"
        "        nn.LeakyReLU",
        "BatchNorm on D's input layer",
    ),
    (
        "disc_default_leaky_slope",
        "        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),  # (B, ndf·4, 4, 4)\n"
        "        nn.BatchNorm2d(ndf * 4),\n        nn.LeakyReLU(0.2, inplace=True),\n",
        "        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),  # (B, ndf·4, 4, 4)\n"
        "        nn.BatchNorm2d(ndf * 4),\n        nn.LeakyReLU(inplace=True),\n",
        "LeakyReLU's default slope 0.01 instead of 0.2",
    ),
    (
        "disc_column_logits",
        "        nn.Flatten(0),  # (B,)\n",
        "        nn.Flatten(),  # (B,)\n",
        "logits of shape (B, 1) instead of (B,)",
    ),
    (
        "init_std_as_mean",
        "        nn.init.normal_(module.weight, 0.0, 0.02)\n",
        "        nn.init.normal_(module.weight, 0.02)\n",
        "normal_(w, 0.02) sets the mean to 0.02 and the std to 1",
    ),
    (
        "init_batchnorm_mean_zero",
        "        nn.init.normal_(module.weight, 1.0, 0.02)\n",
        "        nn.init.normal_(module.weight, 0.0, 0.02)\n",
        "BatchNorm scales around 0 switch every channel off",
    ),
    (
        "init_misses_transposed_conv",
        "    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):\n",
        "    if isinstance(module, nn.Conv2d):\n",
        "the generator's transposed convolutions keep PyTorch's default init",
    ),
    (
        "init_keeps_bias",
        "        if module.bias is not None:\n            nn.init.zeros_(module.bias)\n    elif",
        "    elif",
        "convolution biases are not zeroed",
    ),
    (
        "step_no_zero_grad_g",
        "    opt_g.zero_grad(set_to_none=True)\n",
        "",
        "G's gradients accumulate from the second step on",
    ),
    (
        "step_no_zero_grad_d",
        "    opt_d.zero_grad(set_to_none=True)\n",
        "",
        "D's gradients accumulate from the second step on (the G step's backward fills them)",
    ),
    (
        "step_returns_tensors",
        '    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}\n',
        '    return {"loss_d": loss_d, "loss_g": loss_g}\n',
        "tensors holding a graph are returned instead of floats",
    ),
    (
        "step_saturating_g_loss",
        "    loss_g = F.softplus(-D(fake)).mean()\n",
        "    loss_g = -F.softplus(D(fake)).mean()\n",
        "the saturating minimax G loss instead of the non-saturating one",
    ),
    (
        "step_d_loss_sign",
        "    loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()\n",
        "    loss_d = F.softplus(D(real)).mean() + F.softplus(-D(fake.detach())).mean()\n",
        "D learns to call reals fake",
    ),
    (
        "step_fresh_z_for_g",
        "    loss_g = F.softplus(-D(fake)).mean()\n",
        "    loss_g = F.softplus(-D(G(torch.randn_like(z)))).mean()\n",
        "the G step ignores the given z",
    ),
    (
        "smooth_two_sided",
        "F.softplus(fake_logits).mean()\n",
        "F.binary_cross_entropy_with_logits(fake_logits, torch.full_like(fake_logits, 1 - real_target))\n",
        "the fakes are smoothed too",
    ),
    (
        "smooth_probability_bce",
        "    return F.binary_cross_entropy_with_logits(real_logits, target) + F.softplus(fake_logits).mean()\n",
        "    return F.binary_cross_entropy(torch.sigmoid(real_logits), target) + F.softplus(fake_logits).mean()\n",
        "BCE on probabilities clamps the log at -100: wrong for logits far below -88",
    ),
    (
        "smooth_hard_target",
        "    target = torch.full_like(real_logits, real_target)\n",
        "    target = torch.ones_like(real_logits)\n",
        "real_target is ignored",
    ),
    (
        "smooth_concatenated_mean",
        "    return F.binary_cross_entropy_with_logits(real_logits, target) + F.softplus(fake_logits).mean()\n",
        "    return 2 * F.binary_cross_entropy_with_logits(\n"
        "        torch.cat([real_logits, fake_logits]), torch.cat([target, torch.zeros_like(fake_logits)])\n    )\n",
        "one mean over both batches: right only when they have the same size",
    ),
]
