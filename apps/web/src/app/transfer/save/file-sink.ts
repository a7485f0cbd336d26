/**
 * Where a download's bytes go: a file on disk, a stream, or memory. The
 * caller reuses `data`'s memory once `write` resolved, so a sink that keeps
 * bytes must copy them.
 */
export interface FileSink {
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** Opens one streamed browser download (the download service worker). */
export interface ByteStreamOpener {
  openStream(name: string, type: string): Promise<FileSink>;
}
