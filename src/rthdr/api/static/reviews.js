// The reviewer's calls to the review queue's API, each sent as the reviewer: with their key in
// X-API-Key where the server asks for one, else with their name (if they gave one) in X-Reviewer.

import { ApiError, UNREACHABLE, requestJSON } from "./api.js";

const BASE = "/api/v1/reviews";

/** Who is reviewing: {key} or {name}; either may be empty. */
export const reviewer = { key: "", name: "" };

function asReviewer(headers = {}) {
  if (reviewer.key) return { ...headers, "X-API-Key": reviewer.key };
  return reviewer.name ? { ...headers, "X-Reviewer": reviewer.name } : headers;
}

/** Claim the next item (or get back the one held already). Resolves to {item | null, counts}. */
export async function claimNext(order = "oldest") {
  const { data } = await requestJSON(`${BASE}/next?order=${encodeURIComponent(order)}`, {
    method: "POST",
    headers: asReviewer(),
  });
  return data;
}

/** Answer a claimed item: the digits it shows, or null with a reason such as "unreadable". */
export async function answerItem(id, answer, reason = null) {
  const { data } = await requestJSON(`${BASE}/${id}`, {
    method: "POST",
    headers: asReviewer({ "Content-Type": "application/json" }),
    body: JSON.stringify({ answer, reason }),
  });
  return data;
}

/**
 * The item's picture as an object URL (the caller revokes it). Fetched rather than linked: an <img>
 * cannot send the reviewer's key.
 */
export async function imageURL(item) {
  let response;
  try {
    response = await fetch(item.image_url, { headers: asReviewer() });
  } catch {
    throw new ApiError("network", UNREACHABLE);
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(
      body?.error?.code ?? "http_error",
      body?.error?.message ?? "No picture.",
      response.status,
    );
  }
  return URL.createObjectURL(await response.blob());
}
