// The drawing pad: strokes kept as point lists (so Undo can drop the last one and redraw),
// pointer events for mouse, touch and pen, and a PNG export with the white paper included.

const INK = "#000";
const PAPER = "#fff";

export class DrawingPad {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{width?: number, height?: number, lineWidth?: number,
   *          onStrokeEnd?: () => void, onStrokeMove?: () => void, onStrokeStart?: () => void}} options
   *   width/height are logical pixels: points are stored in them, whatever size CSS gives the canvas.
   *   20 px on a 280 px pad is about MNIST's stroke (2-3 px on 28 px) after the server scales it.
   */
  constructor(canvas, { width = 280, height = 280, lineWidth = 20, ...callbacks } = {}) {
    this.canvas = canvas;
    // The on-device mode reads the pixels back after every stroke: a CPU-backed canvas makes that
    // cheap, and a 280 px pad draws fast enough without the GPU.
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.width = width;
    this.height = height;
    this.lineWidth = lineWidth;
    this.callbacks = callbacks;
    this.strokes = [];
    this.current = null; // the stroke being drawn, also the last item of this.strokes
    this.pointerId = null; // one pointer draws at a time: a second finger is ignored
    this.frame = 0;
    this.resize();
    this.listen();
  }

  get isEmpty() {
    return this.strokes.length === 0;
  }

  get isDrawing() {
    return this.current !== null;
  }

  /** Size the bitmap for the screen's pixel density so lines stay crisp; points stay logical. */
  resize() {
    const dpr = Math.max(1, Math.min(window.devicePixelRatio || 1, 3));
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.redraw();
  }

  listen() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.start(e));
    c.addEventListener("pointermove", (e) => this.move(e));
    c.addEventListener("pointerup", (e) => this.end(e));
    c.addEventListener("pointercancel", (e) => this.end(e));
    c.addEventListener("lostpointercapture", (e) => this.end(e));
    // A long press on touch screens would otherwise open a context menu mid-stroke.
    c.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  /** Pointer position in logical canvas pixels, whatever CSS scaling applies. */
  point(e) {
    const rect = this.canvas.getBoundingClientRect();
    return [
      ((e.clientX - rect.left) * this.width) / rect.width,
      ((e.clientY - rect.top) * this.height) / rect.height,
    ];
  }

  start(e) {
    if (this.pointerId !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    this.pointerId = e.pointerId;
    this.canvas.setPointerCapture(e.pointerId); // keep the stroke when the pointer leaves the pad
    this.current = [this.point(e)];
    this.strokes.push(this.current);
    this.scheduleRedraw();
    this.callbacks.onStrokeStart?.();
  }

  move(e) {
    if (e.pointerId !== this.pointerId || !this.current) return;
    // Coalesced events carry the points the browser merged into this one: smoother fast strokes.
    const events = e.getCoalescedEvents?.() ?? [];
    for (const ev of events.length ? events : [e]) this.current.push(this.point(ev));
    this.scheduleRedraw();
    this.callbacks.onStrokeMove?.();
  }

  end(e) {
    if (e.pointerId !== this.pointerId) return;
    this.pointerId = null;
    if (!this.current) return;
    this.current = null;
    this.redraw();
    this.callbacks.onStrokeEnd?.();
  }

  undo() {
    if (this.isDrawing) return false;
    const removed = this.strokes.pop();
    this.redraw();
    return removed !== undefined;
  }

  /** A new logical size (the number mode's wide pad): the drawing is cleared, it would not fit. */
  setSize(width, height) {
    this.width = width;
    this.height = height;
    this.clear();
    this.resize();
  }

  clear() {
    this.strokes = [];
    this.current = null;
    this.pointerId = null;
    this.redraw();
  }

  /** At most one redraw per animation frame, however many pointer events arrive. */
  scheduleRedraw() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.redraw();
    });
  }

  redraw() {
    paint(this.ctx, this);
  }

  /**
   * The inked part of the pad with a margin of paper, in logical pixels (whole ones), or null when
   * nothing is drawn. The server reads the paper's level from an image's edges, so the margin is
   * a stroke's width of paper beyond the ink's outer edge.
   */
  inkBounds() {
    if (this.isEmpty) return null;
    const points = this.strokes.flat();
    const reach = this.lineWidth * 1.5; // half a stroke to the ink's edge, then the margin
    const x = Math.max(0, Math.floor(Math.min(...points.map((p) => p[0])) - reach));
    const y = Math.max(0, Math.floor(Math.min(...points.map((p) => p[1])) - reach));
    const right = Math.min(this.width, Math.ceil(Math.max(...points.map((p) => p[0])) + reach));
    const bottom = Math.min(this.height, Math.ceil(Math.max(...points.map((p) => p[1])) + reach));
    return { x, y, width: right - x, height: bottom - y };
  }

  /**
   * The strokes as the API takes them ({"strokes": [[[x, y], ...], ...]}), in the pixels of the inked
   * part that starts at (x, y), to a tenth of a pixel: what the server reads the pen's path from.
   */
  strokesFrom(x, y) {
    const tenth = (v) => Math.round(v * 10) / 10;
    return this.strokes.map((stroke) => stroke.map(([px, py]) => [tenth(px - x), tenth(py - y)]));
  }

  /**
   * The inked part of the drawing (inkBounds) on a canvas of its own at the pad's logical size,
   * white paper included (the model expects ink on paper), and where that part lies on the pad.
   * This is what gets recognised, on the server or on device: the rest of the pad is blank paper,
   * only pixels to decode, and the screen's bitmap is denser still (9 times the pixels at 3x).
   */
  inkedPart() {
    const area = this.inkBounds() ?? { x: 0, y: 0, width: this.width, height: this.height };
    const canvas = document.createElement("canvas");
    canvas.width = area.width;
    canvas.height = area.height;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.translate(-area.x, -area.y);
    paint(ctx, this);
    return { canvas, ...area };
  }
}

/** Paper, then every stroke, in logical pixels (the context's transform maps them to its bitmap). */
function paint(ctx, { width, height, lineWidth, strokes }) {
  ctx.fillStyle = PAPER;
  ctx.fillRect(0, 0, width, height);
  ctx.strokeStyle = INK;
  ctx.fillStyle = INK;
  ctx.lineWidth = lineWidth;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const stroke of strokes) drawStroke(ctx, stroke, lineWidth);
}

/** A smooth line through the points: quadratic curves through the midpoints between samples. */
function drawStroke(ctx, points, lineWidth) {
  const [x0, y0] = points[0];
  if (points.length === 1) {
    ctx.beginPath();
    ctx.arc(x0, y0, lineWidth / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  for (let i = 1; i < points.length - 1; i++) {
    const [x, y] = points[i];
    const [nx, ny] = points[i + 1];
    ctx.quadraticCurveTo(x, y, (x + nx) / 2, (y + ny) / 2);
  }
  const [xl, yl] = points[points.length - 1];
  ctx.lineTo(xl, yl);
  ctx.stroke();
}
