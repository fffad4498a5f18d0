"""Helpers the tests share: generated images, paths. Test modules import these, never each other."""
