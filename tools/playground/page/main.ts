/// <reference lib="dom" />
// The playground page: wires the session, the heap picture, the chart and
// the controls together, and redraws once per frame when something changed.

import { minimumPoolSize, parseTrace } from "../../../trace.ts";
import { COLOURS, SIZE_CLASSES, sizeClassOf } from "../heap_layout.ts";
import { payloadOf, type RunFields, type Segment } from "../pool_view.ts";
import { bins, merge, noRoom, type Scenario } from "../scenarios.ts";
import { Session } from "../session.ts";
import { Chart } from "./chart.ts";
import { HeapCanvas } from "./heap_canvas.ts";
import { Bins, Size } from "../../../src/engine/tlsf.ts";
import { RunField, RunInfo, RunMap, Slot } from "../../../src/engine/runs.ts";

/** A bundled trace, as traces/index.json lists it. */
interface TraceEntry {
  file: string;
  title: string;
}

const BLOCK_HEADER: number = Size.BlockHeader;
const ALIGN: number = Size.Align;
/** A replayed trace gets a pool this much above the smallest that replays it. */
const TRACE_HEADROOM = 1.1;
const SPEEDS = [1, 10, 100, 1000, 10000];
const CHURN_PER_FRAME = 40;
/** Bins listed at most; a replayed trace can use hundreds. */
const MAX_BIN_ROWS = 60;
const PERCENT = 100;
const MICROSECONDS = 1000;
/** Readings taken to find the timer's step. */
const TIMER_READINGS = 10_000;
const HEX = 16;
const WORD_DIGITS = 8;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const count = (n: number) => n.toLocaleString("en-US");
const hex = (n: number) => `0x${(n >>> 0).toString(HEX).padStart(WORD_DIGITS, "0")}`;

/** The smallest step of performance.now(), in milliseconds: coarser when the page is not isolated. */
const TIMER_STEP = (() => {
  let step = Infinity;
  let last = performance.now();
  for (let i = 0; i < TIMER_READINGS; i++) {
    const now = performance.now();
    if (now > last) step = Math.min(step, now - last);
    last = now;
  }
  return step;
})();

const session = new Session(Number($<HTMLSelectElement>("pool-size").value));
const heap = new HeapCanvas($<HTMLCanvasElement>("heap"), session);
const chart = new Chart($("chart"));
let dirty = true;
let churning = false;
let playing = false;
let selected = 0;
let hovered: Segment | undefined;

// ── numbers ─────────────────────────────────────────────────────────────────

function setNumber(id: string, value: number, text = count(value)): void {
  const element = $(id);
  element.dataset.value = String(value);
  element.textContent = text;
}

function renderNumbers(): void {
  const stats = session.stats();
  setNumber("n-used", stats.bytesUsed);
  setNumber("n-free", stats.bytesFree);
  setNumber("n-largest", stats.largestFreeBlock);
  setNumber("n-frag", stats.fragmentation, `${(stats.fragmentation * PERCENT).toFixed(1)}%`);
  setNumber("n-peak", stats.peakBytesUsed);
  setNumber("n-live", stats.liveBlocks);
  setNumber("n-capacity", stats.capacity);
  const last = session.last;
  $("last-op").textContent = last.text;
  $("last-op").classList.toggle("failed", !last.ok);
  $("last-cost").textContent = last.ms > 0
    ? `took ${(last.ms * MICROSECONDS).toFixed(1)} µs`
    : session.ops > 0
    ? `took less than the browser's timer step, ${(TIMER_STEP * MICROSECONDS).toFixed(1)} µs`
    : "";
  // The pool's size, when the demos or a trace chose it.
  const sizes = $<HTMLSelectElement>("pool-size");
  if (![...sizes.options].some((o) => o.value === String(stats.capacity))) {
    sizes.add(new Option(`${count(stats.capacity)} B`, String(stats.capacity)));
  }
  sizes.value = String(stats.capacity);
}

function renderBins(): void {
  const rows = heap.view.nonEmptyBins().slice(0, MAX_BIN_ROWS).map(({ bin, count: n }) =>
    `<tr><td>(${bin.fl}, ${bin.sl})</td><td>${count(bin.min)} – ${
      count(bin.max)
    }</td><td>${n}</td></tr>`
  );
  $("bins-table").querySelector("tbody")!.innerHTML = rows.length > 0
    ? rows.join("")
    : `<tr><td colspan="3" class="muted">no free block in any bin: all free space is the top block</td></tr>`;
}

function renderSelection(): void {
  const block = selected === 0 ? undefined : session.block(selected);
  if (block === undefined) selected = 0;
  $("selected").textContent = block === undefined
    ? "no block selected"
    : `selected: payload at ${count(block.offset)}, ${count(block.requested)} bytes asked for`;
  $<HTMLButtonElement>("free-selected").disabled = block === undefined;
  $<HTMLButtonElement>("resize-selected").disabled = block === undefined;
  heap.highlight = block === undefined ? heap.highlight : [block.offset];
}

function renderReplay(): void {
  const stepper = session.replay;
  const progress = $<HTMLProgressElement>("replay-progress");
  if (stepper === null) {
    progress.value = 0;
    $("replay-status").textContent = "no trace loaded";
    $("play").textContent = "Play";
    return;
  }
  progress.max = stepper.trace.length;
  progress.value = stepper.position;
  const state = stepper.failed
    ? "stopped: an allocation found no room"
    : stepper.done
    ? "done"
    : playing
    ? "playing"
    : "paused";
  $("replay-status").textContent = `${stepper.trace.name}: ${count(stepper.position)} of ` +
    `${count(stepper.trace.length)} operations, ${state}`;
  $("replay-status").dataset.done = String(stepper.done);
  $("play").textContent = playing ? "Pause" : "Play";
}

function render(): void {
  renderNumbers();
  renderSelection();
  heap.draw();
  chart.update(session.history);
  renderBins();
  renderReplay();
  $("churn").textContent = churning ? "Stop churn" : "Start churn";
}

function frame(): void {
  if (churning) {
    session.churn(Number($<HTMLInputElement>("churn-target").value) || 1, CHURN_PER_FRAME);
    dirty = true;
  }
  if (playing) {
    playing = session.replayStep(SPEEDS[Number($<HTMLInputElement>("speed").value)]!);
    dirty = true;
  }
  if (dirty) {
    dirty = false;
    render();
  }
  requestAnimationFrame(frame);
}

// ── the picture: hover and click ────────────────────────────────────────────

function describeSegment(segment: Segment): string {
  const view = heap.view;
  const at = `bytes ${count(segment.start)} – ${count(segment.start + segment.size - 1)}`;
  if (segment.kind === "meta") {
    return `<b>pool metadata</b> · ${count(segment.size)} bytes<br>${at}<br>` +
      `${Size.PoolHeader}-byte header (magic, counters, top, largest free), ${view.rows} ` +
      `second-level bitmaps and ${view.rows * Bins.SlCount} bin heads${
        view.mapEnd === 0
          ? ""
          : `, the runs tier's counters, ${Slot.Classes} class heads and its run map (a byte ` +
            `per ${RunMap.Chunk} bytes)`
      }: the allocator keeps everything inside the pool.`;
  }
  if (segment.kind === "sentinel") {
    return `<b>end sentinel</b> · ${Size.Sentinel} bytes<br>${at}<br>a header of size 0 that is never free, so no merge runs off the end.`;
  }
  if (segment.kind === "run" || segment.slot !== undefined) return describeRunPart(segment);
  const f = view.fields(segment.start);
  const bin = view.binOf(segment.size);
  const binText = `(${bin.fl}, ${bin.sl}), sizes ${count(bin.min)} – ${count(bin.max)}`;
  const lines = [
    `${at}; payload at ${count(segment.start + BLOCK_HEADER)}`,
    `header word <code>${hex(f.header)}</code>: size ${count(segment.size)}, ` +
    `F=${Number(f.free)}, P=${Number(f.prevFree)}`,
  ];
  if (segment.kind === "used") {
    const block = session.block(segment.start + BLOCK_HEADER);
    const klass = SIZE_CLASSES[sizeClassOf(segment.size)]!.label;
    lines.unshift(`<b>used block</b> · ${count(segment.size)} bytes (${klass})`);
    if (block !== undefined) {
      lines.push(`asked for ${count(block.requested)} bytes, at operation ${count(block.born)}`);
    }
    lines.push(`check word <code>${hex(f.check!)}</code>`);
    lines.push(`in no bin while used; freed alone it would go to bin ${binText}`);
  } else if (segment.kind === "top") {
    lines.unshift(`<b>top block</b> · ${count(segment.size)} bytes free`);
    lines.push("in no bin: allocations cut from it only when no bin has a block that fits");
  } else {
    lines.unshift(`<b>free block</b> · ${count(segment.size)} bytes`);
    lines.push(
      `next <code>${f.next || "none"}</code>, prev <code>${f.prev || "bin head"}</code>, ` +
        `footer ${count(f.footer!)}`,
    );
    lines.push(
      `filed in bin ${binText}, with ${view.binMembers(bin.index).length - 1} other block(s) (red)`,
    );
  }
  return lines.join("<br>");
}

/** A run's fields, in a tooltip's lines. */
function runLines(run: RunFields): string[] {
  const bits = (word: number) => `<code>${hex(word)}</code>`;
  const link = (to: number, end: string) => to === 0 ? end : count(to);
  return [
    `header word <code>${hex(run.header)}</code>: size ${count(run.size)}, a used block's; ` +
    `check word ${bits(run.check)}: a run's, never a block's`,
    `info ${bits(run.info)}: class ${run.k}, ${run.count} slots of ${run.slotSize} bytes, ` +
    `divisor ${run.info >>> RunInfo.DivisorShift}`,
    `free bits ${bits(run.free)}, live bits ${bits(run.live)}, handle bits ${bits(run.handles)}`,
    run.free === 0
      ? "full: in no class list"
      : `in class ${run.k}'s list: next ${link(run.next, "none")}, prev ${
        link(run.prev, "the class's head")
      }`,
  ];
}

/** A slot, or a run's header or tail: which run, class and slot, and the run's fields. */
function describeRunPart(segment: Segment): string {
  const at = `bytes ${count(segment.start)} – ${count(segment.start + segment.size - 1)}`;
  const run = segment.run === undefined ? undefined : heap.view.runAt(segment.run);
  if (run === undefined) return `<b>run</b> · ${count(segment.size)} bytes<br>${at}`;
  const empty = run.live === 0;
  const where = `run at ${count(run.start)} (${count(run.size)} bytes), class ${run.k}: ` +
    `${run.count} slots of ${run.slotSize} bytes`;
  if (segment.kind === "run") {
    const part = segment.start === run.start
      ? `run header</b> · ${RunField.Header} bytes`
      : `run tail</b> · ${count(segment.size)} bytes`;
    return [
      `<b>${part}`,
      at,
      where,
      ...runLines(run),
      empty
        ? "the run is empty, held for its class: all of it counts as free"
        : "metadata while a slot of the run is live",
    ].join("<br>");
  }
  const klass = SIZE_CLASSES[sizeClassOf(segment.size)]!.label;
  const lines = [
    segment.kind === "used"
      ? `<b>used slot</b> · ${count(segment.size)} bytes (${klass})`
      : `<b>free slot</b> · ${count(segment.size)} bytes, for requests of class ${run.k}`,
    `${at}; payload at ${count(segment.start)}: a slot has no header`,
    `slot ${segment.slot} of the ${where}`,
    `free bit ${segment.slot}: ${(run.free >>> segment.slot!) & 1}`,
  ];
  const block = segment.kind === "used" ? session.block(segment.start) : undefined;
  if (block !== undefined) {
    lines.push(`asked for ${count(block.requested)} bytes, at operation ${count(block.born)}`);
  }
  return lines.join("<br>");
}

function onHover(event: MouseEvent): void {
  const canvas = heap.canvas;
  const box = canvas.getBoundingClientRect();
  const segment = heap.segmentAt(event.clientX - box.left, event.clientY - box.top);
  const tooltip = $("tooltip");
  if (segment === undefined) {
    tooltip.hidden = true;
    hovered = undefined;
    return;
  }
  if (segment.start !== hovered?.start || segment.size !== hovered.size) {
    hovered = segment;
    tooltip.innerHTML = describeSegment(segment);
    const mates = segment.kind === "free" && segment.slot === undefined
      ? heap.view.binMembers(heap.view.binOf(segment.size).index)
      : [];
    heap.binMates = mates;
    dirty = true;
  }
  tooltip.hidden = false;
  const wrap = canvas.parentElement!.getBoundingClientRect();
  const left = Math.min(event.clientX - wrap.left + 14, wrap.width - tooltip.offsetWidth - 4);
  tooltip.style.left = `${Math.max(0, left)}px`;
  tooltip.style.top = `${event.clientY - wrap.top + 16}px`;
}

function onClick(event: MouseEvent): void {
  const box = heap.canvas.getBoundingClientRect();
  const segment = heap.segmentAt(event.clientX - box.left, event.clientY - box.top);
  if (segment?.kind !== "used") return;
  const offset = payloadOf(segment);
  if (session.replay !== null && !session.replay.done) {
    $("hint").textContent =
      "The trace being replayed owns its blocks: pause does not let you free them.";
    return;
  }
  if ($<HTMLSelectElement>("click-mode").value === "free") {
    session.free(offset);
    hovered = undefined;
    heap.binMates = [];
    $("tooltip").hidden = true;
  } else {
    selected = offset;
  }
  dirty = true;
}

// ── controls ────────────────────────────────────────────────────────────────

function stopAll(): void {
  churning = false;
  playing = false;
}

/** Takes the last demo's note away once the pool is something else. */
function leaveScenario(): void {
  $("scenario").hidden = true;
  $("merge-free").hidden = true;
}

/** The controls' actions, run one after another: loading a trace must finish before a step. */
let actions: Promise<void> = Promise.resolve();
let pending = 0;

function on(id: string, handler: () => void | Promise<void>): void {
  $(id).addEventListener("click", () => {
    pending++;
    actions = actions.then(handler).catch(report).finally(() => {
      pending--;
      dirty = true;
    });
  });
}

function report(error: unknown): void {
  session.last = { text: error instanceof Error ? error.message : String(error), ms: 0, ok: false };
  stopAll();
  dirty = true;
}

function showScenario(scenario: Scenario): void {
  heap.highlight = scenario.highlight;
  selected = 0;
  $("scenario").hidden = false;
  $("scenario-text").textContent = scenario.text;
  $("heap").scrollIntoView({ behavior: "smooth", block: "center" });
}

on("alloc", () => {
  const size = Number($<HTMLInputElement>("alloc-size").value);
  const offset = session.allocate(size, Number($<HTMLSelectElement>("alloc-align").value));
  if (offset !== 0) selected = offset;
});
on("free-selected", () => {
  session.free(selected);
  selected = 0;
  heap.highlight = [];
});
on("resize-selected", () => {
  const to = session.resize(selected, Number($<HTMLInputElement>("resize-size").value));
  if (to !== 0) selected = to;
});
on("reset", () => {
  stopAll();
  session.reset(Number($<HTMLSelectElement>("pool-size").value));
  heap.highlight = [];
  leaveScenario();
});
on("fill", () => {
  stopAll();
  session.replay = null;
  leaveScenario();
  session.fillAndFragment();
});
on("churn", () => {
  playing = false;
  if (session.replay !== null) session.reset(session.pool.byteLength);
  leaveScenario();
  heap.highlight = [];
  churning = !churning;
});
on("play", async () => {
  churning = false;
  if (session.replay === null || session.replay.done) await loadSelectedTrace();
  playing = !playing;
});
on("step", async () => {
  stopAll();
  if (session.replay === null || session.replay.done) await loadSelectedTrace();
  session.replayStep(1);
});
$("speed").addEventListener("input", () => {
  $("speed-label").textContent = `${
    count(SPEEDS[Number($<HTMLInputElement>("speed").value)]!)
  } ops/frame`;
});
$("colour-mode").addEventListener("change", () => {
  heap.mode = $<HTMLSelectElement>("colour-mode").value as "size" | "age";
  legend();
  dirty = true;
});
$("heap").addEventListener("mousemove", onHover);
$("heap").addEventListener("mouseleave", () => {
  $("tooltip").hidden = true;
  hovered = undefined;
  heap.binMates = [];
  dirty = true;
});
$("heap").addEventListener("click", onClick);

const scenarios = { noRoom, bins, merge };
for (const button of document.querySelectorAll<HTMLButtonElement>("[data-scenario]")) {
  button.addEventListener("click", () => {
    stopAll();
    const name = button.dataset.scenario as keyof typeof scenarios;
    const scenario = scenarios[name](session);
    $("merge-free").hidden = name !== "merge";
    $("merge-free").dataset.middle = String("middle" in scenario ? scenario.middle : 0);
    showScenario(scenario);
    dirty = true;
  });
}
on("merge-free", () => {
  const middle = Number($("merge-free").dataset.middle);
  if (session.block(middle) === undefined) return;
  session.free(middle);
  const merged = heap.view.segments().find((s) => s.start < middle && middle < s.start + s.size)!;
  heap.highlight = [merged.start + BLOCK_HEADER];
  $("scenario-text").textContent = `One free block now: ${count(merged.size)} bytes at ` +
    `${count(merged.start)}, in bin (${heap.view.binOf(merged.size).fl}, ` +
    `${heap.view.binOf(merged.size).sl}). Hover over it to read its header and footer.`;
  $("merge-free").hidden = true;
});

// ── traces ──────────────────────────────────────────────────────────────────

let uploaded: File | null = null;

async function loadTrace(bytes: Uint8Array, name: string): Promise<void> {
  const trace = await parseTrace(bytes, { name });
  const { poolSize } = minimumPoolSize(trace, { tolerance: 0.01 });
  leaveScenario();
  session.loadTrace(trace, Math.ceil((poolSize * TRACE_HEADROOM) / ALIGN) * ALIGN);
  heap.highlight = [];
  selected = 0;
}

async function loadSelectedTrace(): Promise<void> {
  if (uploaded !== null) {
    await loadTrace(new Uint8Array(await uploaded.arrayBuffer()), uploaded.name);
    return;
  }
  const file = $<HTMLSelectElement>("trace").value;
  const response = await fetch(`traces/${file}`);
  await loadTrace(new Uint8Array(await response.arrayBuffer()), file);
}

$("trace").addEventListener("change", () => {
  uploaded = null;
  stopAll();
  session.replay = null;
  dirty = true;
});
$("upload").addEventListener("change", () => {
  uploaded = $<HTMLInputElement>("upload").files?.[0] ?? null;
  stopAll();
  session.replay = null;
  dirty = true;
});

async function listTraces(): Promise<void> {
  const entries: TraceEntry[] = await (await fetch("traces/index.json")).json();
  $("trace").innerHTML = entries
    .map((entry) => `<option value="${entry.file}">${entry.title}</option>`)
    .join("");
}

function legend(): void {
  const swatch = (colour: string, label: string) =>
    `<span><i style="background:${colour}"></i>${label}</span>`;
  const used = heap.mode === "size" ? SIZE_CLASSES.map((c) => swatch(c.colour, c.label)) : [
    `<span>used, newest <b class="ramp" style="background:linear-gradient(90deg,` +
    `${SIZE_CLASSES.map((c) => c.colour).join(",")})"></b> oldest</span>`,
  ];
  $("legend").innerHTML = [
    ...used,
    swatch(COLOURS.free, "free (in a bin)"),
    swatch(COLOURS.slotFree, "free slot"),
    swatch(COLOURS.top, "top block"),
    swatch(COLOURS.meta, "metadata"),
  ].join("");
}

/** What a test can ask the page: its session, and where a block is drawn. */
const hook = {
  session,
  /** The figures the page shows, as numbers. */
  figures(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const dd of document.querySelectorAll<HTMLElement>(".numbers dd")) {
      out[dd.id.slice(2)] = Number(dd.dataset.value);
    }
    return out;
  },
  /** Page coordinates of the middle of the block or slot whose payload is at `offset`. */
  blockCentre(offset: number): { x: number; y: number } {
    render();
    const segment = heap.segments.find((s) =>
      (s.kind === "used" || s.kind === "free" || s.kind === "top") && payloadOf(s) === offset
    )!;
    const box = heap.canvas.getBoundingClientRect();
    const at = heap.centreOf(segment.start, segment.size);
    return { x: box.left + at.x, y: box.top + at.y };
  },
  /** Whether every action clicked has run and the last frame drew what it did. */
  settled: () => pending === 0 && !dirty,
};
(globalThis as unknown as { playground: typeof hook }).playground = hook;

legend();
await listTraces();
requestAnimationFrame(frame);
