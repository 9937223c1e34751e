/**
 * The one double-quoted escape go-yaml reads and YAML 1.2 does not: `\'`.
 *
 * kubectl and the API server read manifests with go-yaml (sigs.k8s.io/yaml), whose scanner, as
 * libyaml's, takes `\'` inside a double-quoted string as `'`. YAML 1.2, and the yaml package
 * with it, refuses it ("Invalid escape sequence"). Kubernetes' own documentation has such a
 * manifest (`command: ['sh', '-c', "echo \"A=\'b\'\" > /data/config.env"]`), so the text is
 * rewritten before it is parsed: in double-quoted scalars only, found with the yaml package's
 * own tokenizer (never a regular expression over the whole file), `\'` becomes `'`. An error
 * later on the same line reports a column one to the left per rewritten escape before it.
 */
import { Parser } from 'yaml';

interface Edit {
  offset: number;
  source: string;
  fixed: string;
}

/** Every double-quoted scalar token of the parse tree whose source holds a `\'` escape. */
function collectEdits(node: unknown, edits: Edit[]): void {
  if (Array.isArray(node)) {
    for (const n of node) collectEdits(n, edits);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const token = node as { type?: unknown; offset?: unknown; source?: unknown };
  if (token.type === 'double-quoted-scalar' && typeof token.offset === 'number' && typeof token.source === 'string') {
    // Escapes are read left to right in pairs, so `\\'` stays a backslash and a quote.
    const fixed = token.source.replace(/\\([\s\S])/g, (escape, c: string) => (c === "'" ? "'" : escape));
    if (fixed !== token.source) edits.push({ offset: token.offset, source: token.source, fixed });
    return;
  }
  for (const value of Object.values(node)) collectEdits(value, edits);
}

/** The text with go-yaml's `\'` escapes made YAML 1.2; the same string when it has none. */
export function acceptGoYamlEscapes(text: string): string {
  if (!text.includes("\\'")) return text;
  const edits: Edit[] = [];
  for (const token of new Parser().parse(text)) collectEdits(token, edits);
  let out = text;
  for (const e of edits.sort((a, b) => b.offset - a.offset)) {
    if (out.slice(e.offset, e.offset + e.source.length) !== e.source) continue;
    out = out.slice(0, e.offset) + e.fixed + out.slice(e.offset + e.source.length);
  }
  return out;
}
