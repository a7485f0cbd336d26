import { FileEntry } from '@ephemeral/protocol';
import { FileProgress } from '../transfer/receive/download-queue';
import { downloadMilestones } from './milestones';

const files = [
  { id: 1, relativePath: 'a.txt' },
  { id: 2, relativePath: 'dir/b.bin' },
] as FileEntry[];

function progress(...list: [number, FileProgress['state'], number?][]): Map<number, FileProgress> {
  return new Map(
    list.map(([fileId, state, bytes = 0]) => [
      fileId,
      {
        fileId,
        state,
        bytes,
        size: 100,
        bytesPerSecond: 0,
        secondsLeft: null,
        error: null,
        sha256: null,
      },
    ]),
  );
}

describe('downloadMilestones', () => {
  it('announces the start once, not each byte', () => {
    const started = progress([1, 'downloading', 10], [2, 'queued']);
    expect(downloadMilestones(new Map(), started, files)).toEqual(['Download of 2 files started.']);
    expect(
      downloadMilestones(started, progress([1, 'downloading', 60], [2, 'queued']), files),
    ).toEqual([]);
  });

  it('announces each file verified or failed, then the end of the batch', () => {
    const before = progress([1, 'downloading', 90], [2, 'queued']);
    const mid = progress([1, 'verified', 100], [2, 'downloading']);
    expect(downloadMilestones(before, mid, files)).toEqual(['a.txt received and verified.']);
    const end = progress([1, 'verified', 100], [2, 'failed']);
    expect(downloadMilestones(mid, end, files)).toEqual([
      'dir/b.bin failed.',
      'Downloads finished: 1 of 2 files received.',
    ]);
  });

  it('says all finished when every file verified', () => {
    const before = progress([1, 'verifying', 100]);
    expect(downloadMilestones(before, progress([1, 'verified', 100]), files)).toEqual([
      'a.txt received and verified.',
      'All downloads finished.',
    ]);
  });
});
