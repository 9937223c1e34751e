/**
 * What a `minipod-oci` subcommand is: its flags and a run function, loaded lazily (see
 * core-commands.ts and client-commands.ts). `start` sits on the pod start path, so nothing a
 * subcommand does not need is imported before it runs.
 */
import type { FlagSpec, ParsedArgs } from './args.js';
import type { OciLog } from './log.js';

export interface GlobalOptions {
  /** Where container state lives, runc's --root (default /run/minipod-oci). */
  root: string;
  /** --log FILE: log lines go there (containerd's shim reads the last error line). */
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
}

export interface CommandContext {
  global: GlobalOptions;
  log: OciLog;
  /** argv[0..1] as given, to re-run ourselves (run's helper chain does not need it; tests do). */
  argv: readonly string[];
}

export interface OciCommand {
  flags: readonly FlagSpec[];
  /**
   * Flags end at the first operand (runc's SkipArgReorder): `exec ID sh -c ...` and `ps ID -o
   * pid` pass what follows the id to the command.
   */
  stopAtFirstOperand?: boolean;
  /** Resolves with the exit code. Errors thrown are printed and logged as runc does (exit 1). */
  run(ctx: CommandContext, args: ParsedArgs): Promise<number> | number;
}

export interface CommandEntry {
  summary: string;
  load(): Promise<OciCommand>;
}

export type CommandTable = Readonly<Record<string, CommandEntry>>;
