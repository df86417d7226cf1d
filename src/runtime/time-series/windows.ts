import type { AggregateFunction, AggregateWindow, StoredPoint } from '../../ports/time-series.ts';

interface FieldAccumulator {
  count: number;
  sum: number;
  min: number;
  max: number;
  first: number;
  last: number;
}

const valueOf = (acc: FieldAccumulator, fn: AggregateFunction): number =>
  fn === 'avg' ? acc.sum / acc.count : acc[fn];

/**
 * Folds points, given in ascending time, into step-aligned windows. Only the current window's
 * accumulators are held, so memory grows with the windows, never with the points; a window
 * without points is never opened, so it is left out.
 */
export class WindowFold {
  readonly #step: number;
  readonly #functions: readonly AggregateFunction[];
  readonly #windows: AggregateWindow[] = [];
  #start = -1;
  #fields = new Map<string, FieldAccumulator>();

  constructor(step: number, functions: readonly AggregateFunction[]) {
    this.#step = step;
    this.#functions = functions;
  }

  /** Returns false, adding nothing, for a point older than the window being folded. */
  add(point: StoredPoint): boolean {
    // Times are never negative, so the remainder aligns down to a multiple of step.
    const start = point.time - (point.time % this.#step);
    if (start !== this.#start) {
      if (start < this.#start) return false;
      this.#close();
      this.#start = start;
    }
    for (const [name, value] of Object.entries(point.fields)) {
      const acc = this.#fields.get(name);
      if (acc === undefined) {
        this.#fields.set(name, { count: 1, sum: value, min: value, max: value, first: value, last: value });
        continue;
      }
      acc.count++;
      acc.sum += value;
      if (value < acc.min) acc.min = value;
      if (value > acc.max) acc.max = value;
      acc.last = value;
    }
    return true;
  }

  /** The windows folded so far, in time order; call once, after the last point. */
  finish(): AggregateWindow[] {
    this.#close();
    return this.#windows;
  }

  #close(): void {
    if (this.#fields.size === 0) return;
    const values: AggregateWindow['values'] = {};
    for (const [name, acc] of this.#fields)
      values[name] = Object.fromEntries(this.#functions.map((fn) => [fn, valueOf(acc, fn)]));
    this.#windows.push({ start: this.#start, values });
    this.#fields = new Map();
  }
}
