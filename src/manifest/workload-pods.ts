/**
 * A workload's plan (workloads.ts) -> its pods: the template decoded once as a Pod (errors
 * named at `spec.template.spec...`), then one copy per replica with its name, hostname,
 * the labels Kubernetes' controllers add, its owner, and a StatefulSet replica's claims.
 */
import type { ClaimSpec, PodSpec } from './types.js';
import { type Issue, Issues, quote } from './issues.js';
import type { JsonObject } from './reader.js';
import { dns1123LabelProblem } from './syntax.js';
import { claimNameProblem } from './claims.js';
import { claimNameOf, podNameOf, type WorkloadPlan } from './workloads.js';

/** A claim a workload needs before its pods start (a StatefulSet's volumeClaimTemplates). */
export interface WorkloadClaim {
  name: string;
  claim: ClaimSpec;
  /** `StatefulSet/<name>` when the claim goes with its StatefulSet (`whenDeleted: Delete`). */
  deleteWith?: string;
}

export interface WorkloadPods {
  pods: PodSpec[];
  claims: WorkloadClaim[];
}

/** A path inside the generated Pod -> the same field in the workload document. */
export function templatePath(path: string): string {
  return path === '' ? 'spec.template' : `spec.template.${path}`;
}

function copyIssues(from: Issues, to: Issues): void {
  for (const i of from.list) to.add(templatePath(i.path), i.message);
  for (const w of from.warnings) to.warn(templatePath(w.path), w.message);
}

/** The raw pod spec of one replica: a StatefulSet's claim templates become its claims. */
function replicaSpec(plan: WorkloadPlan, ordinal: number): JsonObject {
  const spec = structuredClone(plan.podSpec);
  if (plan.claimTemplates.length === 0) return spec;
  // As the StatefulSet controller: a pod volume of a template's name is replaced by the claim.
  const volumes = (Array.isArray(spec.volumes) ? spec.volumes : []).filter(
    (v: unknown) => !plan.claimTemplates.some((t) => (v as { name?: unknown } | null)?.name === t.name),
  );
  for (const t of plan.claimTemplates) {
    volumes.push({ name: t.name, persistentVolumeClaim: { claimName: claimNameOf(t.name, plan.name, ordinal) } });
  }
  spec.volumes = volumes;
  return spec;
}

/** Kubernetes' rule for a template's restartPolicy, by kind. */
function checkRestartPolicy(plan: WorkloadPlan, issues: Issues): void {
  const raw = plan.podSpec.restartPolicy;
  const written = raw === undefined || raw === null || raw === '' ? undefined : raw;
  if (plan.kind === 'Job') {
    if (written !== 'OnFailure' && written !== 'Never') {
      issues.add(
        'spec.template.spec.restartPolicy',
        `${written === undefined ? 'field is required' : `${quote(written)} is not allowed`}: a Job's pods must have OnFailure or Never`,
      );
    }
  } else if (written !== undefined && written !== 'Always') {
    issues.add(
      'spec.template.spec.restartPolicy',
      `${quote(written)} is not allowed: a ${plan.kind}'s pods must have Always (the default)`,
    );
  }
}

/** N replicas cannot share a host port (nor, with hostNetwork, any port) on one host. */
function checkHostPorts(plan: WorkloadPlan, pod: PodSpec, issues: Issues): void {
  const n = plan.ordinals.length;
  if (n < 2) return;
  const why = `${n} pods on one host cannot all publish it (${plan.kind === 'Job' ? 'completions' : 'spec.replicas'}: ${n}): run 1 replica, or leave the host port out`;
  for (const [list, containers] of [
    ['initContainers', pod.initContainers],
    ['containers', pod.containers],
  ] as const) {
    containers.forEach((c, ci) =>
      c.ports.forEach((p, pi) => {
        const at = `spec.template.spec.${list}[${ci}].ports[${pi}]`;
        if (p.hostPort !== undefined) issues.add(`${at}.hostPort`, `${p.hostPort}: ${why}`);
        else if (pod.hostNetwork) issues.add(`${at}.containerPort`, `${p.containerPort} with hostNetwork is a host port: ${why}`);
      }),
    );
  }
}

/**
 * Decodes the template (with `decodeTemplate`, the Pod decoder and its checks) and makes the
 * replicas. Issues go to `issues` with workload-document paths.
 */
export function workloadPods(
  plan: WorkloadPlan,
  decodeTemplate: (doc: JsonObject, issues: Issues) => { pod?: PodSpec; problems: Issue[] },
  issues: Issues,
): WorkloadPods | undefined {
  const before = issues.list.length;
  checkRestartPolicy(plan, issues);
  const first = plan.ordinals[0] ?? 0;
  for (const ordinal of plan.ordinals) {
    const p = dns1123LabelProblem(podNameOf(plan, ordinal));
    if (p) {
      issues.add('metadata.name', `${quote(plan.name)} cannot name pod ${quote(podNameOf(plan, ordinal))}: it ${p}`);
      return undefined;
    }
  }
  const doc: JsonObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podNameOf(plan, first),
      ...(plan.namespace !== undefined ? { namespace: plan.namespace } : {}),
      labels: plan.labels,
      annotations: plan.annotations,
    },
    spec: replicaSpec(plan, first),
  };
  const local = new Issues();
  const { pod, problems } = decodeTemplate(doc, local);
  copyIssues(local, issues);
  for (const pr of problems) issues.add(templatePath(pr.path), pr.message);
  if (!pod || issues.list.length > before) return undefined;
  checkHostPorts(plan, pod, issues);
  if (issues.list.length > before) return undefined;

  const ownHostname = typeof plan.podSpec.hostname === 'string' && plan.podSpec.hostname !== '';
  const pods = plan.ordinals.map((ordinal) => {
    const replica = structuredClone(pod);
    const name = podNameOf(plan, ordinal);
    replica.name = name;
    if (!ownHostname) replica.hostname = name;
    replica.labels = { ...replica.labels, ...controllerLabels(plan, ordinal, name) };
    if (plan.indexed) {
      replica.annotations = { ...replica.annotations, 'batch.kubernetes.io/job-completion-index': String(ordinal) };
      for (const c of [...replica.initContainers, ...replica.containers])
        c.env.push({ name: 'JOB_COMPLETION_INDEX', value: String(ordinal) });
    }
    for (const v of replica.volumes) {
      const t = plan.claimTemplates.find((ct) => ct.name === v.name);
      if (t && v.source.kind === 'persistentVolumeClaim') v.source.claimName = claimNameOf(t.name, plan.name, ordinal);
    }
    replica.owner = { kind: plan.kind, name: plan.name, ordinal };
    return replica;
  });
  const claims = plan.claimTemplates.flatMap((t) =>
    plan.ordinals.map((ordinal) => ({
      name: claimNameOf(t.name, plan.name, ordinal),
      claim: t.claim,
      ...(plan.deleteClaims ? { deleteWith: `${plan.kind}/${plan.name}` } : {}),
    })),
  );
  const badClaim = claims.find((c) => claimNameProblem(c.name));
  if (badClaim) {
    issues.add('spec.volumeClaimTemplates', `the claim ${quote(badClaim.name)} ${claimNameProblem(badClaim.name)}`);
    return undefined;
  }
  return { pods, claims };
}

/** The labels Kubernetes' controllers put on the pods they make (those that say which pod it is). */
function controllerLabels(plan: WorkloadPlan, ordinal: number, podName: string): Record<string, string> {
  if (plan.kind === 'StatefulSet') {
    return { 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(ordinal) };
  }
  if (plan.kind === 'Job') {
    return {
      'batch.kubernetes.io/job-name': plan.name,
      'job-name': plan.name,
      ...(plan.indexed ? { 'batch.kubernetes.io/job-completion-index': String(ordinal) } : {}),
    };
  }
  return {};
}
