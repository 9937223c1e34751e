import { describe, expect, it } from 'vitest';
import { conmonCommand, parseExitFile, parseSyncMessage } from '../../../src/conmon/args.js';

describe('conmonCommand', () => {
  const request = {
    conmon: '/usr/bin/conmon',
    runtime: '/opt/minipod/bin/minipod-oci',
    runtimeArgs: ['--root', '/run/minipod/oci'],
    id: 'web_nginx',
    cuuid: '0123abcd-nginx',
    name: 'nginx',
    bundle: '/run/minipod/pods/web/bundles/nginx',
    exitDir: '/run/minipod/pods/web/exits',
    logPath: '/var/log/minipod/web/nginx.log',
    socketDir: '/run/minipod/attach',
    syncFd: 3,
  };

  it("is podman's command line: API 1, runtime args, k8s-file log, exit dir, pid files beside the bundle", () => {
    expect(conmonCommand(request)).toEqual({
      argv: [
        '/usr/bin/conmon',
        '--api-version',
        '1',
        '-c',
        'web_nginx',
        '-u',
        '0123abcd-nginx',
        '-n',
        'nginx',
        '-r',
        '/opt/minipod/bin/minipod-oci',
        '--runtime-arg',
        '--root',
        '--runtime-arg',
        '/run/minipod/oci',
        '-b',
        '/run/minipod/pods/web/bundles/nginx',
        '-p',
        '/run/minipod/pods/web/bundles/nginx/pidfile',
        '-P',
        '/run/minipod/pods/web/bundles/nginx/conmon.pid',
        '--exit-dir',
        '/run/minipod/pods/web/exits',
        '-l',
        'k8s-file:/var/log/minipod/web/nginx.log',
        '--socket-dir-path',
        '/run/minipod/attach',
        '--log-level',
        'error',
      ],
      env: { _OCI_SYNCPIPE: '3' },
      conmonPidFile: '/run/minipod/pods/web/bundles/nginx/conmon.pid',
      containerPidFile: '/run/minipod/pods/web/bundles/nginx/pidfile',
    });
  });

  it('adds the log size limit and an open stdin when asked', () => {
    const { argv } = conmonCommand({ ...request, logSizeMax: 1048576, stdin: true });
    expect(argv.slice(-3)).toEqual(['--log-size-max', '1048576', '-i']);
  });
});

describe('parseSyncMessage', () => {
  it('reads the container pid (API 1 and the legacy key)', () => {
    expect(parseSyncMessage('{"data": 4242}')).toEqual({ pid: 4242 });
    expect(parseSyncMessage('{"pid": 17}')).toEqual({ pid: 17 });
  });
  it('reads a failed create with the runtime message', () => {
    expect(parseSyncMessage('{"data": -1, "message": "minipod-oci: config.json: process.args: empty\\n"}')).toEqual({
      error: 'minipod-oci: config.json: process.args: empty',
    });
    expect(parseSyncMessage('{"data": -1}')).toEqual({ error: 'the OCI runtime failed to create the container (conmon reported -1)' });
  });
  it('refuses what is not a sync message', () => {
    expect(parseSyncMessage('hello')).toEqual({ error: 'conmon sent something else than JSON on its sync pipe: hello' });
    expect(parseSyncMessage('{"data": "x"}')).toEqual({ error: 'conmon\'s sync message has no pid: {"data": "x"}' });
  });
});

describe('parseExitFile', () => {
  it('reads exit codes and 128+signal', () => {
    expect(parseExitFile('0')).toBe(0);
    expect(parseExitFile('3')).toBe(3);
    expect(parseExitFile('137\n')).toBe(137);
  });
  it('reads -1 and garbage as an unknown status', () => {
    expect(parseExitFile('-1')).toBeNull();
    expect(parseExitFile('')).toBeNull();
    expect(parseExitFile('abc')).toBeNull();
  });
});
