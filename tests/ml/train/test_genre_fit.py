"""The genre (and author) head: class-balanced logistic regression, C chosen on validation, baked into Keras layers."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ml.train.genre_fit import (
    C_GRID,
    feature_model,
    fit_head,
    head_layers,
    prior_shift,
    refit_with_prior,
    select,
    train_head,
    with_prior,
)
from ml.train.metrics import classification_metrics
from ml.train.models import ModelSpec, build_backbone

SIZE = 16


def blobs(n: int, n_classes: int = 3, dim: int = 6, shift: float = 4.0, seed: int = 0):
    """Gaussian blobs, one per class along its own axis: (x, y)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    x = rng.normal(size=(n, dim))
    x[:, :n_classes] += shift * np.eye(n_classes)[y]
    return x, y


def sklearn_probabilities(x: np.ndarray, y: np.ndarray, c: float, x_new: np.ndarray) -> np.ndarray:
    """The recipe ``train_head`` follows, done with scikit-learn end to end."""
    scaler = StandardScaler().fit(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=600, random_state=0)
        clf.fit(scaler.transform(x), y)
    return clf.predict_proba(scaler.transform(x_new))


def test_learns_a_separable_problem():
    x, y = blobs(60, shift=10.0)
    x_new, y_new = blobs(30, shift=10.0, seed=1)
    head = train_head(x, y, 3, "cnn", c=0.3)
    probs = head.predict_proba(x_new)
    assert probs.shape == (30, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert (probs.argmax(axis=1) == y_new).all()


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_are_sklearns(n_classes):
    x, y = blobs(60, n_classes, shift=1.0)
    x_new, _ = blobs(20, n_classes, shift=1.0, seed=1)
    head = train_head(x, y, n_classes, "cnn", c=0.1)
    np.testing.assert_allclose(head.predict_proba(x_new), sklearn_probabilities(x, y, 0.1, x_new), atol=1e-6)


def test_classes_absent_from_training_are_never_predicted():
    x, y = blobs(60, 3)
    y = np.where(y == 1, 2, y)  # class 1 has no sample
    probs = train_head(x, y, 4, "cnn", c=0.3).predict_proba(x)
    assert probs.shape == (60, 4)
    assert probs[:, [1, 3]].max() < 1e-9
    assert set(probs.argmax(axis=1)) <= {0, 2}


def test_c_is_chosen_on_validation_macro_f1():
    x, y = blobs(30, dim=20, shift=0.6, seed=1)
    x_val, y_val = blobs(60, dim=20, shift=0.6, seed=2)
    scores = [
        classification_metrics(y_val, train_head(x, y, 3, "cnn", c).predict_proba(x_val).argmax(axis=1))["f1"]
        for c in C_GRID
    ]
    assert len(set(scores)) > 1  # the toy problem does tell the Cs apart
    head = fit_head(x, y, x_val, y_val, 3, "cnn")
    best_c = C_GRID[int(np.argmax(scores))]  # the first of equally good Cs
    assert best_c == head.C
    assert head.val == classification_metrics(y_val, head.predict_proba(x_val).argmax(axis=1))
    assert head.val["f1"] == max(scores)


def test_without_validation_data_c_is_chosen_on_the_training_data():
    x, y = blobs(30, dim=20, shift=0.6, seed=1)
    head = fit_head(x, y, np.zeros((0, 1)), np.array([]), 3, "cnn")
    assert head.val["n"] == len(y)
    assert head.val == classification_metrics(y, head.predict_proba(x).argmax(axis=1))


def test_fused_features_are_cnn_then_handcrafted():
    feats = {"cnn": np.ones((2, 3)), "handcrafted": np.zeros((2, 2))}
    assert select(feats, "fused").tolist() == [[1, 1, 1, 0, 0]] * 2
    assert select(feats, "cnn") is feats["cnn"]


@pytest.fixture(scope="module")
def backbone_and_images():
    keras.utils.set_random_seed(0)
    backbone = build_backbone(ModelSpec(input_size=SIZE, widths=(4, 8), embed_dim=8))
    images = np.random.default_rng(0).integers(0, 256, (24, SIZE, SIZE, 3)).astype("float32")
    features = {k: np.asarray(v) for k, v in feature_model(backbone, SIZE)(images).items()}
    return backbone, images, features


@pytest.mark.parametrize("variant", ["cnn", "handcrafted", "fused"])
def test_keras_layers_reproduce_the_fitted_head(backbone_and_images, variant):
    backbone, images, features = backbone_and_images
    y = np.arange(len(images)) % 3
    head = train_head(select(features, variant), y, 3, variant, c=0.3)
    inputs = keras.Input((SIZE, SIZE, 3))
    model = keras.Model(inputs, head_layers(inputs, backbone, head))
    np.testing.assert_allclose(np.asarray(model(images)), head.predict_proba(select(features, variant)), atol=1e-4)


def test_cnn_head_ignores_mirroring(backbone_and_images):
    backbone, images, features = backbone_and_images
    head = train_head(features["cnn"], np.arange(len(images)) % 2, 2, "cnn", c=0.3)
    inputs = keras.Input((SIZE, SIZE, 3))
    model = keras.Model(inputs, head_layers(inputs, backbone, head))
    np.testing.assert_allclose(np.asarray(model(images)), np.asarray(model(images[:, :, ::-1])), atol=1e-5)


# ---- class-prior correction ------------------------------------------------------------------------------------------
def imbalanced(n: int, seed: int = 0, shift: float = 1.5):
    """Overlapping blobs where class 0 holds 80 % of the rows and classes 1, 2 hold 10 % each."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.8, 0.1, 0.1])
    x = rng.normal(size=(n, 4))
    x[:, :3] += shift * np.eye(3)[y]
    return x, y


def predicted_frequencies(head, x) -> np.ndarray:
    return np.bincount(head.predict_proba(x).argmax(axis=1), minlength=3) / len(x)


def test_prior_shift_matches_the_predicted_frequencies_to_the_training_frequencies():
    x, y = imbalanced(600)
    head = train_head(x, y, 3, "cnn", c=0.3)
    target = np.bincount(y, minlength=3) / len(y)
    assert predicted_frequencies(head, x)[0] < target[0] - 0.1  # the balanced head guesses the big class too rarely
    corrected = with_prior(head, prior_shift(head, x, y), 1.0)
    np.testing.assert_allclose(predicted_frequencies(corrected, x), target, atol=0.01)
    absent = train_head(x, np.where(y == 2, 0, y), 3, "cnn", c=0.3)  # class 2 never in training: offset 0
    assert prior_shift(absent, x, np.where(y == 2, 0, y))[2] == 0.0


def test_prior_correction_moves_predicted_frequencies_towards_training():
    x, y = imbalanced(600)
    x_new, _ = imbalanced(400, seed=1)
    head = train_head(x, y, 3, "cnn", c=0.3)
    target = np.bincount(y, minlength=3) / len(y)
    errors = [
        np.abs(predicted_frequencies(with_prior(head, prior_shift(head, x, y), s), x_new) - target).sum()
        for s in (0.0, 0.5, 1.0)
    ]
    assert errors[0] > errors[1] > errors[2]
    assert errors[0] > 0.3 and errors[2] < 0.15  # balanced: far too few class-0 guesses; corrected: close


def test_prior_correction_folds_into_the_keras_head():
    x, y = imbalanced(300)
    head = with_prior(train_head(x, y, 3, "cnn", c=0.3), prior_shift(train_head(x, y, 3, "cnn", c=0.3), x, y), 0.5)
    inputs = keras.Input((4,))
    norm = keras.layers.Normalization(mean=head.mean, variance=head.scale**2)(inputs)
    dense = keras.layers.Dense(3, activation="softmax")
    model = keras.Model(inputs, dense(norm))
    dense.set_weights([head.weights.astype("float32"), head.bias.astype("float32")])
    np.testing.assert_allclose(model.predict(x, verbose=0), head.predict_proba(x), atol=1e-5)


def test_choose_prior_picks_the_strength_best_on_validation_and_the_refit_keeps_it():
    x, y = imbalanced(600)
    x_val, y_val = imbalanced(300, seed=2)
    head = fit_head(x, y, x_val, y_val, 3, "cnn", priors=(0.0, 0.5, 1.0))
    assert set(head.prior_val) == {0.0, 0.5, 1.0}
    assert head.prior_val[head.prior] == max(head.prior_val.values()) == head.val["f1"]
    shifted = with_prior(train_head(x, y, 3, "cnn", head.C), prior_shift(train_head(x, y, 3, "cnn", head.C), x, y), 1)
    f1 = classification_metrics(y_val, shifted.predict_proba(x_val).argmax(axis=1))["f1"]
    assert head.prior_val[1.0] == pytest.approx(f1)
    refit = refit_with_prior(x, y, 3, head)
    assert refit.prior == head.prior and refit.C == head.C
    if head.prior:
        assert not np.allclose(refit.bias, train_head(x, y, 3, "cnn", head.C).bias)


def test_without_priors_fit_head_applies_no_correction():
    x, y = imbalanced(300)
    head = fit_head(x, y, x, y, 3, "cnn")
    assert head.prior == 0.0 and head.prior_val == {}
    np.testing.assert_allclose(head.bias, train_head(x, y, 3, "cnn", head.C).bias)
