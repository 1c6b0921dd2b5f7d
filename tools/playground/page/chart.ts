/// <reference lib="dom" />
// Bytes used, bytes free and the largest free block against the operation
// number, drawn by uPlot as the operations run.

import uPlot from "uplot";
import type { History } from "../session.ts";

const HEIGHT = 220;
const KIB = 1024;

/** Bytes for an axis: B, KiB or MiB. */
function bytes(n: number): string {
  if (n >= KIB * KIB) return `${+(n / KIB / KIB).toFixed(1)} MiB`;
  if (n >= KIB) return `${+(n / KIB).toFixed(1)} KiB`;
  return `${n} B`;
}

export class Chart {
  readonly #plot: uPlot;

  constructor(element: HTMLElement) {
    const series = (label: string, stroke: string, fill?: string): uPlot.Series => ({
      label,
      stroke,
      width: 2,
      ...(fill ? { fill } : {}),
      value: (_u, v) => v === null ? "–" : bytes(v),
    });
    this.#plot = new uPlot(
      {
        width: element.clientWidth,
        height: HEIGHT,
        scales: { x: { time: false } },
        axes: [
          { label: "operation" },
          { values: (_u, ticks) => ticks.map(bytes), size: 84 },
        ],
        series: [
          { label: "op" },
          series("bytes used", "#1fa187", "rgba(31,161,135,0.12)"),
          series("bytes free", "#94a3b8"),
          series("largest free block", "#dc2626"),
        ],
        legend: { live: true },
      },
      [[], [], [], []],
      element,
    );
    new ResizeObserver(() => this.#plot.setSize({ width: element.clientWidth, height: HEIGHT }))
      .observe(element);
  }

  update(history: History): void {
    this.#plot.setData([history.op, history.used, history.free, history.largest]);
  }
}
