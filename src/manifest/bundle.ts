/**
 * Several manifest files, each with one or more documents (`---`, or `kind: List`), -> one
 * ManifestBundle: the multi-object input of podman `kube play`. Kinds are decoded by the
 * table in kinds.ts; objects first, then pods, so a pod may refer to an object defined after it.
 *
 * Every problem of every document is collected (for `run --dry-run`); each names its document
 * when there is more than one: `all.yaml: Secret "db": data.password: is not valid base64`.
 */
import path from 'node:path';
import { type Issue, Issues, ManifestError, oneLine, quote, typeName } from './issues.js';
import { isObject, type JsonObject } from './reader.js';
import { parseManifestDocuments } from './load.js';
import { KINDS, KUBERNETES_KINDS_NOT_RUN, REFUSED_KINDS, type DocumentContext, type ManifestBundle } from './kinds.js';
import type { ConfigMapObject, ObjectLookup, ObjectOrigin, SecretObject } from './objects/types.js';
import { nearestName } from './k8s-fields.js';

/** One manifest file as the client read it. */
export interface ManifestSource {
  /** The name as the user typed it, for messages. */
  source: string;
  /** Absolute path of the file (its folder resolves relative image paths). */
  path: string;
  text: string;
}

export interface BundleResult {
  /** Set when there was no error. */
  bundle?: ManifestBundle;
  errors: Issue[];
  warnings: Issue[];
}

/** Most documents one run may hold, over all its files. */
export const MAX_TOTAL_DOCUMENTS = 1024;

interface PendingDocument {
  value: JsonObject;
  kind: string;
  manifestDir: string;
  source: string;
  /** `all.yaml`, `all.yaml (document 2)`, `list.yaml items[3]`. */
  where: string;
  issues: Issues;
}

function documentLabel(d: PendingDocument, total: number): string {
  if (total <= 1) return '';
  const name = isObject(d.value.metadata) && typeof d.value.metadata.name === 'string' ? d.value.metadata.name : undefined;
  return name !== undefined && d.kind ? `${d.source}: ${d.kind} ${quote(name)}` : d.where;
}

/** The documents of every file, Lists expanded; file-level problems are thrown at once. */
function collectDocuments(sources: readonly ManifestSource[], errors: Issues): PendingDocument[] {
  const out: PendingDocument[] = [];
  for (const src of sources) {
    const docs = parseManifestDocuments(src.text, src.source);
    const manifestDir = path.dirname(path.resolve(src.path));
    for (const doc of docs) {
      const where = docs.length > 1 ? `${src.source} (document ${doc.index})` : src.source;
      if (!isObject(doc.value)) {
        errors.add(where, `a document must be an object (a Pod, ConfigMap, Secret or List), got ${typeName(doc.value)}`);
        continue;
      }
      if (doc.value.kind === 'List') {
        expandList(doc.value, { manifestDir, source: src.source, where }, out, errors);
        continue;
      }
      out.push({
        value: doc.value,
        kind: typeof doc.value.kind === 'string' ? doc.value.kind : '',
        manifestDir,
        source: src.source,
        where,
        issues: new Issues(),
      });
    }
  }
  if (out.length > MAX_TOTAL_DOCUMENTS) {
    throw new ManifestError([{ path: '', message: `${out.length} documents in all, at most ${MAX_TOTAL_DOCUMENTS}` }]);
  }
  return out;
}

/** `kind: List` (what `kubectl get -o yaml` writes for several objects): its items are documents. */
function expandList(
  list: JsonObject,
  at: { manifestDir: string; source: string; where: string },
  out: PendingDocument[],
  errors: Issues,
): void {
  for (const key of Object.keys(list)) {
    if (!['apiVersion', 'kind', 'metadata', 'items'].includes(key)) errors.add(`${at.where}: ${key}`, 'unknown field');
  }
  if (list.apiVersion !== 'v1')
    errors.add(`${at.where}: apiVersion`, `${quote(list.apiVersion)} is not supported: a List is apiVersion v1`);
  const items = list.items ?? [];
  if (!Array.isArray(items)) {
    errors.add(`${at.where}: items`, `expected an array, got ${typeName(items)}`);
    return;
  }
  items.forEach((item, i) => {
    const where = `${at.where} items[${i}]`;
    if (!isObject(item)) errors.add(where, `expected an object, got ${typeName(item)}`);
    else if (item.kind === 'List') errors.add(`${where}.kind`, 'a List inside a List is not supported');
    else
      out.push({
        value: item,
        kind: typeof item.kind === 'string' ? item.kind : '',
        manifestDir: at.manifestDir,
        source: at.source,
        where,
        issues: new Issues(),
      });
  });
}

/** kind and apiVersion against the table; true when the document can be decoded. */
function checkKind(d: PendingDocument): boolean {
  const { kind, apiVersion } = d.value;
  const known = Object.keys(KINDS);
  if (kind === undefined || kind === null) {
    d.issues.add('kind', `field is required (one of ${known.join(', ')})`);
    return false;
  }
  const decoder = typeof kind === 'string' && Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (!decoder) {
    const k = String(kind);
    if (Object.hasOwn(REFUSED_KINDS, k)) d.issues.add('kind', REFUSED_KINDS[k]!);
    else if (KUBERNETES_KINDS_NOT_RUN.includes(k))
      d.issues.add('kind', `${quote(k)} is a Kubernetes kind minipod does not run (it runs ${known.join(', ')} and List)`);
    else {
      const hint = nearestName(k, known);
      d.issues.add(
        'kind',
        `${quote(kind)} is not a known kind${hint ? ` (did you mean ${quote(hint)}?)` : ''}; minipod runs ${known.join(', ')} and List`,
      );
    }
    return false;
  }
  if (apiVersion === undefined || apiVersion === null) {
    d.issues.add('apiVersion', `field is required (apiVersion: ${decoder.apiVersions[0]})`);
    return false;
  }
  if (!decoder.apiVersions.includes(apiVersion as string)) {
    d.issues.add(
      'apiVersion',
      `${quote(apiVersion)} is not supported: a ${kind as string} is apiVersion ${decoder.apiVersions.join(' or ')}`,
    );
    return false;
  }
  return true;
}

/** Objects by kind and name; an object without a namespace is seen from every namespace. */
function lookupOf(bundle: ManifestBundle): ObjectLookup {
  const find = <T extends ConfigMapObject | SecretObject>(list: T[], name: string, namespace: string | undefined): T | undefined =>
    list.find((o) => o.name === name && (o.namespace === undefined || namespace === undefined || o.namespace === namespace));
  return {
    configMap: (name, ns) => find(bundle.configMaps, name, ns),
    secret: (name, ns) => find(bundle.secrets, name, ns),
  };
}

/** Decodes every document; never throws for a problem inside a document (see BundleResult). */
export function decodeManifestBundle(sources: readonly ManifestSource[]): BundleResult {
  const fileIssues = new Issues();
  const docs = collectDocuments(sources, fileIssues);
  const bundle: ManifestBundle = { pods: [], configMaps: [], secrets: [], claims: [] };
  const objects = lookupOf(bundle);
  const names = new Map<string, string>();
  // Pod names are unique on the host whatever their namespace, and whichever document makes the
  // pod (a Pod, or a workload's `<name>-<i>`): every clash is reported, in the later document,
  // naming the first, in whatever order the documents come.
  const podNames = new Map<string, string>();
  const total = docs.length + fileIssues.list.length;
  const decodable = docs.filter(checkKind);
  for (const phase of ['object', 'pods'] as const) {
    for (const d of decodable) {
      const decoder = KINDS[d.kind]!;
      if (decoder.phase !== phase) continue;
      const label = documentLabel(d, total) || d.where;
      const origin: ObjectOrigin = { source: d.source, label };
      const ctx: DocumentContext = { issues: d.issues, manifestDir: d.manifestDir, origin, objects, bundle };
      const podsBefore = bundle.pods.length;
      const named = decoder.decode(d.value, ctx);
      for (const pod of bundle.pods.slice(podsBefore)) {
        const first = podNames.get(pod.name);
        if (first === undefined) podNames.set(pod.name, label);
        else if (d.kind === 'Pod') d.issues.add('metadata.name', `${quote(pod.name)} is already the name of a pod in ${first}`);
        else d.issues.add('metadata.name', `its pod ${quote(pod.name)} has the name of a pod in ${first}`);
      }
      if (!named || d.kind === 'Pod') continue;
      const key = `${d.kind}/${named.namespace ?? ''}/${named.name}`;
      const first = names.get(key);
      if (first !== undefined) d.issues.add('metadata.name', `${quote(named.name)} is already the name of a ${d.kind} in ${first}`);
      else names.set(key, documentLabel(d, total) || d.where);
    }
  }
  const errors: Issue[] = [...fileIssues.list];
  const warnings: Issue[] = [...fileIssues.warnings];
  for (const d of docs) {
    const label = documentLabel(d, total);
    const at = (i: Issue): Issue => ({ path: label ? (i.path ? `${label}: ${i.path}` : label) : i.path, message: i.message });
    errors.push(...d.issues.list.map(at));
    warnings.push(...d.issues.warnings.map(at));
  }
  if (errors.length === 0 && bundle.pods.length === 0 && bundle.claims.length === 0) {
    errors.push({ path: '', message: 'no Pod among the documents: nothing to run' });
  }
  return errors.length > 0 ? { errors, warnings } : { bundle, errors, warnings };
}

/** Decodes and throws a ManifestError (every problem, the first as message) if any. */
export function loadManifestBundle(sources: readonly ManifestSource[]): { bundle: ManifestBundle; warnings: Issue[] } {
  const r = decodeManifestBundle(sources);
  if (!r.bundle) throw new ManifestError(r.errors);
  return { bundle: r.bundle, warnings: r.warnings };
}

/** `minipod: warning: <path>: <why>` for the user's terminal. */
export function formatWarning(w: Issue): string {
  return oneLine(`minipod: warning: ${w.path ? `${w.path}: ` : ''}${w.message}`);
}
