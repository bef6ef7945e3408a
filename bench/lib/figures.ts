/**
 * Figures on stdout, one JSON line each, in the shape DESIGN.md fixes:
 * `{"bench":"stateless","figure":"eos_msgs_per_s","value":154000,"unit":"msg/s","limit":"raw_consume_produce","ratio":0.62}`.
 * `limit` names the figure this one is measured against and `ratio` is value / that figure's value;
 * a figure that is itself a limit names itself, with ratio 1. `setup` carries the facts needed to
 * read the figure (message count, partitions, sizes, client settings).
 */

export type SetupFacts = Record<string, string | number | boolean>

export interface Figure {
  bench: string
  figure: string
  value: number
  unit: string
  limit: string
  ratio: number
  setup?: SetupFacts
}

/** A figure already reported, kept so that later figures can be compared to it. */
export interface ReportedFigure {
  figure: string
  value: number
}

export class FigureReporter {
  readonly bench: string
  readonly #write: (line: string) => void
  readonly #reported: Figure[] = []

  constructor(bench: string, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
    this.bench = bench
    this.#write = write
  }

  /** Reports a figure that other figures are measured against (its own limit, ratio 1). */
  limit(figure: string, value: number, unit: string, setup?: SetupFacts): ReportedFigure {
    return this.#emit({ bench: this.bench, figure, value: roundFigure(value), unit, limit: figure, ratio: 1, ...(setup ? { setup } : {}) })
  }

  /** Reports a figure measured against `limit`: ratio = value / limit.value. */
  compared(figure: string, value: number, unit: string, limit: ReportedFigure, setup?: SetupFacts): ReportedFigure {
    const ratio = limit.value > 0 ? Math.round((value / limit.value) * 1000) / 1000 : 0
    return this.#emit({ bench: this.bench, figure, value: roundFigure(value), unit, limit: limit.figure, ratio, ...(setup ? { setup } : {}) })
  }

  /** Everything reported so far, in order. */
  get reported(): readonly Figure[] {
    return this.#reported
  }

  #emit(figure: Figure): ReportedFigure {
    if (!Number.isFinite(figure.value)) throw new Error(`figure ${figure.figure} is not a finite number: ${figure.value}`)
    this.#reported.push(figure)
    this.#write(JSON.stringify(figure))
    return { figure: figure.figure, value: figure.value }
  }
}

/** Whole numbers for large figures, three significant decimals for small ones (MB/s, seconds). */
function roundFigure(value: number): number {
  if (Math.abs(value) >= 1000) return Math.round(value)
  if (Math.abs(value) >= 10) return Math.round(value * 10) / 10
  return Math.round(value * 1000) / 1000
}
