/**
 * For unit specs: a picked File as the app reads it (name, size, type,
 * lastModified and `slice(a, b).arrayBuffer()`), over `bytes`. `size` may
 * claim more than `bytes` holds: a big file whose contents a spec never reads.
 */
export function fakeFile(name: string, bytes: Uint8Array, size = bytes.length): File {
  return {
    name,
    size,
    type: 'application/octet-stream',
    lastModified: 0,
    slice: (a: number, b: number) => ({ arrayBuffer: async () => bytes.slice(a, b).buffer }),
  } as unknown as File;
}
