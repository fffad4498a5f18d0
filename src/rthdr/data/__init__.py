"""Data sets: MNIST's files (download, verify, load), synthetic photos of numbers made from it, and
a corpus of digits, letters and non-characters rendered from the fonts Debian ships."""
