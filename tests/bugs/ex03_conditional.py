"""Mistakes learners make in chapter 3 (solutions/ex03_conditional.py), graded by tests/test_graders_catch_bugs.py.

Each entry is ``(bug_id, old_text, new_text, why)``: ``old_text`` occurs exactly once in the
solution and ``new_text`` is what a learner with that misconception writes instead.
"""

CONCAT = "    return torch.cat([z, embedding(labels)], dim=1)\n"
PROJECTION = "    return psi(features).squeeze(1) + (embedding(labels) * features).sum(dim=1)\n"
ACCURACY = "    return torch.where(asked > 0, hits / asked.clamp_min(1), torch.nan)\n"
FAKE = "    fake = G(z, fake_labels)  # (B, *sample_shape)\n"
LOSS_D = (
    "    loss_d = F.softplus(-D(real, labels)).mean() + F.softplus(D(fake.detach(), fake_labels)).mean()\n"
)
LOSS_G = "    loss_g = F.softplus(-D(fake, fake_labels)).mean()  # through the updated D\n"

BUGS = [
    (
        "concat_along_the_batch",
        CONCAT,
        "    return torch.cat([z, embedding(labels)], dim=0)\n",
        "concatenating along dim 0 stacks rows instead of joining features",
    ),
    (
        "concat_embedding_first",
        CONCAT,
        "    return torch.cat([embedding(labels), z], dim=1)\n",
        "the embedding before z: the layout the docstring fixes is z first",
    ),
    (
        "concat_frozen_embedding",
        CONCAT,
        "    return torch.cat([z, embedding(labels).detach()], dim=1)\n",
        "a detach on the embedding: the class vectors are never learned",
    ),
    (
        "concat_embedding_weight_rows_by_hand_wrong",
        CONCAT,
        "    return torch.cat([z, embedding.weight[: len(labels)]], dim=1)\n",
        "taking the first B rows of the table instead of the rows of the labels",
    ),
    (
        "generator_without_tanh",
        "            nn.Linear(hidden, math.prod(self.out_shape)),  # (B, prod(out_shape))\n            nn.Tanh(),\n",
        "            nn.Linear(hidden, math.prod(self.out_shape)),  # (B, prod(out_shape))\n",
        "no Tanh at the end: samples leave [-1, 1], the range of the data",
    ),
    (
        "generator_ignores_the_label",
        "        h = embed_and_concatenate(z, labels, self.embed)  # (B, nz + embed_dim)\n",
        "        h = embed_and_concatenate(z, torch.zeros_like(labels), self.embed)\n",
        "the label never reaches the network: G is unconditional",
    ),
    (
        "generator_one_hidden_layer",
        "            nn.Linear(hidden, hidden),  # (B, hidden)\n            nn.ReLU(),\n",
        "",
        "a hidden layer left out of the MLP",
    ),
    (
        "projection_without_squeeze",
        PROJECTION,
        "    return psi(features) + (embedding(labels) * features).sum(dim=1)\n",
        "(B, 1) + (B,) broadcasts to (B, B)",
    ),
    (
        "projection_sum_over_the_batch",
        PROJECTION,
        "    return psi(features).squeeze(1) + (embedding(labels) * features).sum(dim=0)\n",
        "the inner product reduced over the batch dimension instead of the features",
    ),
    (
        "projection_without_the_unconditional_head",
        PROJECTION,
        "    return (embedding(labels) * features).sum(dim=1)\n",
        "psi(phi(x)), the unconditional real/fake score, left out",
    ),
    (
        "projection_squeeze_everything",
        PROJECTION,
        "    return psi(features).squeeze() + (embedding(labels) * features).sum(dim=1).mean()\n",
        "the projection term averaged over the batch: every sample gets the same class score",
    ),
    (
        "grid_labels_tiled",
        "    return torch.arange(num_classes).repeat_interleave(per_class)\n",
        "    return torch.arange(num_classes).repeat(per_class)\n",
        "repeat tiles the whole range (0, 1, 2, 0, 1, 2) instead of one row per class",
    ),
    (
        "accuracy_counted_by_predicted_class",
        "    asked = torch.bincount(requested, minlength=num_classes).float()\n",
        "    asked = torch.bincount(predicted, minlength=num_classes).float()\n",
        "dividing by how often a class was predicted instead of how often it was requested",
    ),
    (
        "accuracy_overall_not_per_class",
        ACCURACY,
        "    return torch.full((num_classes,), (predicted == requested).float().mean().item())\n",
        "one overall accuracy for every class hides the classes G cannot draw",
    ),
    (
        "accuracy_zero_for_unrequested_classes",
        ACCURACY,
        "    return hits / asked.clamp_min(1)\n",
        "0 instead of NaN for a class never requested: it looks like a class G fails at",
    ),
    (
        "step_fake_labels_copied_from_the_real_batch",
        FAKE,
        "    fake = G(z, labels)\n",
        "the fakes are generated for the real batch's labels instead of the uniform fake labels",
    ),
    (
        "step_real_judged_with_fake_labels",
        LOSS_D,
        "    loss_d = F.softplus(-D(real, fake_labels)).mean() + F.softplus(D(fake.detach(), fake_labels)).mean()\n",
        "real samples shown to D with the fake labels: D learns a wrong pairing",
    ),
    (
        "step_fakes_judged_with_real_labels",
        LOSS_D,
        "    loss_d = F.softplus(-D(real, labels)).mean() + F.softplus(D(fake.detach(), labels)).mean()\n",
        "fakes shown to D with the real batch's labels instead of their own",
    ),
    (
        "step_g_phase_with_real_labels",
        LOSS_G,
        "    loss_g = F.softplus(-D(fake, labels)).mean()\n",
        "G's phase pairs the fakes with the real labels: G is pushed to fit a class it was not asked for",
    ),
    (
        "step_fakes_not_detached",
        LOSS_D,
        "    loss_d = F.softplus(-D(real, labels)).mean() + F.softplus(D(fake, fake_labels)).mean()\n",
        "missing detach: L_D's backward reaches G (and frees the graph G's phase needs)",
    ),
    (
        "step_no_zero_grad_for_d",
        "    opt_d.zero_grad()\n    loss_d.backward()",
        "    loss_d.backward()",
        "D's gradients add up with those G's phase left in D",
    ),
    (
        "step_no_zero_grad_for_g",
        "    opt_g.zero_grad()\n    loss_g.backward()",
        "    loss_g.backward()",
        "G's gradients add up across calls",
    ),
    (
        "step_wrong_optimizer_in_g_phase",
        "    loss_g.backward()\n    opt_g.step()",
        "    loss_g.backward()\n    opt_d.step()",
        "stepping D's optimizer on the generator loss",
    ),
    (
        "step_saturating_g_loss",
        LOSS_G,
        "    loss_g = -F.softplus(D(fake, fake_labels)).mean()\n",
        "the saturating minimax loss for G",
    ),
    (
        "step_d_loss_signs_swapped",
        LOSS_D,
        "    loss_d = F.softplus(D(real, labels)).mean() + F.softplus(-D(fake.detach(), fake_labels)).mean()\n",
        "real and fake targets swapped",
    ),
    (
        "step_g_loss_through_the_old_d",
        "    opt_d.step()\n\n" + LOSS_G,
        "    loss_g = F.softplus(-D(fake, fake_labels)).mean()\n    opt_d.step()\n",
        "L_G computed before D's update",
    ),
    (
        "step_returns_tensors",
        '    return {"loss_d": loss_d.item(), "loss_g": loss_g.item()}\n',
        '    return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach()}\n',
        "tensors instead of Python floats in the log",
    ),
    (
        "step_sum_over_the_batch",
        LOSS_G,
        "    loss_g = F.softplus(-D(fake, fake_labels)).sum()\n",
        "a sum instead of the mean: the step size grows with the batch",
    ),
    (
        "step_fake_labels_shuffled_from_the_real_batch",
        FAKE,
        "    fake = G(z, labels[torch.randperm(len(labels))])\n",
        "fake labels taken from the real batch (shuffled) instead of the uniform labels passed in",
    ),
]
