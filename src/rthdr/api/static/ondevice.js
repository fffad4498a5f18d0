// On-device recognition: the same model, run in the browser by ONNX Runtime Web (WebAssembly).
// Everything loads lazily, on the first use: the runtime (a 50 kB module and a 14 MB WebAssembly
// file) and the model file. The session is kept in memory, so once loaded the page needs no server
// to recognise a drawing.

import { canvasToModelInput, inputToDataURL } from "./preprocess.js";
import { explanationDataURL, gradCam } from "./heatmap.js";

const ORT_DIR = "/vendor/ort/";
const ORT_MODULE = `${ORT_DIR}ort.wasm.min.mjs`; // the wasm-only build: no WebGPU/WebGL code
const MODEL_URL = "/api/v1/model/file";
const UNCERTAIN_BELOW = 0.7; // the server's threshold (src/rthdr/inference.py)

/** Whether this server ships ONNX Runtime Web (the page works without it, server-side only). */
export async function runtimeAvailable() {
  try {
    const response = await fetch(ORT_MODULE, { method: "HEAD" });
    return response.ok;
  } catch {
    return false;
  }
}

let sessionPromise = null;
let modelName = "";
let modelBytes = 0;

/** The model file the browser runs: its name (digitnet.int8.onnx, say) and size in bytes. */
export const modelFile = () => ({ name: modelName, bytes: modelBytes });
let queue = Promise.resolve(); // one run at a time: a session cannot run twice at once

/** The runtime and the model, loaded once; a failed load may be retried. */
export function loadModel() {
  sessionPromise ??= createSession().catch((err) => {
    sessionPromise = null;
    throw err;
  });
  return sessionPromise;
}

async function createSession() {
  const ort = await import(ORT_MODULE);
  ort.env.wasm.wasmPaths = ORT_DIR;
  // Threads need SharedArrayBuffer, i.e. cross-origin isolation, which this page does not have;
  // one thread runs this small model in a few milliseconds anyway.
  ort.env.wasm.numThreads = 1;
  const response = await fetch(MODEL_URL);
  if (!response.ok) throw new Error(`The model file could not be loaded (HTTP ${response.status}).`);
  modelName = filename(response.headers.get("Content-Disposition")) ?? "model";
  const bytes = new Uint8Array(await response.arrayBuffer());
  modelBytes = bytes.length;
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  // The first run sets up buffers and takes several times longer: do it now, not on the user's
  // first drawing, so the latency shown is the steady one.
  const blank = new ort.Tensor("float32", new Float32Array(28 * 28), [1, 1, 28, 28]);
  await session.run({ image: blank });
  return { ort, session };
}

function filename(disposition) {
  return /filename="?([^";]+)"?/.exec(disposition ?? "")?.[1] ?? null;
}

/**
 * Recognise the drawing on a canvas in the browser. Resolves to an answer shaped like the server's
 * /predict answer (plus `source` and `timing_ms`), or null when the canvas holds no ink.
 */
export async function predictCanvas(canvas, { explain = false } = {}) {
  const { ort, session } = await loadModel();
  const started = performance.now();
  const prepared = canvasToModelInput(canvas);
  if (!prepared) return null;
  const preprocessed = performance.now();
  const feeds = { image: new ort.Tensor("float32", prepared.input, [1, 1, 28, 28]) };
  const run = queue.then(() => session.run(feeds));
  queue = run.catch(() => {});
  const outputs = await run;
  const inferred = performance.now();
  // The latency shown is the recognition's (preprocessing + model), as the server's "total" is.
  const timing = {
    preprocess: preprocessed - started,
    inference: inferred - preprocessed,
    total: inferred - started,
  };
  const probabilities = Array.from(outputs.probabilities.data);
  const digit = probabilities.indexOf(Math.max(...probabilities));
  const answer = {
    digit,
    confidence: probabilities[digit],
    probabilities,
    uncertain: probabilities[digit] < UNCERTAIN_BELOW,
    preprocessed: inputToDataURL(prepared.input),
    region: prepared.region,
    heatmap: null,
    model: { name: modelName },
    source: "device",
    timing_ms: timing,
  };
  if (explain) {
    const values = gradCam(outputs.cam.data.subarray(digit * 49, (digit + 1) * 49));
    answer.heatmap = { image: explanationDataURL(prepared.input, values), values };
  }
  return answer;
}
