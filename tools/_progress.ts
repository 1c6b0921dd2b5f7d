// The one-line status the command-line tools (replay, fuzz, soak) show on a
// terminal while they work. Only on a terminal: piped or redirected output
// stays free of carriage returns.

/** Progress appears only for work that takes longer than this (ms), and updates this often. */
const PROGRESS_DELAY_MS = 500;
const PROGRESS_EVERY_MS = 100;
/** Carriage return, then erase to the end of the line. */
const CLEAR_LINE = "\r\x1b[K";

/** A one-line status on stderr, for terminals only, and only once work has gone on a while. */
export class Progress {
  readonly #enabled: boolean;
  readonly #encoder = new TextEncoder();
  #since = performance.now();
  #last = 0;
  #shown = false;

  /** `enabled` defaults to whether stderr is a terminal. */
  constructor(enabled = Deno.stderr.isTerminal()) {
    this.#enabled = enabled;
  }

  /** Starts timing a new piece of work: its status waits for the delay again. */
  start(): void {
    this.#since = performance.now();
    this.#last = 0;
  }

  /** Shows `text` in place of the previous status, unless too soon. */
  show(text: string): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#since < PROGRESS_DELAY_MS || now - this.#last < PROGRESS_EVERY_MS) return;
    this.#last = now;
    this.#shown = true;
    Deno.stderr.writeSync(this.#encoder.encode(`${CLEAR_LINE}${text}`));
  }

  /** Erases the status, so that what is printed next starts on a clean line. */
  clear(): void {
    if (this.#shown) Deno.stderr.writeSync(this.#encoder.encode(CLEAR_LINE));
    this.#shown = false;
  }
}
