import { ControlMessage, FileEntry } from '@ephemeral/protocol';
import { MAX_CONTROL_MESSAGE_BYTES } from '../rtc/control-channel';
import { ManifestAssembler, manifestParts } from './manifest-parts';

function tree(count: number): FileEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    name: `file-${i}.ts`,
    relativePath: `project/src/module-${i % 10}/part-${Math.floor(i / 10) % 100}/file-${i}.ts`,
    size: 1024 + i,
    type: 'text/plain',
    lastModifiedUnixMs: 1_764_000_000_000 + i,
  }));
}

describe('manifestParts', () => {
  it('sends a small manifest as one message without `more`', () => {
    const parts = manifestParts(tree(3));
    expect(parts).toHaveLength(1);
    expect(parts[0].more).toBe(false);
    expect(parts[0].files.map((f) => f.id)).toEqual([1, 2, 3]);
  });

  it('sends an empty manifest as one empty part', () => {
    expect(manifestParts([])).toEqual([{ files: [], more: false }]);
  });

  it('splits 10 000 entries into messages the control channel accepts, in order', () => {
    const files = tree(10_000);
    const whole = ControlMessage.encode({
      kind: { $case: 'manifest', value: { files, more: false } },
    }).finish().length;
    // The reason for parts: one message would be refused.
    expect(whole).toBeGreaterThan(MAX_CONTROL_MESSAGE_BYTES);
    const parts = manifestParts(files);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      const bytes = ControlMessage.encode({ kind: { $case: 'manifest', value: part } }).finish();
      expect(bytes.length).toBeLessThanOrEqual(MAX_CONTROL_MESSAGE_BYTES);
    }
    expect(parts.map((p) => p.more)).toEqual([...parts.slice(1).map(() => true), false]);
    expect(parts.flatMap((p) => p.files.map((f) => f.id))).toEqual(files.map((f) => f.id));
  });
});

describe('ManifestAssembler', () => {
  it('returns the whole list only with the last part, then starts afresh', () => {
    const assembler = new ManifestAssembler();
    const [a, b] = [tree(2), tree(4).slice(2)];
    expect(assembler.add({ files: a, more: true })).toBeNull();
    expect(assembler.add({ files: b, more: false })?.map((f) => f.id)).toEqual([1, 2, 3, 4]);
    expect(assembler.add({ files: a, more: false })?.map((f) => f.id)).toEqual([1, 2]);
  });

  it('drops a manifest that grows past its bound instead of holding it', () => {
    const assembler = new ManifestAssembler(3);
    expect(assembler.add({ files: tree(2), more: true })).toBeNull();
    expect(assembler.add({ files: tree(2), more: true })).toBeNull();
    // What came after the drop is a fresh manifest.
    expect(assembler.add({ files: tree(1), more: false })?.map((f) => f.id)).toEqual([1]);
  });
});
