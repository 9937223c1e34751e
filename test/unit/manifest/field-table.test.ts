/**
 * docs/manifest.md's field table is the decoders' truth: every Kubernetes Pod field, and
 * whether minipod supports it, warns about it or refuses it. Change one, change the other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { podFieldTable } from '../../../src/manifest/field-table.js';
import { decodeManifestBundle } from '../../../src/manifest/bundle.js';

const DOC = path.resolve(__dirname, '../../../docs/manifest.md');

function documentedRows(): string[] {
  const text = fs.readFileSync(DOC, 'utf8');
  const start = text.indexOf('## Field table');
  expect(start, 'docs/manifest.md has a "## Field table" section').toBeGreaterThan(0);
  const end = text.indexOf('\n## ', start + 1);
  return text
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .map((l) => /^\| `([^`]+)` \| (supported|warning|refused) \|/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
}

describe('docs/manifest.md field table', () => {
  it('lists every Pod field with what the decoders do with it', () => {
    const actual = podFieldTable().map((r) => `${r.path} ${r.support}`);
    const documented = documentedRows();
    // Lines to add or remove in the doc, so a failure says exactly what to edit.
    const missing = actual.filter((r) => !documented.includes(r));
    const stale = documented.filter((r) => !actual.includes(r));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
  });

  it('each refused row is refused and each warning row warns, as decoded', () => {
    // A spot check of the derivation itself through the real decoder.
    const rows = podFieldTable();
    const pod = (spec: object) =>
      stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'i' }], ...spec } });
    const run = (spec: object) => decodeManifestBundle([{ source: 'p.yaml', path: '/p.yaml', text: pod(spec) }]);
    const refused = rows.filter((r) => r.support === 'refused' && /^spec\.[a-zA-Z]+$/.test(r.path)).map((r) => r.path.slice(5));
    const warned = rows.filter((r) => r.support === 'warning' && /^spec\.[a-zA-Z]+$/.test(r.path)).map((r) => r.path.slice(5));
    expect(refused.length).toBeGreaterThan(0);
    for (const field of refused) {
      expect(run({ [field]: 1 }).errors[0]?.message, field).toBe('is a Kubernetes field minipod does not support');
    }
    for (const field of warned) {
      const r = run({ [field]: 1 });
      expect(r.errors, field).toEqual([]);
      expect(
        r.warnings.map((w) => w.path),
        field,
      ).toEqual([`spec.${field}`]);
    }
  });
});
