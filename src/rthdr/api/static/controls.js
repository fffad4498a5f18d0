// The mode switch ("One digit" / "Whole number") and the two switches ("Show why", "On device"):
// their state, remembered in localStorage, and what the page looks like in each. What a change
// means for the drawing and the answer is app.js's business, through the callbacks.

import { loadModel, modelFile, runtimeAvailable } from "./ondevice.js";

const $ = (id) => document.getElementById(id);

const MODES = {
  digit: { size: [280, 280], label: "Drawing area: draw one digit with a mouse, finger or pen" },
  number: {
    size: [840, 280], // three times as wide, as tall: digits come out the same size as in digit mode
    label: "Drawing area: write a number, digits side by side, with a mouse, finger or pen",
  },
};

const DEVICE_NOTES = {
  checking: "Checking whether this browser can run the model…",
  unavailable: "Not available here: the in-browser runtime is missing. The server reads your pictures.",
  off: "Runs the model in this browser: no server needed once it has loaded.",
  loading: "Loading the model into this browser…",
  ready: "Drawings are read in this browser, and so are uploaded pictures.",
  number: "Whole numbers are read on the server. On device reads one digit at a time.",
};

// For whoever runs the server: where the runtime comes from.
const RUNTIME_MISSING =
  "This server has no ONNX Runtime Web to send. Run `npm ci` in the project (it copies the runtime " +
  "into the package's static/vendor/ort), then restart the server.";

const STORAGE_KEY = "rthdr.settings";

/** The user's choices. `onDevice` is what they asked for; useDevice() says whether it applies. */
export const settings = { mode: "digit", explain: false, onDevice: false };

let device = "checking"; // checking | unavailable | off | loading | ready | failed
let failure = "";

/** Whether drawings go to the in-browser model: asked for, loaded, and one digit at a time. */
export const useDevice = () => settings.onDevice && device === "ready" && settings.mode === "digit";

function restore() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}");
    if (saved.mode in MODES) settings.mode = saved.mode;
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
  if (device !== "ready") return DEVICE_NOTES[device];
  const { name, bytes } = modelFile(); // say which model runs: the INT8 one may differ a little
  return `${DEVICE_NOTES.ready} Model: ${name}, ${Math.round(bytes / 1024)} kB.`;
}

/** The "On device" switch and its note, for the current mode and loading state. */
function showDevice() {
  const input = $("on-device");
  input.checked = settings.onDevice;
  input.disabled = settings.mode === "number" || ["checking", "unavailable", "loading"].includes(device);
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
  $("canvas").setAttribute("aria-label", MODES[settings.mode].label);
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
 * @param {{onMode: (size: number[]) => void, onExplain: (on: boolean) => void, onDevice: () => void}} on
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
