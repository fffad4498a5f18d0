// The mode switch ("One digit" / "Whole number"), the character set ("Digits" / "Letters" /
// "Letters and digits") and the two switches ("Show why", "On device"): their state, remembered in
// localStorage, and what the page looks like in each. What a change means for the drawing and the
// answer is app.js's business, through the callbacks.

import { CHARSETS, charsetOr, DEFAULT_CHARSET } from "./charsets.js";
import { loadModel, modelFile, readsOnDevice, runtimeAvailable } from "./ondevice.js";

const $ = (id) => document.getElementById(id);

// The pad's label says what to draw: `what` is the charset's "digit", "letter" or "letter or digit".
const MODES = {
  digit: { size: [280, 280], label: (what) => `Drawing area: draw one ${what} with a mouse, finger or pen` },
  number: {
    size: [840, 280], // three times as wide, as tall: digits come out the same size as in digit mode
    label: () => "Drawing area: write a number, digits side by side, with a mouse, finger or pen",
  },
};

const DEVICE_NOTES = {
  checking: "Checking whether this browser can run the model…",
  unavailable: "Not available here: the in-browser runtime is missing. The server reads your pictures.",
  off: "Runs the model in this browser: no server needed once it has loaded.",
  loading: "Loading the model into this browser…",
  ready: "Drawings are read in this browser, and so are uploaded pictures.",
  number: "Whole numbers are read on the server. On device reads one digit at a time.",
  letters: "Letters are read on the server. On device reads digits only.", // no character model sent
  script: "Other scripts' digits are read on the server.",
};

// Only one-character answers have a charset: /recognize reads digits, and the review queue
// (corrections) holds digits.
const CHARSET_NOTES = {
  digits: "",
  letters: "Capitals, and a b d e f g h n q r t; other small letters are read as capitals.",
  alphanumeric: "Digits and capitals, and a b d e f g h n q r t; other small letters are read as capitals.",
  devanagari: "Learned from printed fonts only, not from handwriting: expect mistakes.",
  "arabic-indic": "Learned from printed fonts only, not from handwriting: expect mistakes.",
  persian: "Learned from printed fonts only, not from handwriting: expect mistakes.",
  number: "Whole numbers are read as digits.",
};

// For whoever runs the server: where the runtime comes from.
const RUNTIME_MISSING =
  "This server has no ONNX Runtime Web to send. Run `npm ci` in the project (it copies the runtime " +
  "into the package's static/vendor/ort), then restart the server.";

const STORAGE_KEY = "rthdr.settings";

/** The user's choices. `onDevice` is what they asked for; useDevice() says whether it applies. */
export const settings = { mode: "digit", charset: DEFAULT_CHARSET, explain: false, onDevice: false };

let device = "checking"; // checking | unavailable | off | loading | ready | failed
let failure = "";

/** What the server is asked to read: the chosen charset in one-digit mode; numbers are digits. */
export const charset = () => (settings.mode === "digit" ? settings.charset : DEFAULT_CHARSET);

/** What a drawing is, in the words of the prompts: "Draw a letter", "Write a number". */
export const prompt = () => (settings.mode === "number" ? "Write a number" : CHARSETS[charset()].prompt);

/** Whether the in-browser models can answer: one character, of a charset they read. */
const deviceApplies = () => settings.mode === "digit" && readsOnDevice(charset());

/** Whether drawings go to the in-browser models: asked for, loaded, and one character at a time. */
export const useDevice = () => settings.onDevice && device === "ready" && deviceApplies();

function restore() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}");
    if (saved.mode in MODES) settings.mode = saved.mode;
    settings.charset = charsetOr(saved.charset);
    settings.explain = saved.explain === true;
    settings.onDevice = saved.onDevice === true;
  } catch {
    // Storage off (private mode, policy) or garbled: the defaults will do.
  }
}

function save() {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
  } catch {
    // Not remembered next time; nothing else depends on it.
  }
}

function deviceNote() {
  if (device === "failed") return failure;
  if (device === "unavailable") return DEVICE_NOTES.unavailable;
  if (settings.mode === "number") return DEVICE_NOTES.number;
  if (!deviceApplies()) return CHARSETS[charset()].script ? DEVICE_NOTES.script : DEVICE_NOTES.letters;
  if (device !== "ready") return DEVICE_NOTES[device];
  const { name, bytes } = modelFile(charset()); // say which model answers: the INT8 one may differ a little
  return `${DEVICE_NOTES.ready} Model: ${name}, ${Math.round(bytes / 1024)} kB.`;
}

/** The "On device" switch and its note, for the current mode and loading state. */
function showDevice() {
  const input = $("on-device");
  input.checked = settings.onDevice;
  input.disabled = !deviceApplies() || ["checking", "unavailable", "loading"].includes(device);
  // On the label: a disabled switch shows no tooltip of its own in every browser.
  input.closest("label").title = device === "unavailable" ? RUNTIME_MISSING : "";
  $("on-device-note").textContent = deviceNote();
  document.documentElement.dataset.onDevice = device; // for styling and tests
}

function showMode() {
  document.body.dataset.mode = settings.mode;
  for (const button of document.querySelectorAll(".segmented button")) {
    button.setAttribute("aria-pressed", String(button.dataset.mode === settings.mode));
  }
  showCharset();
}

/** The charset menu: the choice, or "Digits", fixed, in number mode (which reads nothing else). */
function showCharset() {
  const select = $("charset");
  const number = settings.mode === "number";
  select.value = charset();
  select.disabled = number;
  $("charset-note").textContent = CHARSET_NOTES[number ? "number" : settings.charset];
  $("canvas").setAttribute("aria-label", MODES[settings.mode].label(CHARSETS[charset()].what));
  $("mode-digit").textContent = CHARSETS[settings.charset].one; // "One letter": what that mode reads
  document.body.dataset.charset = charset(); // for styling and tests
  showDevice();
}

/** Switch on: load the runtime and model first (once), then say the drawing should be read again. */
async function switchDevice(on, onChange) {
  settings.onDevice = on;
  save();
  if (!on) {
    device = "off";
    showDevice();
    onChange();
    return;
  }
  device = "loading";
  showDevice();
  try {
    await loadModel();
    device = "ready";
  } catch (err) {
    console.warn("on-device model failed to load", err);
    settings.onDevice = false;
    device = "failed";
    failure = "The in-browser model could not be loaded. The server reads your drawings.";
  }
  showDevice();
  onChange();
}

/** Is ONNX Runtime Web there? Without it the switch stays off and says why. */
async function probeRuntime(onDevice) {
  if (!(await runtimeAvailable())) {
    device = "unavailable";
    settings.onDevice = false;
    showDevice();
    return;
  }
  device = "off";
  if (settings.onDevice) await switchDevice(true, onDevice);
  else showDevice();
}

/**
 * @param {{onMode: (size: number[]) => void, onCharset: () => void, onExplain: (on: boolean) => void,
 *          onDevice: () => void}} on
 */
export function setUpControls(on) {
  restore();
  for (const button of document.querySelectorAll(".segmented button")) {
    button.addEventListener("click", () => {
      if (button.dataset.mode === settings.mode) return;
      settings.mode = button.dataset.mode;
      save();
      showMode();
      on.onMode(MODES[settings.mode].size);
    });
  }
  $("charset").addEventListener("change", (e) => {
    settings.charset = charsetOr(e.target.value);
    save();
    showCharset();
    on.onCharset();
  });
  $("explain").checked = settings.explain;
  $("explain").addEventListener("change", (e) => {
    settings.explain = e.target.checked;
    save();
    on.onExplain(settings.explain);
  });
  $("on-device").addEventListener("change", (e) => switchDevice(e.target.checked, on.onDevice));
  showMode();
  if (settings.mode !== "digit") on.onMode(MODES[settings.mode].size);
  probeRuntime(on.onDevice);
}
