"""Autograder for chapter 3 (exercises/ex03_conditional.py)."""

import math

import torch
from conftest import exercise_fixture
from torch import nn

ex = exercise_fixture("ex03_conditional")


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
