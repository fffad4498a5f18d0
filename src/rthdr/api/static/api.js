// Talking to the REST API. Every failure becomes an ApiError with a message fit to show people;
// an aborted request is re-thrown untouched so callers can tell "superseded" from "failed".

import { DEFAULT_CHARSET } from "./charsets.js";

export const UNREACHABLE = "Can't reach the server. Check your connection and try again.";

export class ApiError extends Error {
  /** @param {string} code  the API's error.code, or "network" / "bad_response" from here */
  constructor(code, message, status = 0) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

/** fetch() + JSON, timed in the browser. Resolves to {data, roundTripMs}. */
export async function requestJSON(url, init = {}) {
  const started = performance.now();
  let response;
  try {
    response = await fetch(url, { ...init, headers: { Accept: "application/json", ...init.headers } });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError("network", UNREACHABLE);
  }
  const body = await response.json().catch(() => null);
  const roundTripMs = performance.now() - started;
  if (!response.ok) {
    // The API always answers {"error": {code, message}}; a proxy in between might not.
    const error = body?.error;
    throw new ApiError(
      error?.code ?? "http_error",
      error?.message ?? `The server answered with an error (HTTP ${response.status}). Try again.`,
      response.status,
    );
  }
  if (body === null) throw new ApiError("bad_response", "The server sent an answer this page cannot read.");
  return { data: body, roundTripMs };
}

/**
 * POST /api/v1/predict (one character) or /api/v1/recognize (a whole number, digits only), with
 * heatmaps on request. The charset goes only where it is not the server's default: a digit request
 * is the same URL as before charsets existed.
 */
function endpoint(mode, explain, charset) {
  const path = mode === "number" ? "/api/v1/recognize" : "/api/v1/predict";
  const query = new URLSearchParams();
  if (explain) query.set("explain", "true");
  if (mode !== "number" && charset && charset !== DEFAULT_CHARSET) query.set("charset", charset);
  return String(query) ? `${path}?${query}` : path;
}

/**
 * Recognise a canvas export (JSON {"image": "data:image/png;base64,...", "strokes": [...]}: the
 * picture and the pen's path, which the server fuses) or an uploaded file (multipart, field
 * "image"). An `interim` answer (asked for while a stroke is still being drawn) is kept out of the
 * server's review queue: a half-drawn digit is no one's mistake.
 * @param {string | File} image
 * @param {{mode: "digit" | "number", charset?: string, explain: boolean, interim?: boolean}} options
 * @param {number[][][]} [strokes] the drawing's strokes, in the image's pixels
 */
export function recogniseImage(image, { mode, charset, explain, interim = false }, signal, strokes) {
  const headers = interim ? { "X-Review": "skip" } : {};
  const url = endpoint(mode, explain, charset);
  if (typeof image === "string") {
    return requestJSON(url, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify(strokes ? { image, strokes } : { image }),
      signal,
    });
  }
  const form = new FormData();
  form.append("image", image, image.name || "image");
  return requestJSON(url, { method: "POST", headers, body: form, signal });
}

/** The model card: name, version and, when the model ships them, accuracy figures. */
export async function fetchModelCard() {
  const { data } = await requestJSON("/api/v1/model");
  return data;
}

/** Whether the server queues answers for review, and whether reviewing needs a key (never refused). */
export async function fetchReviewStatus() {
  const { data } = await requestJSON("/api/v1/reviews/status");
  return data;
}

/**
 * "Wrong? Correct it": the picture the answer was about, what the model read (one confidence per
 * digit) and what the person says it shows, queued for a reviewer. Resolves to {review_id}.
 */
export async function sendCorrection({ image, reading, confidences, answer, modelVersion = null }) {
  const { data } = await requestJSON("/api/v1/corrections", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ image, reading, confidences, answer, model_version: modelVersion }),
  });
  return data;
}
