"""Data sets: MNIST's files (download, verify, load) and synthetic photos of numbers made from it."""
