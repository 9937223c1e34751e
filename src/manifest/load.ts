/**
 * Manifest text -> PodSpec. JSON is read by the YAML parser too (YAML 1.2 is a superset of
 * JSON), so both get the same duplicate-key refusal and the same error positions.
 *
 * The text is untrusted: size, aliases (billion-laughs), nesting and tags are bounded before
 * any value is built.
 */
import path from 'node:path';
import YAML, { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Document, type ScalarTag } from 'yaml';
import type { PodSpec } from './types.js';
import { ManifestError } from './issues.js';
import { decodePod } from './decode.js';
import { validatePod } from './validate.js';
import { MAX_MANIFEST_BYTES, manifestFileError as fileError, readManifestFile } from './read-file.js';
import { acceptGoYamlEscapes } from './go-yaml-escapes.js';

export { MAX_MANIFEST_BYTES, readManifestFile } from './read-file.js';

/**
 * YAML 1.1's octal integers (`0400`), which Kubernetes reads (sigs.k8s.io/yaml over go-yaml v2):
 * `defaultMode: 0400` in a copied manifest means 256 there and must here too. The rest of YAML
 * 1.1 (yes/no booleans, base-60 numbers) stays out: they are strings under the 1.2 core schema.
 */
const OCTAL_INT_1_1: ScalarTag = {
  identify: (v) => typeof v === 'number',
  default: true,
  tag: 'tag:yaml.org,2002:int',
  format: 'OCT',
  test: /^[-+]?0[0-7]+$/,
  resolve: (s) => parseInt(s, 8),
};

/** Real manifests use a handful of anchors; bombs need many. */
export const MAX_ALIASES = 16;
/** Pod manifests are some 8 levels deep; this is a generous bound. */
const MAX_DEPTH = 64;
/** Documents in one file: far above a real bundle of a pod and its objects. */
export const MAX_DOCUMENTS = 256;

const ALLOWED_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

export interface ParseOptions {
  /** Absolute folder the manifest came from; relative image paths resolve against it. */
  manifestDir: string;
  /** Name of the manifest for messages about the file itself (`pod.yaml:3:5: ...`). */
  source?: string;
}

/** Refuses what YAML can express but a Pod never needs: custom tags, complex keys, aliases. */
function checkYamlNodes(doc: Document, source: string | undefined, lines: LineCounter): void {
  let aliases = 0;
  const at = (node: unknown) => {
    const range = (node as { range?: [number, number, number] }).range;
    return range ? lines.linePos(range[0]) : undefined;
  };
  const walk = (node: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) throw fileError(source, `nested more than ${MAX_DEPTH} levels deep`, at(node));
    if (node === null || node === undefined) return;
    if (isAlias(node)) {
      aliases += 1;
      if (aliases > MAX_ALIASES) throw fileError(source, `more than ${MAX_ALIASES} YAML aliases`, at(node));
      return;
    }
    const tag = (node as { tag?: string }).tag;
    if (tag !== undefined && !ALLOWED_TAGS.has(tag)) {
      const shown = tag.startsWith('tag:yaml.org,2002:') ? `!!${tag.slice(18)}` : tag;
      throw fileError(source, `YAML tag ${shown} is not allowed in a manifest`, at(node));
    }
    if (isScalar(node)) return;
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (pair.key !== null && !isScalar(pair.key)) {
          throw fileError(source, 'a map key must be a plain string', at(pair.key));
        }
        walk(pair.key, depth + 1);
        walk(pair.value, depth + 1);
      }
      return;
    }
    if (isSeq(node)) {
      for (const item of node.items) walk(item, depth + 1);
    }
  };
  walk(doc.contents, 0);
}

/** One YAML document of a manifest file, as a plain JSON value. */
export interface ParsedDocument {
  value: unknown;
  /** 1-based position of the document in its file. */
  index: number;
  /** Line where the document starts, for messages. */
  line: number;
}

/**
 * Parses every document of the text (`---` separated) into plain JSON values, or throws a
 * ManifestError naming the file and position. Empty documents (a trailing `---`, comments
 * only) are skipped, as kubectl does.
 */
export function parseManifestDocuments(text: string, source?: string): ParsedDocument[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) {
    throw fileError(source, `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
  }
  const lines = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = YAML.parseAllDocuments(acceptGoYamlEscapes(text), {
      version: '1.2',
      schema: 'core',
      customTags: (tags) => [OCTAL_INT_1_1, ...tags],
      uniqueKeys: true,
      merge: false,
      prettyErrors: false,
      strict: true,
      lineCounter: lines,
    }) as Document.Parsed[];
  } catch (err) {
    throw fileError(source, `not valid YAML or JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!Array.isArray(docs)) throw fileError(source, 'not valid YAML or JSON');
  if (docs.length > MAX_DOCUMENTS) throw fileError(source, `holds ${docs.length} YAML documents, at most ${MAX_DOCUMENTS}`);
  const out: ParsedDocument[] = [];
  docs.forEach((doc, i) => {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) {
      throw fileError(source, `not valid YAML or JSON: ${problem.message}`, lines.linePos(problem.pos[0]));
    }
    checkYamlNodes(doc, source, lines);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES * 4 });
    } catch (err) {
      throw fileError(source, `cannot read manifest: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (value === null || value === undefined) return;
    out.push({ value, index: i + 1, line: lines.linePos(doc.range[0]).line });
  });
  if (out.length === 0) throw fileError(source, 'manifest is empty');
  return out;
}

/** Parses the text into a plain JSON value (one document) or throws a ManifestError. */
export function parseManifestDocument(text: string, source?: string): unknown {
  const docs = parseManifestDocuments(text, source);
  if (docs.length > 1) {
    throw fileError(source, `holds ${docs.length} YAML documents; this reads one`, { line: docs[1]!.line, col: 1 });
  }
  return docs[0]!.value;
}

/** Manifest text -> validated PodSpec; throws ManifestError (a UserError) naming the field. */
export function parsePodManifest(text: string, opts: ParseOptions): PodSpec {
  const doc = parseManifestDocument(text, opts.source);
  const manifestDir = path.resolve(opts.manifestDir);
  const { pod, issues } = decodePod(doc, manifestDir);
  issues.throwIfAny();
  if (!pod) throw new ManifestError([{ path: '', message: 'invalid manifest' }]);
  const problems = validatePod(pod);
  if (problems.length > 0) throw new ManifestError(problems);
  return pod;
}

/** Reads and parses a manifest file; manifestDir is its absolute folder. */
export function loadPodManifest(file: string): PodSpec {
  const { text, dir } = readManifestFile(file);
  return parsePodManifest(text, { manifestDir: dir, source: file });
}
