// npm's postinstall: copies the files of ONNX Runtime Web that the page loads from node_modules into
// the Python package (src/rthdr/api/static/vendor/ort, git-ignored), where the server finds them as
// package data and where a wheel built afterwards takes them from.

import { copyFileSync, mkdirSync, rmSync } from "node:fs";

const FROM = new URL("../node_modules/onnxruntime-web/dist/", import.meta.url);
const TO = new URL("../src/rthdr/api/static/vendor/ort/", import.meta.url);
// The wasm-only build the page imports (ondevice.js), the Emscripten module it imports in turn and
// the WebAssembly that one loads; not the WebGPU and WebGL builds or the source maps (60 MB more).
const FILES = ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];

rmSync(TO, { recursive: true, force: true }); // nothing left over from another version
mkdirSync(TO, { recursive: true });
for (const name of FILES) copyFileSync(new URL(name, FROM), new URL(name, TO));
console.log(`ONNX Runtime Web: ${FILES.join(", ")} -> ${TO.pathname}`);
