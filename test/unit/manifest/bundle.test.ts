import { describe, expect, it } from 'vitest';
import { decodeManifestBundle, formatWarning, loadManifestBundle, type ManifestSource } from '../../../src/manifest/bundle.js';
import { formatIssue, ManifestError } from '../../../src/manifest/issues.js';

const POD = `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: app, image: img}]
`;
const CONFIG = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data:
  mode: fast
  app.conf: |
    a=1
binaryData:
  blob: AAEC/w==
`;
const SECRET = `apiVersion: v1
kind: Secret
metadata: {name: db}
type: Opaque
data:
  password: czNjcjN0
stringData:
  user: admin
`;

function src(text: string, source = 'all.yaml'): ManifestSource {
  return { source, path: `/m/${source}`, text };
}

/** Every error of the input, formatted as the user sees them. */
function errorsOf(...sources: ManifestSource[]): string[] {
  const r = decodeManifestBundle(sources);
  expect(r.bundle).toBeUndefined();
  return r.errors.map(formatIssue);
}

describe('several documents', () => {
  it('reads ---, several files and kind: List into one bundle', () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n  - ${JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'czNjcjN0' } })}\n`;
    const { bundle, warnings } = loadManifestBundle([src(`${CONFIG}---\n${POD}---\n`), src(list, 'list.yaml')]);
    expect(warnings).toEqual([]);
    expect(bundle.pods.map((p) => p.name)).toEqual(['web']);
    expect(bundle.configMaps).toHaveLength(1);
    const cm = bundle.configMaps[0]!;
    expect(cm.data.get('mode')!.toString()).toBe('fast');
    expect(cm.data.get('app.conf')!.toString()).toBe('a=1\n');
    expect([...cm.data.get('blob')!]).toEqual([0, 1, 2, 255]);
    expect(bundle.secrets[0]!.data.get('password')!.toString()).toBe('s3cr3t');
  });

  it('Secret stringData is written over data; type defaults to Opaque', () => {
    const { bundle } = loadManifestBundle([src(`${SECRET}---\n${POD}`)]);
    const s = bundle.secrets[0]!;
    expect(s.type).toBe('Opaque');
    expect(s.data.get('user')!.toString()).toBe('admin');
    const over = loadManifestBundle([src(`${SECRET.replace('user: admin', 'password: plain')}---\n${POD}`)]).bundle.secrets[0]!;
    expect(over.data.get('password')!.toString()).toBe('plain');
  });

  it('one document keeps the plain field paths; several name the document', () => {
    expect(errorsOf(src(POD.replace('image: img', 'image: img, imag: x')))).toEqual([
      'spec.containers[0].imag: unknown field (did you mean "image"?)',
    ]);
    expect(errorsOf(src(`${CONFIG}---\n${POD.replace('image: img', 'image: img, imag: x')}`))).toEqual([
      'all.yaml: Pod "web": spec.containers[0].imag: unknown field (did you mean "image"?)',
    ]);
  });

  it('reports every error of every document, each on one line naming document and field', () => {
    const errors = errorsOf(
      src(
        `${SECRET.replace('czNjcjN0', 'not base64!')}---\n${CONFIG}---\n${CONFIG}---\napiVersion: v1\nkind: Sekret\nmetadata: {name: x}\n---\n${POD}`,
      ),
      src('apiVersion: v1\nkind: Service\nmetadata: {name: s}\n', 'svc.yaml'),
    );
    expect(errors).toEqual([
      'all.yaml: Secret "db": data.password: is not valid base64 (standard alphabet, padded with =)',
      'all.yaml: ConfigMap "settings": metadata.name: "settings" is already the name of a ConfigMap in all.yaml: ConfigMap "settings"',
      'all.yaml: Sekret "x": kind: "Sekret" is not a known kind (did you mean "Secret"?); minipod runs ConfigMap, Secret, PersistentVolumeClaim, Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and List',
      'svc.yaml: Service "s": kind: "Service" is a Kubernetes kind minipod does not run (it runs ConfigMap, Secret, PersistentVolumeClaim, Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and List)',
    ]);
    for (const e of errors) expect(e).not.toMatch(/\n/);
  });

  it('refuses two pods of one name, a missing Pod, and bad keys', () => {
    expect(errorsOf(src(`${POD}---\n${POD}`))[0]).toBe(
      'all.yaml: Pod "web": metadata.name: "web" is already the name of a pod in all.yaml: Pod "web"',
    );
    expect(errorsOf(src(CONFIG))).toEqual(['no Pod among the documents: nothing to run']);
    expect(errorsOf(src(`${CONFIG.replace('mode: fast', '../x: fast')}---\n${POD}`))[0]).toBe(
      `all.yaml: ConfigMap "settings": data["../x"]: key "../x" must consist of letters, digits, '-', '_' or '.'`,
    );
    expect(errorsOf(src(`${CONFIG.replace('blob:', 'mode:')}---\n${POD}`))[0]).toBe(
      'all.yaml: ConfigMap "settings": binaryData.mode: key "mode" is also in another data map of this object',
    );
  });

  it('checks the keys of typed Secrets', () => {
    const tls = 'apiVersion: v1\nkind: Secret\nmetadata: {name: cert}\ntype: kubernetes.io/tls\nstringData: {tls.crt: x}\n';
    expect(errorsOf(src(`${tls}---\n${POD}`))).toEqual([
      'all.yaml: Secret "cert": data["tls.key"]: field is required for a Secret of type kubernetes.io/tls',
    ]);
    const docker =
      'apiVersion: v1\nkind: Secret\nmetadata: {name: reg}\ntype: kubernetes.io/dockerconfigjson\nstringData: {.dockerconfigjson: "[1]"}\n';
    expect(errorsOf(src(`${docker}---\n${POD}`))).toEqual([
      'all.yaml: Secret "reg": data[".dockerconfigjson"]: is not a JSON object (a docker config file)',
    ]);
  });

  it('cluster-only fields are warnings naming the field, not errors', () => {
    const pod = POD.replace('spec:\n', 'spec:\n  nodeSelector: {disk: ssd}\n  serviceAccountName: app\n  tolerations: []\n');
    const { bundle, warnings } = loadManifestBundle([src(pod)]);
    expect(bundle.pods).toHaveLength(1);
    expect(warnings.map(formatWarning)).toEqual([
      'minipod: warning: spec.nodeSelector: has no effect: minipod runs the pod on this host, there is no scheduler',
      'minipod: warning: spec.serviceAccountName: has no effect: there is no API server, so no service account and no token',
      'minipod: warning: spec.tolerations: has no effect: one host has no taints to tolerate',
    ]);
  });

  it('imagePullSecrets take the docker config of a Secret among the documents', () => {
    const auth = Buffer.from('u:p').toString('base64');
    const reg = `apiVersion: v1\nkind: Secret\nmetadata: {name: reg}\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{"auths": {"r.example": {"auth": "${auth}"}}}'\n`;
    const pod = POD.replace('spec:\n', 'spec:\n  imagePullSecrets: [{name: reg}, {name: gone}]\n');
    const { bundle, warnings } = loadManifestBundle([src(`${pod}---\n${reg}`)]);
    expect(bundle.pods[0]!.pullSecrets).toEqual([{ name: 'reg', dockerConfig: { auths: { 'r.example': { auth } } } }]);
    expect(warnings.map(formatWarning)).toEqual([
      'minipod: warning: all.yaml: Pod "web": spec.imagePullSecrets[1].name: no Secret "gone" among the documents: images are pulled without it',
    ]);
  });

  it('throws a ManifestError whose message is the first problem', () => {
    expect(() => loadManifestBundle([src(`${POD}---\n${POD}`)])).toThrow(ManifestError);
  });
});
