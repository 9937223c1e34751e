/**
 * `minipod explain POD [--format text|json|svg|dot]`: the pod as the kernel sees it. The
 * snapshot is read here (src/explain/read-pod.ts) and rendered by a pure renderer.
 */
import { UserError } from '../errors.js';
import { readPodSnapshot } from '../explain/read-pod.js';
import { renderDot } from '../explain/render-dot.js';
import { renderSvg } from '../explain/render-svg.js';
import { renderText } from '../explain/render-text.js';
import { minipodPaths } from '../paths.js';
import { requireRoot } from './report.js';

export const EXPLAIN_FORMATS = ['text', 'json', 'svg', 'dot'] as const;

export function explainCommand(pod: string, options: { format?: string }): number {
  const format = options.format ?? 'text';
  if (!(EXPLAIN_FORMATS as readonly string[]).includes(format)) {
    throw new UserError(`--format: "${format}" is not one of ${EXPLAIN_FORMATS.join(', ')}`, { code: 'usage' });
  }
  // /proc/PID/ns, mountinfo and the pod's network namespace of root's processes need root.
  requireRoot();
  const snapshot = readPodSnapshot(minipodPaths(), pod);
  const out =
    format === 'json'
      ? `${JSON.stringify(snapshot, null, 2)}\n`
      : format === 'svg'
        ? renderSvg(snapshot)
        : format === 'dot'
          ? renderDot(snapshot)
          : renderText(snapshot);
  process.stdout.write(out);
  return 0;
}
