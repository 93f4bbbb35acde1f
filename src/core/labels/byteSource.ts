import { open, type FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInflateRaw } from 'node:zlib';
import { LabelFileError } from './types';

/**
 * Bytes a binary reader pulls from: a file, a stored entry of a zip at an offset, or a
 * deflated entry decompressed on the fly. `read` fills `target` from `position` and returns
 * how many bytes it got (fewer only at the end). Sequential sources accept only increasing
 * positions with no gaps; `random` says which kind a source is.
 */
export interface ByteSource {
  readonly size: number;
  readonly random: boolean;
  read(target: Uint8Array, position: number): Promise<number>;
  close(): Promise<void>;
}

/** A file, or a window [start, start + size) of it. */
export class FileSource implements ByteSource {
  readonly random = true;
  private constructor(
    private readonly handle: FileHandle,
    private readonly start: number,
    readonly size: number,
    private readonly owned: boolean,
  ) {}

  static async open(file: string): Promise<FileSource> {
    const handle = await open(file, 'r');
    const { size } = await handle.stat();
    return new FileSource(handle, 0, size, true);
  }

  /** A window of this file that shares its handle (closing it leaves the file open). */
  window(start: number, size: number): FileSource {
    return new FileSource(this.handle, this.start + start, size, false);
  }

  async read(target: Uint8Array, position: number): Promise<number> {
    const want = Math.max(0, Math.min(target.length, this.size - position));
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(target, got, want - got, this.start + position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got;
  }

  async close(): Promise<void> {
    if (this.owned) await this.handle.close();
  }
}

/** A raw-deflate stream (a zip entry), decompressed as it is read; sequential only. */
export class InflateSource implements ByteSource {
  readonly random = false;
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private consumed = 0;
  private readonly stream: ReturnType<typeof createInflateRaw>;

  constructor(
    private readonly file: string,
    private readonly start: number,
    compressedSize: number,
    readonly size: number,
  ) {
    const raw = createReadStream(file, { start, end: start + compressedSize - 1 });
    this.stream = createInflateRaw();
    raw.on('error', (e) => this.stream.destroy(e));
    this.chunks = raw.pipe(this.stream)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async read(target: Uint8Array, position: number): Promise<number> {
    if (position !== this.consumed) {
      throw new Error(`InflateSource reads sequentially: asked for byte ${position}, at ${this.consumed}`);
    }
    let got = 0;
    while (got < target.length) {
      if (this.pending.length === 0) {
        const next = await this.chunks.next().catch((e: unknown) => {
          throw new LabelFileError(this.file, `the compressed data is corrupt (${e instanceof Error ? e.message : String(e)})`, {
            byteOffset: this.start,
          });
        });
        if (next.done) break;
        this.pending = next.value;
      }
      const n = Math.min(this.pending.length, target.length - got);
      target.set(this.pending.subarray(0, n), got);
      this.pending = this.pending.subarray(n);
      got += n;
    }
    this.consumed += got;
    return got;
  }

  async close(): Promise<void> {
    this.stream.destroy();
    await Promise.resolve();
  }
}
