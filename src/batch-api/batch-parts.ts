// Splitting requests into the provider's input files: one model and one endpoint per file (a
// batch has one endpoint), at most
// `maxRequests` lines and `maxBytes` bytes each (OpenAI: 50,000 and 200 MB). Parts fill in input
// order, one open part per model and endpoint; a full part is handed over at once, so memory holds
// at most one part per model and endpoint, not the whole input.

import { DEFAULT_URL, type EndpointUrl } from '../model/endpoint.js';

/** One input file's worth of request lines for one model and one endpoint. */
export interface Part {
  model: string;
  /** The endpoint's url, as the lines and the batch name it. */
  url: EndpointUrl;
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

  /** Adds a request line for `url`; returns the part it filled up, if adding it would overflow one. */
  add(model: string, line: string, url: EndpointUrl = DEFAULT_URL): Part | null {
    const bytes = Buffer.byteLength(line) + 1;
    if (bytes > this.#limits.maxBytes) throw new RangeError(`one request line is ${bytes} bytes, over the ${this.#limits.maxBytes}-byte file limit`);
    const key = `${url} ${model}`;
    let part = this.#open.get(key);
    let full: Part | null = null;
    if (part !== undefined && (part.lines.length >= this.#limits.maxRequests || part.bytes + bytes > this.#limits.maxBytes)) {
      full = part;
      part = undefined;
    }
    if (part === undefined) {
      part = { model, url, lines: [], bytes: 0 };
      this.#open.set(key, part);
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
