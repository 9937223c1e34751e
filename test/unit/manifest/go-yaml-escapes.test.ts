import { describe, expect, it } from 'vitest';
import { acceptGoYamlEscapes } from '../../../src/manifest/go-yaml-escapes.js';
import { parseManifestDocuments } from '../../../src/manifest/load.js';

describe("go-yaml's \\' escape in double-quoted strings", () => {
  it("reads \\' as ' inside double quotes, as kubectl does (Kubernetes' envars-file-container.yaml)", () => {
    const text = `command: ['sh', '-c', "echo \\"A=\\'b\\'\\" > /data/x"]\n`;
    const [doc] = parseManifestDocuments(text, 'p.yaml');
    expect(doc!.value).toEqual({ command: ['sh', '-c', `echo "A='b'" > /data/x`] });
  });

  it('keeps an escaped backslash before a quote, and leaves single-quoted and plain scalars alone', () => {
    const text = `a: "x\\\\'"\nb: 'it''s \\'\nc: plain \\' text\n`;
    expect(acceptGoYamlEscapes(text)).toBe(text);
    const [doc] = parseManifestDocuments(text, 'p.yaml');
    expect(doc!.value).toEqual({ a: "x\\'", b: "it's \\", c: "plain \\' text" });
  });

  it('returns the very same text when there is nothing to rewrite', () => {
    const text = 'a: "b"\n';
    expect(acceptGoYamlEscapes(text)).toBe(text);
  });

  it('still refuses escapes go-yaml refuses too', () => {
    expect(() => parseManifestDocuments('a: "\\q"\n', 'p.yaml')).toThrow(/p\.yaml.*not valid YAML or JSON/);
  });
});
