// The review view: claim the next item, show its picture large with the model's reading (or the
// sender's correction) in a text field, and let the reviewer type what it really shows. Enter saves and
// brings the next, U marks the picture unreadable, Esc puts the reading back: no mouse needed. The
// server calls live in reviews.js; #review's data-state ("loading" | "who" | "key" | "item" | "empty" |
// "off" | "error") drives what shows and lets tests wait.

import { ApiError, fetchReviewStatus } from "./api.js";
import { answerItem, claimNext, imageURL, reviewer } from "./reviews.js";

const $ = (id) => document.getElementById(id);

const POLL_MS = 5000; // an empty queue (or a failed request) is asked again this often
const DIGITS = /^[0-9]{1,64}$/;
const NAME_STORE = "rthdr.reviewer"; // localStorage: the name, remembered
const KEY_STORE = "rthdr.reviewer-key"; // sessionStorage: the key, for this tab only
const TINY = 64; // pictures this small (28x28 pixels sent as JSON) are shown with sharp pixels
const REASONS = {
  uncertain: "the model was unsure",
  audit: "a random check",
  correction: "someone said it was wrong",
};

let current = null; // the claimed item on show
let pictureURL = null;
let pollTimer = 0;
let saving = false; // one answer at a time: a held-down Enter must not answer the next item too

// ---- showing ------------------------------------------------------------------------------------

function setState(state, message) {
  $("review").dataset.state = state;
  if (message !== undefined) $("review-status").textContent = message;
}

function showCounts(counts) {
  for (const name of ["pending", "claimed", "done", "corrected"]) {
    $(`count-${name}`).textContent = String(counts[name]);
  }
}

const percent = (p) => `${Math.round(100 * p)}\u00a0%`; // never "90" and "%" on two lines

function ago(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 90) return "just now";
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

function describe(item) {
  const sure = item.confidences.map(percent).join(", ");
  const read = item.reading ? `The model read ${item.reading} (${sure})` : "The model read nothing";
  return `${read} · ${REASONS[item.reason] ?? item.reason} · from ${item.source} · ${ago(item.created_at)}`;
}

function setPicture(url) {
  if (pictureURL) URL.revokeObjectURL(pictureURL);
  pictureURL = url;
  const image = $("review-image");
  if (url) image.src = url;
  else image.removeAttribute("src");
}

/** The reading to start from: what the sender says it is, else what the model read. */
const startingAnswer = (item) => item.suggested ?? item.reading;

async function show(item, before) {
  current = item;
  $("review-id").textContent = `#${item.id}`;
  $("review-meta").textContent = describe(item);
  $("review-suggested").hidden = !item.suggested;
  $("review-suggested").textContent = item.suggested ? `The person who sent it says: ${item.suggested}` : "";
  const input = $("review-answer");
  input.value = startingAnswer(item);
  input.removeAttribute("aria-invalid");
  let note = "";
  try {
    setPicture(item.image_url ? await imageURL(item) : null);
    if (!item.image_url) note = " It has no picture.";
  } catch (err) {
    setPicture(null);
    note = ` Its picture is missing (${err.message}).`;
  }
  setState("item", `${before}Item ${item.id}: type what it shows and press Enter.${note}`);
  input.focus();
  input.select(); // typing replaces the reading; Enter alone confirms it
}

// ---- the queue ----------------------------------------------------------------------------------

/** Claim the next item and show it, or say the queue is empty and ask again in a while. */
async function next(before = "") {
  clearTimeout(pollTimer);
  try {
    const { item, counts } = await claimNext($("review-order").value);
    showCounts(counts);
    if (item) {
      await show(item, before);
      return;
    }
    current = null;
    setPicture(null);
    setState("empty", `${before}Nothing to review. Checking again every ${POLL_MS / 1000} s.`);
    pollTimer = setTimeout(next, POLL_MS);
  } catch (err) {
    failed(err);
  }
}

function failed(err) {
  current = null;
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
    askForKey(err.message);
  } else if (err instanceof ApiError && err.code === "review_off") {
    setState("off", err.message);
  } else {
    setState("error", `${err.message} Trying again in ${POLL_MS / 1000} s.`);
    pollTimer = setTimeout(next, POLL_MS);
  }
}

/** Save the answer (digits, or null with a reason) for the item on show, then bring the next. */
async function save(answer, reason = null) {
  if (!current || saving) return;
  saving = true;
  const { id } = current;
  try {
    await answerItem(id, answer, reason);
    await next(`Saved #${id} as ${answer ?? reason}. `);
  } catch (err) {
    // 409: the claim lapsed and someone else answered it, or holds it now. Nothing to do but move on.
    if (err instanceof ApiError && err.status === 409) await next(`${err.message} `);
    else failed(err);
  } finally {
    saving = false;
  }
}

function confirm(event) {
  event.preventDefault();
  const input = $("review-answer");
  const answer = input.value.trim();
  if (DIGITS.test(answer)) {
    save(answer);
    return;
  }
  input.setAttribute("aria-invalid", "true");
  $("review-status").textContent = "Type digits only (0–9), or press U if the picture cannot be read.";
}

function onAnswerKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || !current) return;
  if (event.key === "u" || event.key === "U") {
    event.preventDefault();
    save(null, "unreadable");
  } else if (event.key === "Escape") {
    event.preventDefault();
    event.target.value = startingAnswer(current);
    event.target.select();
  } else if (event.key.length === 1 && !/[0-9]/.test(event.key)) {
    event.preventDefault(); // answers are digits: a stray letter never gets in
  }
}

// ---- who is reviewing ---------------------------------------------------------------------------

/** What `storage` holds under `key`; null when nothing is (or storage is off: then ask again). */
function stored(storage, key) {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

function store(storage, key, value) {
  try {
    storage.setItem(key, value);
  } catch {
    // Not remembered; this tab still has it.
  }
}

let keyRequired = false;

function askForKey(message) {
  reviewer.key = "";
  store(sessionStorage, KEY_STORE, "");
  $("who").value = "";
  setState("key", message);
  $("who").focus();
}

/**
 * Who reviews: a key where the server asks for one, else a name, asked for before the first claim
 * (a claim is held under the name it was made with) and remembered; Enter alone stays anonymous.
 * Returns whether to ask before claiming.
 */
function setUpReviewer() {
  const who = $("who");
  let ask;
  if (keyRequired) {
    $("who-label").textContent = "Reviewer key";
    who.type = "password";
    reviewer.key = who.value = stored(sessionStorage, KEY_STORE) ?? "";
    ask = !reviewer.key;
  } else {
    const name = stored(localStorage, NAME_STORE);
    reviewer.name = who.value = name ?? "";
    who.placeholder = "anonymous";
    ask = name === null;
  }
  $("review-who").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = who.value.trim();
    if (keyRequired) {
      reviewer.key = value;
      store(sessionStorage, KEY_STORE, value);
    } else {
      reviewer.name = value;
      store(localStorage, NAME_STORE, value);
    }
    next();
  });
  return ask;
}

// ---- start --------------------------------------------------------------------------------------

async function start() {
  $("review-form").addEventListener("submit", confirm);
  $("review-answer").addEventListener("keydown", onAnswerKey);
  $("review-unreadable").addEventListener("click", () => save(null, "unreadable"));
  $("review-order").addEventListener("change", () => {
    if (!current) next();
  });
  $("review-image").addEventListener("load", (event) => {
    event.target.classList.toggle("is-tiny", event.target.naturalWidth <= TINY);
  });
  let status;
  try {
    status = await fetchReviewStatus();
  } catch (err) {
    failed(err);
    return;
  }
  if (!status.enabled) {
    $("review-who").hidden = true;
    setState("off", "Review is off on this server: whoever runs it can set RTHDR_REVIEW=on.");
    return;
  }
  keyRequired = status.reviewer_key_required;
  if (!setUpReviewer()) await next();
  else if (keyRequired) askForKey("This server needs a reviewer key: type it above and press Enter.");
  else {
    setState(
      "who",
      "Who is reviewing? Type your name above and press Enter, or just Enter to stay anonymous.",
    );
    $("who").focus();
  }
}

start().finally(() => {
  document.documentElement.dataset.ready = "true"; // for tests: the handlers are in place
});
