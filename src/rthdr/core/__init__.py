"""The serving core, torch-free, in request order: decode -> preprocess -> segment -> inference
(the ONNX models) -> explain -> pipeline (the result). The API, the CLI, training and evaluation all
read images through it; nothing here imports from the layers above."""
