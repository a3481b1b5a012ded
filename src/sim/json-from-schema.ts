/**
 * Generates JSON values that satisfy a JSON Schema, and values that do not. Covers the subset that
 * zod 4's `z.toJSONSchema()` (and OpenAI's strict `json_schema` format) emit for ordinary schemas:
 * object (properties, required, additionalProperties, propertyNames, minProperties), string (enum,
 * const, minLength, maxLength, common formats, simple patterns), number and integer (minimum, maximum,
 * exclusive bounds, multipleOf), boolean, null, array (items, prefixItems, minItems, maxItems), enum,
 * const, anyOf / oneOf (the first branch), allOf (merged), `$ref` into the document (`#`, `$defs`,
 * `definitions`) and type arrays such as `["string", "null"]`.
 *
 * Everything random comes from the `Random` passed in, so the caller decides what is reproducible.
 */
import type { JsonSchema } from './chat-request.js';
import { randomInt, type Random } from './prng.js';
import { isRecord } from '../model/records.js';

type Schema = Readonly<Record<string, unknown>>;

/** Past this depth, optional parts are left out, arrays shrink to `minItems` and unions prefer a non-recursive branch. */
const SHRINK_DEPTH = 4;
/** A schema that still nests this deep has no finite instance; stop with `null` instead of recursing forever. */
const GIVE_UP_DEPTH = 64;

const WORDS = [
  'alpha', 'bravo', 'cedar', 'delta', 'ember', 'fjord', 'garnet', 'harbor', 'indigo', 'juniper', 'kelp',
  'lumen', 'maple', 'nectar', 'orbit', 'pepper', 'quartz', 'river', 'sable', 'tundra', 'umber', 'velvet',
  'willow', 'xenon', 'yarrow', 'zephyr',
] as const;

function asSchema(value: unknown): Schema {
  return isRecord(value) ? value : {};
}

export function word(random: Random): string {
  return WORDS[Math.floor(random() * WORDS.length)] ?? 'alpha';
}

function hex(random: Random, digits: number): string {
  let out = '';
  for (let i = 0; i < digits; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Follows a local JSON pointer (`#`, `#/$defs/Name`, `#/definitions/Name`, any `#/a/b`) from the root. */
function resolvePointer(root: Schema, ref: string): Schema | undefined {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const segment = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isRecord(node)) node = node[segment];
    else return undefined;
  }
  return isRecord(node) ? node : undefined;
}

/** The schema with its `$ref` chain followed; keywords beside a `$ref` apply too, so they are merged in. */
function deref(root: Schema, schema: Schema): Schema {
  let current = schema;
  for (let hops = 0; hops < 32; hops++) {
    const ref = current['$ref'];
    if (typeof ref !== 'string') return current;
    const target = resolvePointer(root, ref) ?? {};
    const { $ref: _ref, ...siblings } = current;
    current = Object.keys(siblings).length === 0 ? target : { ...target, ...siblings };
  }
  return {};
}

/** allOf, flattened: properties and required lists are unioned, other keywords taken from later parts. */
function mergeAllOf(root: Schema, schema: Schema): Schema {
  const { allOf, ...rest } = schema;
  if (!Array.isArray(allOf)) return schema;
  let merged: Record<string, unknown> = { ...rest };
  for (const part of allOf) {
    const s = deref(root, mergeAllOf(root, asSchema(part)));
    const properties = { ...asSchema(merged['properties']), ...asSchema(s['properties']) };
    const required = [
      ...(Array.isArray(merged['required']) ? merged['required'] : []),
      ...(Array.isArray(s['required']) ? s['required'] : []),
    ];
    merged = { ...merged, ...s, properties, required };
  }
  return merged;
}

function looksRecursive(schema: unknown): boolean {
  return isRecord(schema) && typeof schema['$ref'] === 'string';
}

/** The branch of an anyOf/oneOf to follow: the first, or deep down the first that can end the recursion. */
function chooseBranch(branches: readonly unknown[], depth: number): Schema {
  if (depth >= SHRINK_DEPTH) {
    const nullBranch = branches.find((b) => isRecord(b) && b['type'] === 'null');
    if (nullBranch !== undefined) return asSchema(nullBranch);
    const flat = branches.find((b) => !looksRecursive(b));
    if (flat !== undefined) return asSchema(flat);
  }
  return asSchema(branches[0]);
}

type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

function inferType(s: Schema): JsonType | undefined {
  if ('properties' in s || 'additionalProperties' in s || 'required' in s || 'propertyNames' in s) return 'object';
  if ('items' in s || 'prefixItems' in s || 'minItems' in s || 'maxItems' in s) return 'array';
  if ('minLength' in s || 'maxLength' in s || 'format' in s || 'pattern' in s) return 'string';
  if ('minimum' in s || 'maximum' in s || 'exclusiveMinimum' in s || 'exclusiveMaximum' in s || 'multipleOf' in s) {
    return 'number';
  }
  return undefined;
}

function chooseType(s: Schema, depth: number): JsonType | undefined {
  const type = s['type'];
  if (typeof type === 'string') return type as JsonType;
  if (Array.isArray(type) && type.length > 0) {
    const types = type.filter((t): t is JsonType => typeof t === 'string');
    if (depth >= SHRINK_DEPTH && types.includes('null')) return 'null';
    return types.find((t) => t !== 'null') ?? types[0];
  }
  return inferType(s);
}

const patternCache = new Map<string, RegExp | null>();

function compilePattern(pattern: string): RegExp | null {
  let re = patternCache.get(pattern);
  if (re !== undefined) return re;
  try {
    re = new RegExp(pattern, 'u');
  } catch {
    try {
      re = new RegExp(pattern);
    } catch {
      re = null;
    }
  }
  // Patterns come from clients; bound the cache so a stream of distinct schemas cannot grow it forever.
  if (patternCache.size > 1000) patternCache.clear();
  patternCache.set(pattern, re);
  return re;
}

const META = new Set(['.', '[', ']', '(', ')', '{', '}', '*', '+', '?', '|', '^', '$', '\\']);
const QUANTIFIERS = new Set(['*', '+', '?', '{']);

/** The literal text a pattern starts with after `^` (e.g. `^ab.*` → `ab`), as far as it is plain. */
function literalPrefix(pattern: string): string {
  if (!pattern.startsWith('^')) return '';
  let out = '';
  for (let i = 1; i < pattern.length; i++) {
    let ch = pattern[i] ?? '';
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (!META.has(next) && !'-/'.includes(next)) break; // a class such as \d: stop
      ch = next;
      i++;
    } else if (META.has(ch)) {
      if (QUANTIFIERS.has(ch)) out = out.slice(0, -1); // the last char is optional or repeated
      break;
    }
    out += ch;
  }
  return out;
}

/** The literal text a pattern ends with before `$` (e.g. `.*ab$` → `ab`), when it is plain. */
function literalSuffix(pattern: string): string {
  if (!pattern.endsWith('$') || pattern.endsWith('\\$')) return '';
  let out = '';
  for (let i = pattern.length - 2; i >= 0; i--) {
    const ch = pattern[i] ?? '';
    const escaped = pattern[i - 1] === '\\';
    if (escaped) {
      out = ch + out;
      i--;
      continue;
    }
    if (META.has(ch) || ch === '-') break;
    out = ch + out;
  }
  return out;
}

function fitLength(text: string, s: Schema, random: Random): string {
  const min = typeof s['minLength'] === 'number' ? s['minLength'] : 0;
  const max = typeof s['maxLength'] === 'number' ? s['maxLength'] : Infinity;
  let out = text;
  while (out.length < min) out += word(random);
  return out.length > max ? out.slice(0, Math.max(min, max)) : out;
}

function formatted(format: string, random: Random): string | undefined {
  switch (format) {
    case 'email':
      return `${word(random)}.${hex(random, 4)}@example.com`;
    case 'uuid': {
      // Version 4 with the RFC 9562 variant bits, which zod's uuid check insists on.
      const variant = '89ab'[Math.floor(random() * 4)] ?? '8';
      return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-${variant}${hex(random, 3)}-${hex(random, 12)}`;
    }
    case 'date-time':
    case 'date':
    case 'time': {
      const date = `${randomInt(random, 2020, 2025)}-${pad2(randomInt(random, 1, 12))}-${pad2(randomInt(random, 1, 28))}`;
      const time = `${pad2(randomInt(random, 0, 23))}:${pad2(randomInt(random, 0, 59))}:${pad2(randomInt(random, 0, 59))}`;
      return format === 'date' ? date : format === 'time' ? time : `${date}T${time}Z`;
    }
    case 'uri':
    case 'url':
    case 'iri':
      return `https://example.com/${word(random)}/${hex(random, 6)}`;
    case 'hostname':
    case 'idn-hostname':
      return `${word(random)}.example.com`;
    case 'ipv4':
      return `10.${randomInt(random, 0, 255)}.${randomInt(random, 0, 255)}.${randomInt(random, 1, 254)}`;
    case 'ipv6':
      return `2001:db8::${hex(random, 4)}`;
    case 'duration':
      return `P${randomInt(random, 1, 30)}D`;
    case 'base64':
    case 'byte':
      return 'c2ltdWxhdGVk';
    default:
      return undefined;
  }
}

function generateString(s: Schema, random: Random): string {
  const format = typeof s['format'] === 'string' ? s['format'] : '';
  const base = formatted(format, random) ?? `${word(random)} ${word(random)}`;
  const pattern = typeof s['pattern'] === 'string' ? compilePattern(s['pattern']) : null;
  if (pattern === null || typeof s['pattern'] !== 'string') return fitLength(base, s, random);
  // Patterns in general are out of reach; the anchored literals zod emits (startsWith, endsWith,
  // includes) are not. Try a few candidates and keep the first that matches.
  const prefix = literalPrefix(s['pattern']);
  const suffix = literalSuffix(s['pattern']);
  const core = base.replaceAll(' ', '');
  const candidates = [base, prefix + core, core + suffix, prefix + core + suffix, prefix + suffix, s['pattern']];
  for (const candidate of candidates) {
    const fitted = fitLength(candidate, s, random);
    if (pattern.test(fitted)) return fitted;
  }
  return fitLength(base, s, random);
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Lower and upper bounds, each with whether it is exclusive (draft 2020-12 numbers or draft-04 booleans). */
function bounds(s: Schema): { lo: number; loOpen: boolean; hi: number; hiOpen: boolean } {
  let lo = -Infinity;
  let loOpen = false;
  let hi = Infinity;
  let hiOpen = false;
  const min = finite(s['minimum']);
  const max = finite(s['maximum']);
  if (min !== undefined) lo = min;
  if (max !== undefined) hi = max;
  if (s['exclusiveMinimum'] === true) loOpen = true;
  if (s['exclusiveMaximum'] === true) hiOpen = true;
  const exMin = finite(s['exclusiveMinimum']);
  const exMax = finite(s['exclusiveMaximum']);
  if (exMin !== undefined && exMin >= lo) {
    lo = exMin;
    loOpen = true;
  }
  if (exMax !== undefined && exMax <= hi) {
    hi = exMax;
    hiOpen = true;
  }
  return { lo, loOpen, hi, hiOpen };
}

/** A span of at most 100 inside [lo, hi], near [0, 100] when allowed: small numbers look like data. */
function preferredSpan(lo: number, hi: number): [number, number] {
  let a = Number.isFinite(lo) ? lo : Number.isFinite(hi) ? hi - 100 : 0;
  let b = Number.isFinite(hi) ? hi : a + 100;
  if (b - a > 100) {
    a = Math.min(Math.max(0, a), b - 100);
    b = a + 100;
  }
  return [a, b];
}

function generateNumber(s: Schema, integer: boolean, random: Random): number {
  const { lo, loOpen, hi, hiOpen } = bounds(s);
  const step = finite(s['multipleOf']);
  if (integer || step !== undefined) {
    const unit = step !== undefined && step > 0 ? step : 1;
    // Integers k with k * unit inside the bounds (and k * unit an integer when `integer`).
    const kLo = loOpen ? Math.floor(lo / unit) + 1 : Math.ceil(lo / unit);
    const kHi = hiOpen ? Math.ceil(hi / unit) - 1 : Math.floor(hi / unit);
    const [a, b] = preferredSpan(kLo, kHi);
    const k = a > b ? kLo : randomInt(random, Math.ceil(a), Math.floor(b));
    const value = k * unit;
    return integer ? Math.round(value) : value;
  }
  const [a, b] = preferredSpan(lo, hi);
  if (a >= b) return a;
  // Stay off the edges so exclusive bounds hold; two decimals when rounding keeps us inside.
  const raw = a + (b - a) * (0.1 + 0.8 * random());
  const rounded = Math.round(raw * 100) / 100;
  const inside = (v: number): boolean => (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  return inside(rounded) ? rounded : raw;
}

function generateArray(root: Schema, s: Schema, random: Random, depth: number): unknown[] {
  const prefix = Array.isArray(s['prefixItems']) ? s['prefixItems'] : [];
  const items = s['items'];
  const min = finite(s['minItems']) ?? 0;
  const max = finite(s['maxItems']) ?? (items === false ? prefix.length : Infinity);
  const wanted = depth >= SHRINK_DEPTH ? min : Math.max(min, prefix.length, randomInt(random, 1, 3));
  const count = Math.min(wanted, max);
  const out: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const itemSchema = i < prefix.length ? prefix[i] : items;
    out.push(generate(root, asSchema(itemSchema), random, depth + 1));
  }
  return out;
}

function generateObject(root: Schema, s: Schema, random: Random, depth: number): Record<string, unknown> {
  const properties = asSchema(s['properties']);
  const required = new Set(Array.isArray(s['required']) ? s['required'].filter((r) => typeof r === 'string') : []);
  const extra = s['additionalProperties'];
  const extraSchema = isRecord(extra) ? extra : {};
  const out: Record<string, unknown> = {};
  for (const [name, sub] of Object.entries(properties)) {
    if (required.has(name) || depth < SHRINK_DEPTH) out[name] = generate(root, asSchema(sub), random, depth + 1);
  }
  // Required keys without a property schema, e.g. the enum keys of z.record(z.enum([...]), ...).
  for (const name of required) {
    if (!(name in out)) out[name] = generate(root, extraSchema, random, depth + 1);
  }
  const names = asSchema(s['propertyNames']);
  const namesFree = !('enum' in names) && !('const' in names) && !('pattern' in names);
  const minProperties = finite(s['minProperties']) ?? 0;
  const wantsEntry = isRecord(extra) && Object.keys(properties).length === 0 && depth < SHRINK_DEPTH;
  if (extra !== false && namesFree) {
    for (let i = 0; Object.keys(out).length < minProperties || (wantsEntry && i === 0); i++) {
      out[`${word(random)}_${i}`] = generate(root, extraSchema, random, depth + 1);
    }
  }
  return out;
}

function generate(root: Schema, schema: Schema, random: Random, depth: number): unknown {
  if (depth > GIVE_UP_DEPTH) return null;
  const s = mergeAllOf(root, deref(root, schema));
  if ('const' in s) return s['const'];
  const options = s['enum'];
  if (Array.isArray(options) && options.length > 0) return options[Math.floor(random() * options.length)];
  const branches = Array.isArray(s['anyOf']) ? s['anyOf'] : Array.isArray(s['oneOf']) ? s['oneOf'] : undefined;
  if (branches !== undefined && branches.length > 0) return generate(root, chooseBranch(branches, depth), random, depth);
  switch (chooseType(s, depth)) {
    case 'object':
      return generateObject(root, s, random, depth);
    case 'array':
      return generateArray(root, s, random, depth);
    case 'string':
      return generateString(s, random);
    case 'integer':
      return generateNumber(s, true, random);
    case 'number':
      return generateNumber(s, false, random);
    case 'boolean':
      return random() < 0.5;
    case 'null':
    case undefined:
      return null;
  }
}

/** A value that satisfies `schema` (within the subset above), drawn from `random`. */
export function instanceFromSchema(schema: JsonSchema, random: Random): unknown {
  return generate(schema, schema, random, 0);
}

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

/** The types a schema admits, or `undefined` when it does not say. */
function admittedTypes(root: Schema, schema: Schema): Set<JsonType> | undefined {
  const s = mergeAllOf(root, deref(root, schema));
  const branches = Array.isArray(s['anyOf']) ? s['anyOf'] : Array.isArray(s['oneOf']) ? s['oneOf'] : undefined;
  if (branches !== undefined) {
    const all = new Set<JsonType>();
    for (const branch of branches) {
      const types = admittedTypes(root, asSchema(branch));
      if (types === undefined) return undefined;
      for (const t of types) all.add(t);
    }
    return all;
  }
  const type = s['type'];
  const list = typeof type === 'string' ? [type] : Array.isArray(type) ? type : [];
  if (list.length === 0) {
    const inferred = inferType(s);
    return inferred === undefined ? undefined : new Set([inferred]);
  }
  const types = new Set(list.filter((t): t is JsonType => typeof t === 'string'));
  if (types.has('number')) types.add('integer'); // every integer is a number
  return types;
}

const WRONG_VALUES: readonly unknown[] = [{ __sim_invalid__: true }, 'sim-invalid', 12345.5, [], true, null];

/** A value the schema rejects by its type (or by its enum/const), or `undefined` if none is known. */
function wrongValue(root: Schema, schema: Schema): unknown {
  const s = deref(root, schema);
  if ('const' in s || Array.isArray(s['enum'])) return WRONG_VALUES[0];
  const types = admittedTypes(root, s);
  if (types === undefined) return undefined;
  return WRONG_VALUES.find((v) => !types.has(jsonTypeOf(v)));
}

/**
 * `value` (an instance of `schema`) changed so that it violates the schema while staying valid JSON:
 * a required property without a default removed, else the first property given a wrong type, else
 * the whole value replaced by one of a wrong type.
 */
export function violateSchema(value: unknown, schema: JsonSchema): unknown {
  const s = mergeAllOf(schema, deref(schema, schema));
  if (isRecord(value)) {
    const properties = asSchema(s['properties']);
    const required = Array.isArray(s['required']) ? s['required'] : [];
    // A property with a default is filled in by validators such as zod: removing it proves nothing.
    const removable = required.find(
      (name): name is string => typeof name === 'string' && name in value && !('default' in asSchema(properties[name])),
    );
    if (removable !== undefined) {
      const { [removable]: _removed, ...rest } = value;
      return rest;
    }
    for (const [name, sub] of Object.entries(properties)) {
      const wrong = wrongValue(schema, asSchema(sub));
      if (wrong !== undefined) return { ...value, [name]: wrong };
    }
  }
  return wrongValue(schema, s) ?? WRONG_VALUES[0];
}
