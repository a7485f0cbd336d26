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
  // Built once per call, when a name is needed: a find() per changed file
  // cost O(files) each, quadratic over ten thousand files.
  let byId: Map<number, FileEntry> | null = null;
  const nameOf = (id: number) => {
    byId ??= new Map(files.map((f) => [f.id, f]));
    return byId.get(id)?.relativePath ?? $localize`:@@milestone.aFile:A file`;
  };
  const wasActive = isActive(before);
  const active = isActive(after);
  if (!wasActive && active) {
    const count = [...after.values()].filter((p) => ACTIVE.has(p.state)).length;
    out.push(
      count === 1
        ? $localize`:@@milestone.startedOne:Download started.`
        : $localize`:@@milestone.startedMany:Download of ${count}:COUNT: files started.`,
    );
  }
  for (const [id, p] of after) {
    const old = before.get(id)?.state;
    if (old === p.state) continue;
    const name = nameOf(id);
    if (p.state === 'verified')
      out.push($localize`:@@milestone.verified:${name}:NAME: received and verified.`);
    else if (p.state === 'failed') out.push($localize`:@@milestone.failed:${name}:NAME: failed.`);
  }
  if (finishedBatch(before, after)) {
    const verified = [...after.values()].filter((p) => p.state === 'verified').length;
    const total = after.size;
    out.push(
      verified === total
        ? $localize`:@@milestone.allDone:All downloads finished.`
        : $localize`:@@milestone.someDone:Downloads finished: ${verified}:VERIFIED: of ${total}:TOTAL: files received.`,
    );
  }
  return out;
}

function isActive(progress: ReadonlyMap<number, FileProgress>): boolean {
  return [...progress.values()].some((p) => ACTIVE.has(p.state));
}

/** The last file of a batch settled: nothing is waiting or downloading any more. */
export function finishedBatch(
  before: ReadonlyMap<number, FileProgress>,
  after: ReadonlyMap<number, FileProgress>,
): boolean {
  return isActive(before) && !isActive(after);
}
