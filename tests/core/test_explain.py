"""Grad-CAM from the ONNX graph and guided backpropagation from the explainer graph, each checked
against Captum's PyTorch version; Guided Grad-CAM, and both in the API."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from captum.attr import GuidedBackprop, LayerGradCam
from PIL import Image

from rthdr.core.errors import ModelError
from rthdr.core.explain import GUIDED_GRAD_CAM, explain, grad_cam, guided_grad_cam
from rthdr.core.inference import SHIPPED_WEIGHTS, Classifier
from rthdr.training.export import export_explainer, export_onnx, export_release
from rthdr.training.model import DigitNet, load_checkpoint, members
from tests.helpers.images import encode, render


def trained_model() -> DigitNet:
    """One trained network of the shipped model (an ensemble's maps are the mean of its members')."""
    model, _ = load_checkpoint(str(SHIPPED_WEIGHTS))
    return members(model)[0]


def test_onnx_cam_equals_captum_grad_cam(tmp_path: Path, mnist_test) -> None:
    model = trained_model()
    path = tmp_path / "model.onnx"
    export_onnx(model, path)
    classifier = Classifier(path)
    images = mnist_test[0][:8].astype(np.float32) / 255
    predictions = classifier.predict(images)

    last_block = model.features[-2]  # the last conv + BN + ReLU, before the final dropout
    captum = LayerGradCam(model, last_block)
    batch = torch.from_numpy(images).unsqueeze(1)
    for index, prediction in enumerate(predictions):
        reference = captum.attribute(
            batch[index : index + 1], target=prediction.digit, relu_attributions=True
        )
        reference = reference[0, 0].detach().numpy()  # (7, 7)
        ours = np.maximum(prediction.cam, 0)
        scale = reference.max() / ours.max()
        np.testing.assert_allclose(ours * scale, reference, atol=1e-4 * reference.max())
        assert abs(scale * 49 - 1) < 1e-3, "Grad-CAM averages gradients over the 7x7 positions"


def test_explainer_graph_equals_captum_guided_backprop(tmp_path: Path, mnist_test) -> None:
    """Its backward pass is written out by hand (ONNX has no autograd): it must be the gradient."""
    model = trained_model()
    export_release(model, tmp_path, "digitnet")
    classifier = Classifier(tmp_path / "digitnet.onnx")
    assert classifier.explainer is not None
    images = mnist_test[0][:8].astype(np.float32) / 255
    for relu in (m for m in model.modules() if isinstance(m, torch.nn.ReLU)):
        relu.inplace = False  # Captum replaces the ReLUs' backward, which in-place ReLUs refuse
    captum = GuidedBackprop(model)
    for index, (image, prediction) in enumerate(zip(images, classifier.predict(images), strict=True)):
        for target in (prediction.digit, (prediction.digit + 1) % 10):  # the answer and another class
            batch = torch.from_numpy(images[index : index + 1]).unsqueeze(1).requires_grad_()
            reference = captum.attribute(batch, target=target)[0, 0].detach().numpy()
            ours = classifier.guided(image, target)
            assert ours is not None and ours.shape == (28, 28)
            np.testing.assert_allclose(ours, reference, atol=1e-5 * np.abs(reference).max())


def test_guided_grad_cam_is_grad_cam_on_the_strokes() -> None:
    cam = np.zeros((7, 7), np.float32)
    cam[3, 3] = 1  # Grad-CAM's evidence in the middle
    guided = np.zeros((28, 28), np.float32)
    guided[:, 14] = 1  # a vertical stroke through it...
    guided[:, 2] = 1  # ...and one where Grad-CAM saw nothing
    values = guided_grad_cam(cam, guided)
    assert values.max() == 1 and values[14, 14] == 1
    assert values[:, :5].max() == 0  # no class evidence there: no heat, stroke or not
    assert values[14, 20] < 0.01  # smoothed by a pixel or two, not spread


def test_a_bad_explainer_file_fails_at_load(tmp_path: Path) -> None:
    export_onnx(trained_model(), tmp_path / "digitnet.onnx")
    assert Classifier(tmp_path / "digitnet.onnx").explainer is None  # none: heatmaps are Grad-CAM alone
    (tmp_path / "digitnet.explainer.onnx").write_bytes(b"not an ONNX file")
    with pytest.raises(ModelError, match="explainer"):
        Classifier(tmp_path / "digitnet.onnx")


def test_explainer_answers_for_a_batch(tmp_path: Path) -> None:
    path = tmp_path / "net.explainer.onnx"
    assert export_explainer(trained_model(), path) < 1e-4  # export_graph's parity, on a batch of 16


def test_heatmap_marks_where_the_ink_is(classifier, digit_samples) -> None:
    model_input = digit_samples[1].astype(np.float32) / 255
    (prediction,) = classifier.predict(model_input[None])
    heatmap = explain(prediction.cam, model_input)
    assert heatmap.values.shape == (28, 28) and heatmap.values.min() >= 0 and heatmap.values.max() == 1
    ink, blank = model_input > 0.5, model_input == 0
    assert heatmap.values[ink].mean() > heatmap.values[blank].mean()
    overlay = Image.open(io.BytesIO(heatmap.overlay_png))
    assert overlay.size == (112, 112) and overlay.mode == "RGB"


def test_grad_cam_of_a_negative_map_is_empty() -> None:
    assert grad_cam(-np.ones((7, 7))).max() == 0


def test_api_explains_on_request(client, digit_samples) -> None:
    data = encode(render(digit_samples[3]))
    plain = client.post("/api/v1/predict", files={"image": ("d.png", data, "image/png")}).json()
    assert plain["heatmap"] is None
    body = client.post("/api/v1/predict?explain=true", files={"image": ("d.png", data, "image/png")}).json()
    assert body["digit"] == 3 and body["heatmap"]["method"] == GUIDED_GRAD_CAM
    values = np.array(body["heatmap"]["values"])
    assert values.shape == (28, 28) and values.max() == 1.0
    png = base64.b64decode(body["heatmap"]["image"].split(",", 1)[1])
    assert Image.open(io.BytesIO(png)).size == (112, 112)


def test_recognize_explains_each_digit(client, digit_samples) -> None:
    from tests.helpers.images import write_number

    page, _ = write_number(digit_samples, "72")
    body = client.post(
        "/api/v1/recognize?explain=true", files={"image": ("n.png", encode(page), "image/png")}
    ).json()
    assert body["text"] == "72" and all(
        d["heatmap"]["image"].startswith("data:image/png") and d["heatmap"]["method"] == GUIDED_GRAD_CAM
        for d in body["digits"]
    )
