import { describe, expect, it } from 'vitest';
import { checkDigest, digestHex, sha256Hex } from '../../../src/images/oci/digest.js';
import { selectManifest } from '../../../src/images/oci/platform.js';
import { layerCompression, MT, parseConfig, parseManifestOrIndex, type Descriptor } from '../../../src/images/oci/spec.js';
import { imageStopSignal } from '../../../src/images/signal.js';
import { classifyTopLevel } from '../../../src/images/sources/detect.js';
import { splitPathTag } from '../../../src/images/sources/oci-layout.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const buf = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('digests', () => {
  it('accepts sha256 only, and says what is wrong', () => {
    expect(digestHex(D('a'))).toBe('a'.repeat(64));
    expect(() => digestHex(`sha512:${'a'.repeat(128)}`, 'layer 1')).toThrow(/layer 1: .* is not a sha256 digest/);
    expect(() => digestHex(`sha256:${'A'.repeat(64)}`)).toThrow();
    expect(() => digestHex(`sha256:../../etc`)).toThrow();
    expect(() => digestHex(42)).toThrow(/missing/);
  });
  it('refuses content that does not match', () => {
    expect(() => checkDigest('x', sha256Hex('a'), sha256Hex('a'))).not.toThrow();
    expect(() => checkDigest('blob', sha256Hex('a'), sha256Hex('b'))).toThrow(
      /blob: content does not match its digest .*corrupt or tampered/,
    );
  });
});

describe('manifests and indexes', () => {
  const manifest = {
    schemaVersion: 2,
    mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: D('c'), size: 10 },
    layers: [{ mediaType: MT.ociLayerGzip, digest: D('1'), size: 5 }],
  };
  it('parses an OCI manifest and a Docker one', () => {
    const m = parseManifestOrIndex(buf(manifest), 'img');
    expect(m).toMatchObject({ kind: 'manifest', config: { digest: D('c') }, layers: [{ digest: D('1'), size: 5 }] });
    const d = parseManifestOrIndex(buf({ ...manifest, mediaType: MT.dockerManifest }), 'img');
    expect(d.kind).toBe('manifest');
  });
  it('tells an index by its media type or, without one, by its shape', () => {
    expect(parseManifestOrIndex(buf({ schemaVersion: 2, mediaType: MT.dockerList, manifests: [] }), 'i').kind).toBe('index');
    expect(parseManifestOrIndex(buf({ schemaVersion: 2, manifests: [] }), 'i').kind).toBe('index');
  });
  it('refuses schema 1, bad digests, bad sizes and unknown types with the image named', () => {
    expect(() => parseManifestOrIndex(buf({ schemaVersion: 1 }), 'app')).toThrow(/app: Docker schema 1/);
    expect(() =>
      parseManifestOrIndex(buf({ ...manifest, layers: [{ mediaType: MT.ociLayer, digest: 'sha256:x', size: 1 }] }), 'app'),
    ).toThrow(/app.layers\[0\].digest/);
    expect(() => parseManifestOrIndex(buf({ ...manifest, layers: [{ mediaType: MT.ociLayer, digest: D('1'), size: -1 }] }), 'app')).toThrow(
      /size/,
    );
    expect(() => parseManifestOrIndex(buf({ ...manifest, mediaType: 'text/html' }), 'app')).toThrow(/unsupported manifest media type/);
    expect(() => parseManifestOrIndex(Buffer.from('{'), 'app')).toThrow(/app: not valid JSON/);
    expect(() => parseManifestOrIndex(buf({ ...manifest, layers: Array(200).fill(manifest.layers[0]) }), 'app')).toThrow(/200 layers/);
  });
  it('knows layer compressions; zstd is reported, not guessed', () => {
    expect(layerCompression(MT.dockerLayer, 'l')).toBe('gzip');
    expect(layerCompression(MT.ociLayer, 'l')).toBe('none');
    expect(layerCompression(MT.ociLayerZstd, 'l')).toBe('zstd');
    expect(() => layerCompression('application/x-foo', 'l')).toThrow(/unsupported layer media type/);
  });
});

describe('selectManifest', () => {
  const e = (architecture: string, variant?: string, os = 'linux', extra: Partial<Descriptor> = {}): Descriptor => ({
    mediaType: MT.ociManifest,
    digest: D(architecture.length.toString(16)),
    size: 1,
    platform: { os, architecture, variant },
    ...extra,
  });
  it('picks linux and the architecture, preferring the variant', () => {
    const list = [e('arm64', 'v8'), e('amd64'), e('amd64', undefined, 'windows')];
    expect(selectManifest(list, { os: 'linux', architecture: 'amd64' }, 'x').platform?.architecture).toBe('amd64');
    expect(
      selectManifest([e('arm64'), e('arm64', 'v8')], { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'x').platform?.variant,
    ).toBe('v8');
  });
  it('skips attestations and lists what is there when nothing fits', () => {
    const att = e('amd64', undefined, 'linux', { annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } });
    expect(() => selectManifest([att, e('s390x')], { os: 'linux', architecture: 'amd64' }, 'img')).toThrow(
      /img: no image for linux\/amd64 \(the index has: linux\/amd64, linux\/s390x\)/,
    );
  });
});

describe('parseConfig', () => {
  it('extracts what minipod applies and the diff ids', () => {
    const c = parseConfig(
      buf({
        architecture: 'amd64',
        os: 'linux',
        config: { Entrypoint: ['/e'], Cmd: ['c'], Env: ['A=1', 'broken'], WorkingDir: '/w', User: '33:33', StopSignal: 'SIGQUIT' },
        rootfs: { type: 'layers', diff_ids: [D('d')] },
      }),
      'cfg',
    );
    expect(c.config).toEqual({ entrypoint: ['/e'], cmd: ['c'], env: ['A=1'], workingDir: '/w', user: '33:33', stopSignal: 'SIGQUIT' });
    expect(c.diffIds).toEqual([D('d')]);
  });
  it('refuses wrong types with the field named', () => {
    expect(() => parseConfig(buf({ config: { Cmd: 'sh' }, rootfs: { type: 'layers', diff_ids: [] } }), 'cfg')).toThrow(
      /cfg.config.Cmd: not a list of strings/,
    );
    expect(() => parseConfig(buf({ rootfs: { type: 'x' } }), 'cfg')).toThrow(/cfg.rootfs/);
  });
});

describe('small rules', () => {
  it('maps StopSignal spellings, falling back to SIGTERM', () => {
    expect(imageStopSignal('SIGQUIT')).toBe('SIGQUIT');
    expect(imageStopSignal('quit')).toBe('SIGQUIT');
    expect(imageStopSignal('3')).toBe('SIGQUIT');
    expect(imageStopSignal('SIGRTMIN+3')).toBe('SIGTERM');
    expect(imageStopSignal(undefined)).toBe('SIGTERM');
  });
  it('splits oci:PATH[:TAG]', () => {
    expect(splitPathTag('./layout:app')).toEqual({ file: './layout', tag: 'app' });
    expect(splitPathTag('/x/layout')).toEqual({ file: '/x/layout' });
    expect(splitPathTag('/a:b/layout')).toEqual({ file: '/a:b/layout' });
  });
  it('classifies tarballs by their top-level names', () => {
    expect(classifyTopLevel(['oci-layout', 'index.json', 'blobs'])).toBe('oci-archive');
    expect(classifyTopLevel(['bin', 'etc'])).toBe('rootfs');
    expect(classifyTopLevel(['manifest.json', 'abc.tar'])).toBeNull();
  });
});
