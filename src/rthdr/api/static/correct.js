// "Wrong? Correct it" under the answer, when the server queues answers for review: a small form in
// which the person types what they meant; Enter sends it, with the picture and what the model read,
// to /api/v1/corrections, where a reviewer confirms it. app.js says what the answer on show is
// (offerCorrection) and when there is none (withdrawCorrection); nothing here draws or recognises.

import { fetchReviewStatus, sendCorrection } from "./api.js";

const $ = (id) => document.getElementById(id);

const DIGITS = /^[0-9]+$/;

let enabled = false; // the server queues corrections (RTHDR_REVIEW=on)
let about = null; // {data, picture}: the answer on show and where its picture comes from

const form = () => $("correct-form");
const input = () => $("correct-answer");

function say(message) {
  $("correct-message").textContent = message;
}

/** Closed: the offer alone, or nothing where review is off or there is no answer. */
function reset() {
  $("correct").hidden = !enabled || !about;
  $("correct-open").hidden = false;
  $("correct-open").setAttribute("aria-expanded", "false");
  form().hidden = true;
  input().value = "";
  input().removeAttribute("aria-invalid");
  say("");
}

function open() {
  $("correct-open").hidden = true;
  $("correct-open").setAttribute("aria-expanded", "true");
  form().hidden = false;
  input().maxLength = about?.data.digits ? 12 : 1; // a whole number, or one digit
  say("Type what you wrote and press Enter.");
  input().focus();
}

/** The picture the answer is about, as a data URL: the pad's inked part, or the uploaded file. */
function pictureURL(picture) {
  if (typeof picture === "function") return Promise.resolve(picture().toDataURL("image/png"));
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(picture);
  });
}

async function send(event) {
  event.preventDefault();
  const answer = input().value.trim();
  const { data, picture } = about;
  const reading = data.text ?? String(data.digit);
  if (!DIGITS.test(answer) || answer.length > input().maxLength) {
    input().setAttribute("aria-invalid", "true");
    say(data.digits ? "Type the number it shows, digits only." : "Type the digit it shows, 0 to 9.");
    return;
  }
  if (answer === reading) {
    say(`The model read ${reading} too: type what it should have read.`);
    return;
  }
  const mine = about;
  say("Sending…");
  try {
    await sendCorrection({
      image: await pictureURL(picture),
      reading,
      confidences: (data.digits ?? [data]).map((d) => d.confidence),
      answer,
      modelVersion: data.model?.version ?? null,
    });
  } catch (err) {
    if (about === mine) say(`Not sent: ${err.message}`);
    return;
  }
  if (about !== mine) return; // a new answer came meanwhile: its own offer stands
  form().hidden = true;
  say(`Thank you: ${answer} has been sent for review.`);
}

/** The answer on show, and its picture: a function giving the pad's inked canvas, or the File. */
export function offerCorrection(data, picture) {
  const wasOpen = about && !form().hidden;
  about = { data, picture };
  if (wasOpen) return; // the same drawing answered again ("Show why"): keep what is being typed
  reset();
}

export function withdrawCorrection() {
  about = null;
  reset();
}

/** Asks the server once whether review is on; until it says so, nothing is offered. */
export async function setUpCorrections() {
  $("correct-open").addEventListener("click", open);
  form().addEventListener("submit", send);
  input().addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    event.preventDefault(); // Esc closes the form; it must not also clear the drawing (app.js)
    reset();
    $("correct-open").focus();
  });
  try {
    enabled = (await fetchReviewStatus()).enabled;
  } catch {
    enabled = false; // an older server, or none: the page works without corrections
  }
  $("review-link").hidden = !enabled;
  if (!about || form().hidden) reset();
}
