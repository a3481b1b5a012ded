import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineOffsets } from '../../src/io/line-offsets.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('LineOffsets', () => {
  it('reads any noted line back, across 64 kB chunks and long lines, without its line ending', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => (i % 37 === 0 ? `${i}:${'y'.repeat(100_000)}` : `line ${i}`));
    const text = `${lines.join('\r\n')}`;
    const path = join(tempDir('offsets-'), 'in.jsonl');
    await writeFile(path, text);
    const offsets = new LineOffsets(path);
    let start = 0;
    for (const line of lines) {
      offsets.note(start);
      start += Buffer.byteLength(line) + 2;
    }
    try {
      for (let n = 1; n <= lines.length; n += 1) expect(offsets.read(n)?.toString()).toBe(lines[n - 1]);
      expect(offsets.read(301)).toBeNull();
    } finally {
      offsets.close();
    }
  });
});
