// Temperature scaling of the model's probabilities, as the server does it
// (rthdr.core.inference.calibrated): softmax(log(p) / T). The server sends the model file's
// temperature with the file (the X-Model-Temperature header).

/** Probabilities (any array-like) -> the calibrated probabilities, a plain array summing to 1. */
export function calibrated(probabilities, temperature) {
  if (temperature === 1) return Array.from(probabilities);
  const logits = Array.from(probabilities, (p) => Math.log(Math.max(p, 1e-30)) / temperature);
  const top = Math.max(...logits);
  const weights = logits.map((v) => Math.exp(v - top));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
}
