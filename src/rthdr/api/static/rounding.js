// Rounding the way the server's code does it: Python's round() and OpenCV's cvRound both round
// halves to even (JavaScript's Math.round rounds them up), and OpenCV computes in float32.

/** Python's round(x) for a float; OpenCV's cvRound. */
export function roundHalfEven(x) {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** float32 rounding of a double, for following OpenCV's float arithmetic step by step. */
export const f32 = Math.fround;
