// Generated from the Python constants by `python -m rthdr.api.page_constants --write`: do not edit.
// tests/api/test_page_constants.py fails when this file and the Python code disagree.

export const MAX_SIDE = 1024; // rthdr.core.decode.MAX_SIDE
export const SIZE = 28; // rthdr.core.preprocess.SIZE
export const FIT = 20; // rthdr.core.preprocess.FIT
export const CENTRE = 14.0; // rthdr.core.preprocess.CENTRE
export const MIN_CONTRAST = 24; // rthdr.core.preprocess.MIN_CONTRAST
export const MNIST_STROKE = 0.12; // rthdr.core.preprocess.MNIST_STROKE
export const THIN_STROKE = 0.05; // rthdr.core.preprocess.THIN_STROKE
export const SPECK = 0.01; // rthdr.core.preprocess.SPECK
export const WORKING_SIDE = 128; // rthdr.core.preprocess.WORKING_SIDE
export const DETAIL = 40; // rthdr.core.preprocess.DETAIL
export const UNCERTAIN_BELOW = 0.95; // rthdr.core.inference.UNCERTAIN_BELOW
export const DISPLAY = 112; // rthdr.core.explain.DISPLAY
export const GUIDED_BLUR_SIDE = 9; // rthdr.core.explain.GUIDED_BLUR_SIDE
export const GUIDED_BLUR_SIGMA = 1.0; // rthdr.core.explain.GUIDED_BLUR_SIGMA
export const NOT_A_DIGIT_ABOVE = 0.5; // rthdr.core.characters.NOT_A_DIGIT_ABOVE
export const CANDIDATES = 5; // rthdr.core.characters.CANDIDATES
export const CHECK_IMAGE_WEIGHT = 0.9; // rthdr.core.characters.CHECK_IMAGE_WEIGHT
export const DIGITS = [..."0123456789"]; // rthdr.core.charsets.DIGITS
export const LETTERS = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt"]; // rthdr.core.charsets.LETTERS
export const NONE = "none"; // rthdr.core.charsets.NONE
export const MAX_STROKES = 64; // rthdr.core.strokes.MAX_STROKES
export const MAX_POINTS = 10000; // rthdr.core.strokes.MAX_POINTS
export const STROKES_UNREAD = "the service has no stroke model for this charset: read from the picture alone"; // rthdr.api.routes.predict.STROKES_UNREAD
