import { FileEntry } from '@ephemeral/protocol';
import { FileProgress } from '../transfer/receive/download-queue';

const ACTIVE = new Set(['queued', 'downloading', 'verifying']);

/**
 * What a screen reader should hear when the progress moved from `before`
 * to `after`: a download starting, each file verified or failed, the whole
 * batch finishing. Never the bytes or percent that change many times a
 * second (those are in the progress bars for whoever looks).
 */
export function downloadMilestones(
  before: ReadonlyMap<number, FileProgress>,
  after: ReadonlyMap<number, FileProgress>,
  files: readonly FileEntry[],
): string[] {
  const out: string[] = [];
  const nameOf = (id: number) => files.find((f) => f.id === id)?.relativePath ?? 'A file';
  const wasActive = [...before.values()].some((p) => ACTIVE.has(p.state));
  const isActive = [...after.values()].some((p) => ACTIVE.has(p.state));
  if (!wasActive && isActive) {
    const count = [...after.values()].filter((p) => ACTIVE.has(p.state)).length;
    out.push(count === 1 ? 'Download started.' : `Download of ${count} files started.`);
  }
  for (const [id, p] of after) {
    const old = before.get(id)?.state;
    if (old === p.state) continue;
    if (p.state === 'verified') out.push(`${nameOf(id)} received and verified.`);
    else if (p.state === 'failed') out.push(`${nameOf(id)} failed.`);
  }
  if (wasActive && !isActive) {
    const verified = [...after.values()].filter((p) => p.state === 'verified').length;
    out.push(
      verified === after.size
        ? 'All downloads finished.'
        : `Downloads finished: ${verified} of ${after.size} files received.`,
    );
  }
  return out;
}
