/**
 * `minipod exec`, for real: a process in a running container sees the pod's PID namespace and
 * the container's own root, runs with the container's user, capabilities and cgroup unless
 * told otherwise, gets stdin with -i and a real pseudo-terminal with -t, and its exit code
 * comes back. The pod runs attached (`minipod run`) in the background and is stopped with
 * SIGTERM at the end.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MINIPOD,
  busyboxPod,
  inspect,
  isRoot,
  makeTestEnv,
  minipodSync,
  waitFor,
  writeManifest,
  type TestEnv,
} from '../support/minipod.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!isRoot)('minipod exec (root)', () => {
  let t: TestEnv;
  let run: ChildProcess;
  let runExit: Promise<number | null>;
  let runOutput = '';

  beforeAll(async () => {
    t = makeTestEnv('exec');
    const pod = busyboxPod('ex', [
      ['a', 'touch /only-in-a; mkdir -p /home/work; exec sleep 1000'],
      ['b', 'exec sleep 1000'],
      ['done', 'true'],
    ]);
    run = spawn(MINIPOD, ['run', writeManifest(t, 'ex.json', pod)], { env: t.env, stdio: ['ignore', 'pipe', 'pipe'] });
    run.stdout!.on('data', (d: Buffer) => (runOutput += d.toString()));
    run.stderr!.on('data', (d: Buffer) => (runOutput += d.toString()));
    runExit = new Promise((resolve) => run.once('exit', (code) => resolve(code)));
    // Three containers under qemu TCG (the VM suite) take well over 20 s to come up.
    await waitFor(
      'pod ex running',
      () => {
        const p = inspect(t, 'ex');
        const state = (n: string) => p?.containers.find((c) => c.name === n)?.state;
        return state('a') === 'running' && state('b') === 'running' && state('done') === 'terminated';
      },
      80_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; minipod run printed: ${runOutput}`);
    });
  }, 100_000);

  afterAll(async () => {
    if (run && run.exitCode === null) {
      run.kill('SIGTERM');
      await runExit;
    }
    if (t) minipodSync(t, ['rm', '-f', 'ex']);
    t?.cleanup();
  });

  const exec = (args: string[], input?: string) => minipodSync(t, ['exec', ...args], { input, timeoutMs: 20_000 });

  it("runs in the pod's PID namespace and the container's own root", () => {
    const a = exec(['ex', 'a', '--', 'sh', '-c', 'ls /only-in-a && ps -o pid,args']);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^\/only-in-a$/m);
    expect(a.stdout).toMatch(/^\s*1 .*catatonit -P$/m);
    expect(a.stdout.match(/sleep 1000/g)).toHaveLength(2);
    const b = exec(['ex', 'b', '--', 'ls', '/only-in-a']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/No such file/);
  });

  it("joins the container's cgroup and keeps its capabilities and user", () => {
    const r = exec(['ex', 'a', '--', 'sh', '-c', 'cat /proc/self/cgroup; grep -E "^Cap(Eff|Bnd)" /proc/self/status; id -u']);
    expect(r.code).toBe(0);
    // In the container's cgroup namespace, whose root is the container's cgroup: `/` means the
    // exec'd process is in that very cgroup (elsewhere it would read `/..` or a path below).
    const cgroups = r.stdout.split('\n').filter((l) => /^\d+:[^:]*:/.test(l));
    expect(cgroups.length).toBeGreaterThan(0);
    for (const line of cgroups) expect(line).toMatch(/:\/$/);
    // Docker's default set (0xa80425fb), not the full set root on the host has.
    expect(r.stdout).toMatch(/^CapEff:\s+00000000a80425fb$/m);
    expect(r.stdout).toMatch(/^CapBnd:\s+00000000a80425fb$/m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0');
  });

  it("passes the exit code through: the command's own, 127 when not found, 126 when it cannot run", () => {
    expect(exec(['ex', 'a', '--', 'sh', '-c', 'exit 7']).code).toBe(7);
    const nf = exec(['ex', 'a', '--', 'no-such-command']);
    expect(nf.code).toBe(127);
    expect(nf.stderr).toMatch(/^minipod: ex\/a: exec: "no-such-command": executable file not found in \$PATH\n$/);
    expect(exec(['ex', 'a', '--', '/etc/passwd']).code).toBe(126);
    expect(exec(['ex', 'a', '--', 'sh', '-c', 'kill -9 $$']).code).toBe(137);
  });

  it('applies -e, -u and -w', () => {
    const r = exec([
      '-e',
      'GREETING=hi',
      '-e',
      'PATH=/bin',
      '-u',
      '1000:1001',
      '-w',
      '/home/work',
      'ex',
      'a',
      '--',
      'sh',
      '-c',
      'echo "$GREETING $PATH"; id -u; id -g; pwd',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hi /bin\n1000\n1001\n/home/work\n');
    const missing = exec(['-w', '/no/such/dir', 'ex', 'a', '--', 'true']);
    expect(missing.code).toBe(126);
    expect(missing.stderr).toMatch(/workdir \/no\/such\/dir/);
  });

  it('gives stdin only with -i', () => {
    const withI = exec(['-i', 'ex', 'b', '--', 'sh', '-c', 'cat; echo end'], 'line one\nline two\n');
    expect(withI.stdout).toBe('line one\nline two\nend\n');
    const withoutI = exec(['ex', 'b', '--', 'sh', '-c', 'cat; echo end'], 'ignored\n');
    expect(withoutI.stdout).toBe('end\n');
  });

  it('refuses a pod or container that does not exist or does not run, with one line', () => {
    const noPod = exec(['nope', 'a', '--', 'true']);
    expect(noPod.code).toBe(125);
    expect(noPod.stderr).toBe('minipod: pod "nope" does not exist\n');
    const noContainer = exec(['ex', 'zz', '--', 'true']);
    expect(noContainer.code).toBe(125);
    expect(noContainer.stderr).toMatch(/^minipod: pod "ex" has no container "zz".*\n$/);
    const notRunning = exec(['ex', 'done', '--', 'true']);
    expect(notRunning.code).toBe(125);
    expect(notRunning.stderr).toBe('minipod: container "done" of pod "ex" is not running\n');
  });

  it.skipIf(!hasScript)("-t gives a pseudo-terminal of the container's own devpts, with our window size", () => {
    const cmd = `stty rows 30 cols 90; ${MINIPOD} exec -t ex a -- sh -c 'tty; stty size; echo TERM=$TERM; exit 4'`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      env: t.env,
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+\r*\n/);
    expect(r.stdout).toMatch(/30 90\r*\n/);
    expect(r.stdout).toMatch(/TERM=xterm\r*\n/);
    expect(r.status).toBe(4);
  });

  it.skipIf(!hasTmux)('-it is a usable shell: line editing, Ctrl-C, window size changes, exit code', async () => {
    const sock = `minipod-exec-${process.pid}`;
    const exitFile = path.join(t.dir, 'tmux-exit');
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' });
    const pane = () => tmux('capture-pane', '-p', '-t', 'x');
    const envs = ['MINIPOD_RUN_DIR', 'MINIPOD_LIB_DIR', 'MINIPOD_LOG_DIR', 'MINIPOD_CNI_CONF_DIR'].map((k) => `${k}=${t.env[k]}`).join(' ');
    tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      'x',
      '-x',
      '100',
      '-y',
      '30',
      `env ${envs} ${MINIPOD} exec -it ex a -- sh; echo $? > ${exitFile}; sleep 60`,
    );
    try {
      await waitFor('a prompt', () => /^\/ #/m.test(pane()), 10_000);
      tmux('send-keys', '-t', 'x', 'stty size; tty', 'Enter');
      await waitFor('stty size', () => /^30 100$/m.test(pane()) && /^\/dev\/pts\/\d+$/m.test(pane()), 5_000);
      tmux('send-keys', '-t', 'x', 'sleep 100', 'Enter');
      await new Promise((r) => setTimeout(r, 500));
      tmux('send-keys', '-t', 'x', 'C-c');
      tmux('send-keys', '-t', 'x', 'echo status=$?', 'Enter');
      await waitFor('Ctrl-C to interrupt sleep', () => /^status=130$/m.test(pane()), 5_000);
      tmux('resize-window', '-t', 'x', '-x', '120', '-y', '40');
      await new Promise((r) => setTimeout(r, 300));
      tmux('send-keys', '-t', 'x', 'stty size', 'Enter');
      await waitFor('the new size', () => /^40 120$/m.test(pane()), 5_000);
      tmux('send-keys', '-t', 'x', 'exit 3', 'Enter');
      const code = await waitFor('the exit code', () => fs.existsSync(exitFile) && fs.readFileSync(exitFile, 'utf8').trim(), 10_000);
      expect(code).toBe('3');
    } finally {
      try {
        tmux('kill-server');
      } catch {
        // Already gone.
      }
    }
    // Nothing of the exec stays behind in the container.
    await waitFor('no "sleep 100" left', () => !/^sleep 100$/m.test(exec(['ex', 'a', '--', 'ps', '-o', 'args']).stdout), 5_000);
  });

  it('stops with the pod', async () => {
    run.kill('SIGTERM');
    expect(await runExit).toBe(143);
    expect(exec(['ex', 'a', '--', 'true']).code).toBe(125);
  });
});
