// On-device recognition: the same models, run in the browser by ONNX Runtime Web (WebAssembly), fed
// by the server's own preprocessing ported to JavaScript (preprocess.js), for drawings and uploaded
// pictures alike. As on the server, digits are checked by the character model, which also reads
// letters (characters.js), and drawn digits and letters are read from their strokes too and the two
// readings fused (strokes.js), where the server has those models. Everything loads lazily, on the
// first use: the runtime (a 50 kB module and a 14 MB WebAssembly file) and the model files, and on
// the first heatmap of a model its explainer graph (Guided Grad-CAM, heatmap.js), where the server has
// one. The sessions are kept in memory, so once loaded the page needs no server to recognise a character.

import { calibrated } from "./calibrate.js";
import { checkDigit, digitReading, readCharacter } from "./characters.js";
import { CHARSETS, DEFAULT_CHARSET } from "./charsets.js";
import { CHECK_IMAGE_WEIGHT, SIZE, STROKES_UNREAD } from "./constants.js";
import { canvasGrey, decodeFile } from "./decode.js";
import { explanationDataURL, gradCam, guidedGradCam } from "./heatmap.js";
import { toModelInput } from "./preprocess.js";
import { CHANNELS, features, fuse, STEPS } from "./strokes.js";

const ORT_DIR = "/vendor/ort/";
const ORT_MODULE = `${ORT_DIR}ort.wasm.min.mjs`; // the wasm-only build: no WebGPU/WebGL code
const RUNTIME_URL = "/api/v1/on-device"; // whether this server has the runtime to send
const MODEL_URL = "/api/v1/model/file";

/**
 * Whether this server ships ONNX Runtime Web (the page works without it, server-side only). The
 * server says so first, so a server without it is never asked for the module (a 404 the browser
 * would log as an error); then the module itself, which a proxy in between might not pass on.
 */
export async function runtimeAvailable() {
  try {
    const response = await fetch(RUNTIME_URL, { headers: { Accept: "application/json" } });
    if (!response.ok || !(await response.json()).available) return false;
    return (await fetch(ORT_MODULE, { method: "HEAD" })).ok;
  } catch {
    return false;
  }
}

const IMAGE_DIMS = [1, 1, SIZE, SIZE]; // the image models' input: one 28 x 28 picture

let sessionPromise = null;
let models = null; // once loaded: the runtime and the models, as createSession gives them
const explainers = new Map(); // an explainer graph's URL -> its loadModelFile, once a heatmap asked for it
let queue = Promise.resolve(); // one run at a time: a session cannot run twice at once

/** The runtime and the models, loaded once; a failed load may be retried. */
export function loadModel() {
  sessionPromise ??= createSession().then(
    (loaded) => (models = loaded),
    (err) => {
      sessionPromise = null;
      throw err;
    },
  );
  return sessionPromise;
}

/**
 * Whether the browser reads `charset`: digits, and letters and alphanumeric where the server sends
 * its character model (said with the digit model: until that is loaded, they may be); never the
 * other scripts' digits, whose script model stays on the server.
 */
export function readsOnDevice(charset) {
  if (charset === DEFAULT_CHARSET) return true;
  return !CHARSETS[charset].script && (models === null || models.characters !== null);
}

/** The model file that answers in `charset` (digitnet.int8.onnx, say): its name and size in bytes. */
export function modelFile(charset) {
  const { name, bytes } = charset === DEFAULT_CHARSET ? models.digits : models.characters;
  return { name, bytes };
}

async function createSession() {
  const ort = await import(ORT_MODULE);
  ort.env.wasm.wasmPaths = ORT_DIR;
  // Threads need SharedArrayBuffer, i.e. cross-origin isolation, which this page does not have;
  // one thread runs these small models in a few milliseconds anyway.
  ort.env.wasm.numThreads = 1;
  const picture = { image: zeros(ort, IMAGE_DIMS) };
  const digits = await loadModelFile(ort, MODEL_URL, "model file", picture);
  // Where the server fuses drawings with their strokes, or checks digits with its character model,
  // it names those models here.
  const strokesURL = digits.headers.get("X-Stroke-Model");
  const strokes =
    strokesURL &&
    (await loadModelFile(ort, strokesURL, "stroke model", { strokes: zeros(ort, [1, CHANNELS, STEPS]) }));
  const charactersURL = digits.headers.get("X-Character-Model");
  const characters = charactersURL && (await loadModelFile(ort, charactersURL, "character model", picture));
  // and where it fuses letters with their strokes, the character model names its stroke model
  const characterStrokesURL = characters?.headers.get("X-Character-Stroke-Model");
  const characterStrokes =
    characterStrokesURL &&
    (await loadModelFile(ort, characterStrokesURL, "character stroke model", {
      strokes: zeros(ort, [1, CHANNELS, STEPS]),
    }));
  // Each stroke model with, for each charset it is fused in, the image model's weight and the fused
  // probabilities' temperature (StrokeClassifier.fusion_in): {digits: {image_weight, temperature}}
  // for the digit stroke model (X-Fusion-Image-Weight and X-Model-Temperature), the character stroke
  // model's as its X-Fusion-Charsets says.
  const digitFusion = strokes && {
    image_weight: Number(strokes.headers.get("X-Fusion-Image-Weight")),
    temperature: strokes.temperature,
  };
  return {
    ort,
    digits,
    strokes: strokes && { ...strokes, charsets: { [DEFAULT_CHARSET]: digitFusion } },
    characters: characters && {
      ...characters,
      classes: JSON.parse(characters.headers.get("X-Model-Classes")),
    },
    characterStrokes: characterStrokes && {
      ...characterStrokes,
      charsets: JSON.parse(characterStrokes.headers.get("X-Fusion-Charsets")),
    },
  };
}

/**
 * A model file from the server, opened: its session, file name and size, the calibration it was
 * sent with (rthdr.core.inference.Classifier.temperature) and the response's headers.
 */
async function loadModelFile(ort, url, what, warmUp) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`The ${what} could not be loaded (HTTP ${response.status}).`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    session: await openSession(ort, bytes, warmUp),
    name: filename(response.headers.get("Content-Disposition")) ?? what,
    bytes: bytes.length,
    temperature: Number(response.headers.get("X-Model-Temperature") ?? 1) || 1,
    headers: response.headers,
  };
}

/** A session for a model file, already run once on the feeds `warmUp` (zeros, say). */
async function openSession(ort, bytes, warmUp) {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  // The first run sets up buffers and takes several times longer: do it now, not on the user's
  // first drawing, so the latency shown is the steady one.
  await inTurn([[session, warmUp]]);
  return session;
}

/** A float32 tensor of zeros of shape `dims`. */
function zeros(ort, dims) {
  return new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b)), dims);
}

/** The explainer graph's `class` input: the one class `index`, an int64. */
function classTensor(ort, index) {
  return new ort.Tensor("int64", BigInt64Array.of(BigInt(index)), [1]);
}

/**
 * The guided gradients (28 x 28) of class `index` in `picture` (image feeds), from the explainer
 * graph the server names on `model`'s file (X-Explainer-Model), loaded on the first call; null where
 * there is none, and the heatmap is Grad-CAM alone. A failed load may be retried.
 */
async function guidedGradients(ort, model, picture, index) {
  const url = model.headers.get("X-Explainer-Model");
  if (!url) return null;
  if (!explainers.has(url)) {
    const warmUp = { ...picture, class: classTensor(ort, 0) };
    const loading = loadModelFile(ort, url, "explainer graph", warmUp);
    explainers.set(url, loading);
    loading.catch(() => explainers.delete(url));
  }
  const { session } = await explainers.get(url);
  const [{ guided }] = await inTurn([[session, { ...picture, class: classTensor(ort, index) }]]);
  return guided.data;
}

function filename(disposition) {
  return /filename="?([^";]+)"?/.exec(disposition ?? "")?.[1] ?? null;
}

/**
 * Recognise the drawing on a canvas in the browser, in `charset` (one readsOnDevice says yes to).
 * Resolves to an answer shaped like the server's /predict answer (plus `source` and `timing_ms`), or
 * null when the canvas holds no ink. With `strokes` (the drawing's, as the server takes them) a
 * digit or letter is fused from both models, as the server's, and `sources` says what each said.
 */
export async function predictCanvas(
  canvas,
  { explain = false, strokes = null, charset = DEFAULT_CHARSET } = {},
) {
  await loadModel();
  const started = performance.now();
  return predict(canvasGrey(canvas), 1, started, { explain, strokes, charset });
}

/**
 * Recognise an image file in the browser, as predictCanvas; its region is in the file's pixels.
 * Rejects when the browser cannot decode the file.
 */
export async function predictFile(file, { explain = false, charset = DEFAULT_CHARSET } = {}) {
  await loadModel();
  const started = performance.now();
  const { grey, scale } = await decodeFile(file);
  return predict(grey, scale, started, { explain, strokes: null, charset });
}

/** The models' answer about a grey image; `scale`: picture pixels per grey pixel. */
async function predict(grey, scale, started, { explain, strokes, charset }) {
  const { ort, digits: digitModel, strokes: digitStrokes, characters, characterStrokes } = await loadModel();
  const read = toModelInput(grey);
  if (!read) return null;
  const picture = { image: new ort.Tensor("float32", read.input, IMAGE_DIMS) };
  const digits = charset === DEFAULT_CHARSET;
  // Where there are strokes, they are read by the stroke model of the model that answers, as on the
  // server: digits by the digit stroke model (strokenet), fused with the digit model; letters and
  // alphanumeric by the character stroke model (strokenet-chars), fused with the character model.
  const strokeModel = digits ? digitStrokes : characterStrokes;
  const fusion = strokes && strokeModel?.charsets[charset];
  const strokeFeeds = strokes && {
    strokes: new ort.Tensor("float32", features(strokes), [1, CHANNELS, STEPS]),
  };
  // In digits, the character model's check that it is a digit reads the strokes too, with the
  // character stroke model (CHECK_IMAGE_WEIGHT), as on the server (checked_with_strokes).
  const checkStrokes = digits && strokes && characters && characterStrokes;
  const preprocessed = performance.now();
  const [digitOutputs, strokeOutputs, characterOutputs, checkOutputs] = await inTurn([
    digits && [digitModel.session, picture],
    fusion && [strokeModel.session, strokeFeeds],
    characters && [characters.session, picture],
    checkStrokes && [characterStrokes.session, strokeFeeds],
  ]);
  const inferred = performance.now();
  // The latency shown is the recognition's (reading the picture + preprocessing + models).
  const timing = {
    preprocess: preprocessed - started,
    inference: inferred - preprocessed,
    total: inferred - started,
  };
  const characterProbabilities =
    characterOutputs && calibrated(characterOutputs.probabilities.data, characters.temperature);
  let reading;
  let probabilities = null; // charset digits: the digit model's ten, as the server's answer
  let sources; // with strokes: what each source said
  const strokeProbabilities = strokeOutputs?.probabilities.data;
  if (digits) {
    const image = calibrated(digitOutputs.probabilities.data, digitModel.temperature);
    ({ probabilities, sources } = strokes
      ? withStrokes(image, strokeProbabilities, fusion, saidDigit)
      : { probabilities: image, sources: null });
    const checked = checkOutputs
      ? fuse(characterProbabilities, checkOutputs.probabilities.data, CHECK_IMAGE_WEIGHT)
      : characterProbabilities;
    const check = checked && checkDigit(checked, characters.classes);
    reading = digitReading(probabilities, check);
  } else {
    let fused = { probabilities: characterProbabilities, sources: null };
    if (strokes) {
      const said = (p) => saidCharacter(p, characters.classes, charset);
      fused = withStrokes(characterProbabilities, strokeProbabilities, fusion, said);
    }
    ({ sources } = fused);
    reading = readCharacter(fused.probabilities, characters.classes, charset);
  }
  const answer = {
    charset,
    character: reading.character,
    digit: /^\d$/.test(reading.character) ? Number(reading.character) : null,
    confidence: reading.confidence,
    probabilities,
    candidates: reading.candidates,
    uncertain: reading.uncertain,
    reason: reading.reason,
    looks_like: reading.looks_like,
    preprocessed: inputToDataURL(read.input),
    region: read.square.map((v) => v * scale),
    heatmap: null,
    model: { name: (digits ? digitModel : characters).name },
    sources,
    source: "device",
    timing_ms: timing,
  };
  if (explain) {
    // As the server: Guided Grad-CAM where the model that answered has an explainer graph, else Grad-CAM.
    const { cam } = digits ? digitOutputs : characterOutputs; // (1, C, 7, 7): a map per class
    const [, , h, w] = cam.dims;
    const classCam = cam.data.subarray(reading.index * h * w, (reading.index + 1) * h * w);
    const guided = await guidedGradients(ort, digits ? digitModel : characters, picture, reading.index);
    const values = guided ? guidedGradCam(classCam, guided) : gradCam(classCam);
    const method = guided ? "guided-grad-cam" : "grad-cam";
    answer.heatmap = { image: explanationDataURL(read.input, values), values, method };
  }
  return answer;
}

/**
 * Each [session, feeds] run in turn, after the runs already queued (false: nothing to run, its
 * outputs false too).
 */
function inTurn(runs) {
  const run = queue.then(async () => {
    const outputs = [];
    for (const one of runs) outputs.push(one && (await one[0].run(one[1])));
    return outputs;
  });
  queue = run.catch(() => {});
  return run;
}

/**
 * The image model's calibrated probabilities fused with the stroke model's (`fusion`: the image
 * model's weight and the fused probabilities' temperature, StrokeClassifier.fused), and what each
 * source said (`said`), as the server's answer has them (rthdr.api.routes.predict.with_strokes);
 * without a stroke model, the image model's alone, saying so as the server does. Grad-CAM stays the image model's: the explanation
 * is of the picture.
 */
function withStrokes(image, strokeProbabilities, fusion, said) {
  const sources = { image: said(image), strokes: null, fused: null, image_weight: null, image_sent: true };
  if (!strokeProbabilities)
    return { probabilities: image, sources: { ...sources, strokes_unread: STROKES_UNREAD } };
  const { image_weight: imageWeight, temperature } = fusion;
  const probabilities = calibrated(fuse(image, strokeProbabilities, imageWeight), temperature);
  Object.assign(sources, {
    strokes: said(strokeProbabilities),
    fused: said(probabilities),
    image_weight: imageWeight,
  });
  return { probabilities, sources };
}

/** The likeliest digit (the first of equal ones, as numpy's argmax) and its probability. */
function saidDigit(probabilities) {
  const digit = probabilities.indexOf(Math.max(...probabilities));
  return { character: String(digit), digit, confidence: probabilities[digit] };
}

/**
 * The charset's likeliest character by the character model's classes and its probability, with the
 * digit where it is one (alphanumeric), as the server's sources have them.
 */
function saidCharacter(probabilities, classes, charset) {
  const { character, confidence } = readCharacter(probabilities, classes, charset);
  return { character, digit: /^\d$/.test(character) ? Number(character) : null, confidence };
}

/** The 28x28 input as a PNG data URL (white ink on black), like the server's "preprocessed". */
function inputToDataURL(input) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = SIZE;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIZE, SIZE);
  input.forEach((v, i) => {
    const grey = Math.round(255 * v);
    image.data.set([grey, grey, grey, 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
  return canvas.toDataURL("image/png");
}
