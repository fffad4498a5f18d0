"""Training with PyTorch: the networks, the training loop, the one-digit check and the ONNX export."""
