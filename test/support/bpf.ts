/**
 * A classic BPF interpreter for seccomp programs, so unit tests can ask a compiled filter what
 * it decides for a syscall (number, architecture, arguments) without loading it.
 */

export interface SeccompCall {
  nr: number;
  /** AUDIT_ARCH_* value; x86_64 by default. */
  arch?: number;
  args?: (number | bigint)[];
}

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;

function seccompData(call: SeccompCall): Buffer {
  const d = Buffer.alloc(64);
  d.writeInt32LE(call.nr, 0);
  d.writeUInt32LE(call.arch ?? AUDIT_ARCH_X86_64, 4);
  (call.args ?? []).forEach((a, i) => d.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), 16 + 8 * i));
  return d;
}

/** Runs the program on one call; returns the filter's 32-bit return value. */
export function runSeccompProgram(program: Buffer, call: SeccompCall): number {
  const data = seccompData(call);
  const mem = new Uint32Array(16);
  let A = 0;
  let X = 0;
  for (let pc = 0, steps = 0; pc * 8 < program.length; pc++) {
    if (++steps > 100_000) throw new Error('BPF program does not terminate');
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    const cls = code & 0x07;
    const src = code & 0x08 ? X : k;
    switch (cls) {
      case 0x00: // LD
      case 0x01: {
        // LDX
        const mode = code & 0xe0;
        let v: number;
        if (mode === 0x00) v = k;
        else if (mode === 0x20) v = data.readUInt32LE(k);
        else if (mode === 0x60) v = mem[k]!;
        else if (mode === 0x80) v = 64;
        else throw new Error(`unsupported load 0x${code.toString(16)}`);
        if (cls === 0x00) A = v;
        else X = v;
        break;
      }
      case 0x02:
        mem[k] = A;
        break;
      case 0x03:
        mem[k] = X;
        break;
      case 0x04: {
        // ALU
        const op = code & 0xf0;
        const ops: Record<number, (a: number, b: number) => number> = {
          0x00: (a, b) => a + b,
          0x10: (a, b) => a - b,
          0x20: (a, b) => Math.imul(a, b),
          0x30: (a, b) => Math.floor(a / b),
          0x40: (a, b) => a | b,
          0x50: (a, b) => a & b,
          0x60: (a, b) => a << b,
          0x70: (a, b) => a >>> b,
          0x80: (a) => -a,
          0x90: (a, b) => a % b,
          0xa0: (a, b) => a ^ b,
        };
        const f = ops[op];
        if (!f) throw new Error(`unsupported ALU 0x${code.toString(16)}`);
        A = f(A, src) >>> 0;
        break;
      }
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const cond = op === 0x10 ? A === src : op === 0x20 ? A > src : op === 0x30 ? A >= src : op === 0x40 ? (A & src) !== 0 : undefined;
        if (cond === undefined) throw new Error(`unsupported jump 0x${code.toString(16)}`);
        pc += cond ? jt : jf;
        break;
      }
      case 0x06:
        return (code & 0x18) === 0x10 ? A : (code & 0x18) === 0x08 ? X : k;
      case 0x07:
        if (code & 0x80) A = X;
        else X = A;
        break;
    }
  }
  throw new Error('BPF program fell off its end');
}

/** A filter decision in words: `allow`, `errno 1`, `kill`, ... */
export function decision(ret: number): string {
  const action = (ret & 0xffff0000) >>> 0;
  const data = ret & 0xffff;
  if (action === 0x7fff0000) return 'allow';
  if (action === 0x00050000) return `errno ${data}`;
  if (action === 0x80000000) return 'kill-process';
  if (action === 0x00000000) return 'kill';
  if (action === 0x00030000) return 'trap';
  if (action === 0x7ffc0000) return 'log';
  if (action === 0x7ff00000) return `trace ${data}`;
  return `0x${ret.toString(16)}`;
}
