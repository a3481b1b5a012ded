// Splitting requests into the provider's input files: one model per file, at most
// `maxRequests` lines and `maxBytes` bytes each (OpenAI: 50,000 and 200 MB). Parts fill in input
// order, one open part per model; a full part is handed over at once, so memory holds at most one
// part per model, not the whole input.

/** One input file's worth of request lines for one model. */
export interface Part {
  model: string;
  /** JSONL lines, `{"custom_id","method","url","body"}`, without newlines. */
  lines: string[];
  bytes: number;
}

export interface PartLimits {
  maxRequests: number;
  maxBytes: number;
}

export class PartBuilder {
  readonly #open = new Map<string, Part>();
  readonly #limits: PartLimits;

  constructor(limits: PartLimits) {
    this.#limits = limits;
  }

  /** Adds a request line; returns the part it filled up, if adding it would overflow one. */
  add(model: string, line: string): Part | null {
    const bytes = Buffer.byteLength(line) + 1;
    if (bytes > this.#limits.maxBytes) throw new RangeError(`one request line is ${bytes} bytes, over the ${this.#limits.maxBytes}-byte file limit`);
    let part = this.#open.get(model);
    let full: Part | null = null;
    if (part !== undefined && (part.lines.length >= this.#limits.maxRequests || part.bytes + bytes > this.#limits.maxBytes)) {
      full = part;
      part = undefined;
    }
    if (part === undefined) {
      part = { model, lines: [], bytes: 0 };
      this.#open.set(model, part);
    }
    part.lines.push(line);
    part.bytes += bytes;
    return full;
  }

  /** The parts still open, once the input has ended. */
  rest(): Part[] {
    const parts = [...this.#open.values()].filter((part) => part.lines.length > 0);
    this.#open.clear();
    return parts;
  }
}
