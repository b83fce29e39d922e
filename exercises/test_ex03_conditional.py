"""Autograder for chapter 3 (exercises/ex03_conditional.py)."""

import copy
import math

import torch
import torch.nn.functional as F
from conftest import exercise_fixture, max_difference
from torch import nn

ex = exercise_fixture("ex03_conditional")

# Points per test (each case of a parametrised test earns them); every other test earns 1.
POINTS = {
    "test_train_step_shows_d_each_sample_with_its_own_label": 2,
    "test_train_step_moves_d_by_its_own_loss_only_over_two_steps": 2,
    "test_train_step_moves_g_by_its_own_loss_only_over_two_steps": 2,
}


# ---------------------------------------------------------- embed_and_concatenate


def test_concatenation_puts_z_first_then_the_label_embedding(ex, device):
    embedding = nn.Embedding(10, 3).to(device)
    z = torch.randn(4, 5, device=device)
    labels = torch.tensor([7, 0, 7, 2], device=device)
    h = ex.embed_and_concatenate(z, labels, embedding)
    assert tuple(h.shape) == (4, 8), (
        f"expected (B, nz + d) = (4, 8), got {tuple(h.shape)} (concatenate along dim 1, the features)"
    )
    assert torch.equal(h[:, :5], z), "the first nz columns should be z itself"
    assert torch.equal(h[:, 5:], embedding.weight[labels]), (
        "the last d columns of row i should be embedding.weight[labels[i]], the learned vector of its class"
    )


def test_concatenation_lets_gradients_reach_the_embedding(ex):
    embedding = nn.Embedding(10, 3)
    ex.embed_and_concatenate(torch.randn(2, 4), torch.tensor([1, 1]), embedding).sum().backward()
    grad = embedding.weight.grad
    assert grad is not None and grad[1].abs().sum() > 0, "the embedding must be learned: keep it in the graph"
    assert grad[0].abs().sum() == 0, "only the rows of the classes used receive a gradient"


# ----------------------------------------------------------- ConditionalGenerator


def test_conditional_generator_output_shape_and_range(ex, device):
    G = ex.ConditionalGenerator(num_classes=10, nz=8, embed_dim=4, hidden=32, out_shape=(1, 28, 28)).to(
        device
    )
    out = G(torch.randn(6, 8, device=device) * 10, torch.arange(6, device=device))
    assert tuple(out.shape) == (6, 1, 28, 28), f"expected samples (6, 1, 28, 28), got {tuple(out.shape)}"
    assert out.abs().max() <= 1, "samples should lie in [-1, 1]: end the network with Tanh"


def test_conditional_generator_layers(ex):
    G = ex.ConditionalGenerator(num_classes=7, nz=8, embed_dim=4, hidden=32, out_shape=(2,))
    assert isinstance(G.embed, nn.Embedding) and tuple(G.embed.weight.shape) == (7, 4), (
        f"G.embed should be nn.Embedding(7, 4), got {G.embed}"
    )
    linears = [m for m in G.net.modules() if isinstance(m, nn.Linear)]
    shapes = [(m.in_features, m.out_features) for m in linears]
    assert shapes == [(12, 32), (32, 32), (32, 2)], (
        f"expected Linear layers {[(12, 32), (32, 32), (32, 2)]}, got {shapes}"
    )


def test_conditional_generator_output_depends_on_the_label(ex):
    G = ex.ConditionalGenerator(num_classes=10, nz=8, embed_dim=4, hidden=32, out_shape=(3,))
    z = torch.randn(1, 8).expand(10, 8)
    out = G(z, torch.arange(10))
    assert torch.allclose(out[:1], G(z[:1], torch.tensor([0]))), "the same (z, y) should give the same sample"
    spread = (out - out[0]).abs().amax(dim=1)[1:]
    assert (spread > 1e-4).all(), (
        "the same z with different labels should give different samples: use the label"
    )


# --------------------------------------------------------------- projection_logits


def test_projection_logits_by_hand(ex):
    features = torch.tensor([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]])
    labels = torch.tensor([0, 1, 1])
    psi = nn.Linear(2, 1)
    embedding = nn.Embedding(2, 2)
    with torch.no_grad():
        psi.weight.copy_(torch.tensor([[0.5, -1.0]]))
        psi.bias.fill_(0.25)
        embedding.weight.copy_(torch.tensor([[1.0, 0.0], [2.0, 3.0]]))
    got = ex.projection_logits(features, labels, psi, embedding)
    # psi: 0.5 f0 - f1 + 0.25; projection: <e(y), f>
    expected = torch.tensor([(0.5 - 2 + 0.25) + 1.0, (0 + 1 + 0.25) + (-3.0), (1.5 - 1 + 0.25) + (6 + 3)])
    assert tuple(got.shape) == (3,), (
        f"expected logits of shape (B,) = (3,), got {tuple(got.shape)} (psi gives (B, 1): squeeze it before adding)"
    )
    assert torch.allclose(got, expected), (
        f"expected psi(phi) + <e(y), phi> = {expected.tolist()}, got {got.tolist()}"
    )


def test_projection_logits_favour_the_matching_class(ex):
    embedding = nn.Embedding(3, 4)
    with torch.no_grad():
        embedding.weight.copy_(torch.eye(3, 4) * 5)
    psi = nn.Linear(4, 1)
    features = torch.eye(3, 4)  # sample i "looks like" class i
    matched = ex.projection_logits(features, torch.arange(3), psi, embedding)
    mismatched = ex.projection_logits(features, torch.tensor([1, 2, 0]), psi, embedding)
    assert (matched - mismatched).allclose(torch.full((3,), 5.0)), (
        f"asking for the class a sample looks like should add <e(y), phi> = 5 to its logit; "
        f"got differences {(matched - mismatched).tolist()}"
    )


# -------------------------------------------------------------------- grid_labels


def test_grid_labels_give_one_row_per_class(ex):
    got = ex.grid_labels(3, 2)
    assert got.dtype == torch.int64, f"expected int64 labels, got {got.dtype}"
    assert got.tolist() == [0, 0, 1, 1, 2, 2], (
        f"expected [0, 0, 1, 1, 2, 2] (per_class of each class in turn), got {got.tolist()} "
        "(repeat() tiles the whole range; repeat_interleave() repeats each element)"
    )
    big = ex.grid_labels(10, 8)
    assert big.view(10, 8).eq(torch.arange(10)[:, None]).all(), "row k of a 10 x 8 grid should be all class k"


# --------------------------------------------------------------- per_class_accuracy


def test_per_class_accuracy_by_hand(ex):
    requested = torch.tensor([0, 0, 0, 0, 1, 1, 2])
    predicted = torch.tensor([0, 0, 1, 2, 1, 0, 2])
    got = ex.per_class_accuracy(predicted, requested, 4)
    assert tuple(got.shape) == (4,), f"expected one accuracy per class, shape (4,), got {tuple(got.shape)}"
    expected = [0.5, 0.5, 1.0]
    assert torch.allclose(got[:3].float(), torch.tensor(expected)), (
        f"expected accuracies {expected} for classes 0-2 (hits / times asked), got {got[:3].tolist()}"
    )
    assert math.isnan(got[3].item()), f"class 3 was never requested: expected NaN, got {got[3].item()}"


def test_per_class_accuracy_counts_by_requested_class_not_predicted(ex):
    requested = torch.tensor([0, 0, 0, 0])
    predicted = torch.tensor([1, 1, 1, 0])
    got = ex.per_class_accuracy(predicted, requested, 2)
    assert math.isclose(got[0].item(), 0.25), (
        f"class 0 was asked for 4 times and seen once: expected 0.25, got {got[0].item()}"
    )
    assert math.isnan(got[1].item()), f"class 1 was never asked for: expected NaN, got {got[1].item()}"


def test_per_class_accuracy_is_not_the_overall_accuracy(ex):
    requested = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1])
    predicted = torch.tensor([0, 0, 0, 0, 0, 0, 0, 0])
    got = ex.per_class_accuracy(predicted, requested, 2)
    assert got.dtype == torch.float32, f"expected float32 accuracies, got {got.dtype}"
    assert torch.allclose(got, torch.tensor([1.0, 0.0])), (
        f"class 0 is always seen (6 of 6) and class 1 never (0 of 2): expected [1.0, 0.0], got {got.tolist()} "
        "(the overall accuracy 6/8 = 0.75 hides the class G never draws)"
    )


# ---------------------------------------------------------------------- train_step


class TinyG(nn.Module):
    """G(z, y): a linear map of [z; e(y)], (B, 4) and (B,) -> (B, 5); remembers the labels it was given."""

    def __init__(self):
        super().__init__()
        self.embed, self.net, self.calls = nn.Embedding(3, 2), nn.Linear(4 + 2, 5), []

    def forward(self, z, labels):
        self.calls.append(labels.clone())
        return torch.tanh(self.net(torch.cat([z, self.embed(labels)], dim=1)))  # (B, 5)


class TinyD(nn.Module):
    """A projection discriminator D(x, y), (B, 5) and (B,) -> (B,); remembers each (x, y) it judged."""

    def __init__(self):
        super().__init__()
        self.embed, self.psi, self.calls = nn.Embedding(3, 5), nn.Linear(5, 1), []

    def forward(self, x, labels):
        self.calls.append((x.detach().clone(), labels.clone()))
        return self.psi(x).squeeze(1) + (self.embed(labels) * x).sum(dim=1)  # (B,)


class RecordingSGD(torch.optim.SGD):
    """SGD that counts its steps and records, at each, the other network's gradients and its own weights after."""

    def __init__(self, params, lr, other):
        super().__init__(params, lr)
        self.other, self.steps, self.other_grads, self.after = other, 0, [], []

    def step(self, closure=None):
        self.steps += 1
        self.other_grads.append([None if p.grad is None else p.grad.clone() for p in self.other.parameters()])
        result = super().step(closure)
        self.after.append([p.detach().clone() for group in self.param_groups for p in group["params"]])
        return result


def batches(n_steps=2, batch_size=12):
    gen = torch.Generator().manual_seed(2)
    return [
        (
            torch.randn(batch_size, 5, generator=gen),
            torch.randint(3, (batch_size,), generator=gen),
            torch.randn(batch_size, 4, generator=gen),
            torch.randint(3, (batch_size,), generator=gen),
        )
        for _ in range(n_steps)
    ]


def reference_steps(G, D, data, lr):
    """The docstring's update with plain SGD, once per batch."""
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr), torch.optim.SGD(D.parameters(), lr)
    logs = []
    for real, labels, z, fake_labels in data:
        fake = G(z, fake_labels)
        loss_d = F.softplus(-D(real, labels)).mean() + F.softplus(D(fake.detach(), fake_labels)).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-D(fake, fake_labels)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        logs.append({"loss_d": loss_d.item(), "loss_g": loss_g.item()})
    return logs


def two_steps(ex, lr=0.5):
    """Two calls of the learner's train_step and of the reference, from the same weights and batches."""
    torch.manual_seed(0)
    G, D = TinyG(), TinyD()
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    data = batches()
    opt_g, opt_d = RecordingSGD(G.parameters(), lr, other=D), RecordingSGD(D.parameters(), lr, other=G)
    logs, g_calls, d_calls, fakes = [], [], [], []
    for batch in data:
        g_start, d_start = len(G.calls), len(D.calls)
        with torch.no_grad():
            fakes.append(copy.deepcopy(G)(batch[2], batch[3]))  # this call's fakes, for telling samples apart
        logs.append(ex.train_step(G, D, opt_g, opt_d, *batch))
        g_calls.append(G.calls[g_start:])
        d_calls.append(D.calls[d_start:])
    expected = reference_steps(G_ref, D_ref, data, lr)
    run = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d, "logs": logs, "data": data}
    return {**run, "g_calls": g_calls, "d_calls": d_calls, "fakes": fakes}, (G_ref, D_ref, expected)


def test_train_step_generates_with_the_fake_labels(ex):
    run, _ = two_steps(ex)
    for number, ((_, labels, _, fake_labels), asked) in enumerate(
        zip(run["data"], run["g_calls"], strict=True), start=1
    ):
        wrong = [y.tolist() for y in asked if not torch.equal(y, fake_labels)]
        assert asked and not wrong, (
            f"call {number}: G should only be asked for fake_labels {fake_labels.tolist()}, got {wrong or 'no call'}"
            + (" (the real batch's labels)" if labels.tolist() in wrong else "")
        )


def rows_matching(rows, table):
    """For each row of ``rows``, the index of an equal row of ``table`` (-1 where none is)."""
    close = torch.cdist(rows, table) < 1e-5  # (len(rows), len(table))
    return torch.where(close.any(dim=1), close.float().argmax(dim=1), -1)


def test_train_step_shows_d_each_sample_with_its_own_label(ex):
    run, _ = two_steps(ex)
    for number, ((real, labels, _, fake_labels), fake, judged) in enumerate(
        zip(run["data"], run["fakes"], run["d_calls"], strict=True), start=1
    ):
        seen = {"real": 0, "fake": 0}
        for x, y in judged:
            for kind, table, own in (("real", real, labels), ("fake", fake, fake_labels)):
                index = rows_matching(x, table)
                found = index >= 0
                seen[kind] += int(found.sum())
                wrong = found & (y != own[index.clamp_min(0)])
                assert not wrong.any(), (
                    f"call {number}: D judged {kind} samples with labels {y[wrong].tolist()} where their own labels "
                    f"are {own[index[wrong]].tolist()}: a real sample goes with its label, a fake with the label "
                    "it was generated for (fake_labels), in both phases"
                )
        assert seen["real"] and seen["fake"], (
            f"call {number}: D saw {seen['real']} real and {seen['fake']} fake samples; expected both, every real "
            "sample with its label and every fake with its fake label"
        )


def test_train_step_steps_each_optimizer_once_per_call(ex):
    run, _ = two_steps(ex)
    steps = (run["opt_d"].steps, run["opt_g"].steps)
    assert steps == (2, 2), f"two calls should step opt_d twice and opt_g twice, got {steps}"


def test_train_step_returns_the_losses_as_python_floats_before_each_update(ex):
    run, (_, _, expected) = two_steps(ex)
    for number, (got, want) in enumerate(zip(run["logs"], expected, strict=True), start=1):
        assert set(got) == {"loss_d", "loss_g"}, f"expected the keys loss_d and loss_g, got {sorted(got)}"
        for key in ("loss_d", "loss_g"):
            assert type(got[key]) is float, (
                f"{key} should be a Python float (loss.item()), got {type(got[key]).__name__}"
            )
            assert math.isclose(got[key], want[key], rel_tol=1e-5), (
                f"call {number}: expected {key} = {want[key]:.5f} (computed in its phase before that phase's "
                f"optimizer step; loss_g through the updated D), got {got[key]:.5f}"
            )


def test_train_step_moves_d_by_its_own_loss_only_over_two_steps(ex):
    run, (_, D_ref, _) = two_steps(ex)
    diff = max_difference(run["D"], D_ref)
    assert diff < 1e-6, (
        f"after two calls D's weights differ from two SGD steps on L_D by up to {diff:.3g}: clear D's gradients "
        "before L_D's backward (G's phase leaves gradients in D) and step only opt_d in D's phase"
    )


def test_train_step_moves_g_by_its_own_loss_only_over_two_steps(ex):
    run, (G_ref, _, _) = two_steps(ex)
    diff = max_difference(run["G"], G_ref)
    assert diff < 1e-6, (
        f"after two calls G's weights differ from two SGD steps on L_G by up to {diff:.3g}: clear G's gradients "
        "before L_G's backward and compute L_G through the updated D with the fakes' own labels"
    )


def test_train_step_leaves_d_unchanged_in_gs_phase(ex):
    run, _ = two_steps(ex)
    moved = max(
        (p - q).abs().max().item() for p, q in zip(run["D"].parameters(), run["opt_d"].after[-1], strict=True)
    )
    assert moved == 0, (
        f"D's weights changed by up to {moved:.3g} after its own step: only opt_g steps in G's phase"
    )


def test_train_step_sends_no_gradient_into_g_during_ds_phase(ex):
    run, _ = two_steps(ex)
    first = run["opt_d"].other_grads[0]
    assert all(g is None or not g.any() for g in first), (
        "L_D's backward put gradients into G's weights: the fakes of D's phase must be constants (fake.detach())"
    )
