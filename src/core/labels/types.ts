/**
 * The common shape of every soft-label reader: an async stream of chunks of rows, each chunk
 * a row-major Float64Array of rows × K, read in bounded memory whatever the file's size.
 */

/** A file that cannot be read as soft labels. The message names the file and the place. */
export class LabelFileError extends Error {
  readonly file: string;
  /** 0-based byte offset of the problem, for binary formats. */
  readonly byteOffset: number | undefined;
  /** 1-based line and column of the problem, for text formats. */
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(file: string, message: string, where: { byteOffset?: number; line?: number; column?: number } = {}) {
    const place =
      where.line !== undefined
        ? `:${where.line}${where.column !== undefined ? `:${where.column}` : ''}`
        : where.byteOffset !== undefined
          ? ` (byte ${where.byteOffset})`
          : '';
    super(`${file}${place}: ${message}`);
    this.name = 'LabelFileError';
    this.file = file;
    this.byteOffset = where.byteOffset;
    this.line = where.line;
    this.column = where.column;
  }
}

/** The read was cancelled through its AbortSignal. */
export class ReadCancelled extends Error {
  constructor(file: string) {
    super(`${file}: reading cancelled`);
    this.name = 'ReadCancelled';
  }
}

export interface ReadOptions {
  /** Cancels the read; the reader throws ReadCancelled at its next chunk. */
  signal?: AbortSignal;
  /** Called after each chunk with the bytes consumed so far and the file's size. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  /** About how many rows a chunk holds (default 65 536). */
  chunkRows?: number;
  /** .npz: the array to read (default: the only one, else the first 2-D one). */
  array?: string;
  /** .csv/.tsv/.parquet: the columns to read, by name or 1-based index ("2-11", "p0,p1,p2"). */
  columns?: string;
  /** .jsonl/.json: the field of each object that holds the vector (default: detected). */
  field?: string;
  /** Integer class labels: the number of classes K (default: max label + 1). */
  classes?: number;
}

export interface LabelChunk {
  /** Row-major values, rows × K. */
  data: Float64Array;
  rows: number;
  K: number;
  /** 0-based index of this chunk's first row in the file. */
  firstRow: number;
  /** Text formats: the 1-based line of each row in the file. */
  lines?: Int32Array;
}

/** What a reader knows about the file before the rows: the format and, where known, the shape. */
export interface LabelSourceInfo {
  format: 'npy' | 'npz' | 'csv' | 'tsv' | 'jsonl' | 'json' | 'parquet';
  K: number;
  /** The number of rows, where the header says it. */
  rows?: number;
  /** How the values were read, e.g. "float32 little-endian, C order" or "columns p0…p9". */
  description: string;
}

export interface LabelSource {
  info: LabelSourceInfo;
  chunks(): AsyncGenerator<LabelChunk>;
}

export const DEFAULT_CHUNK_ROWS = 65_536;

export function checkCancelled(file: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ReadCancelled(file);
}
