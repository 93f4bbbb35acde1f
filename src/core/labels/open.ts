import { extname } from 'node:path';
import { openNpy } from './npy';
import { openNpz } from './npz';
import { LabelFileError, type LabelSource, type ReadOptions } from './types';

/** The file types Loss Lens reads soft labels from, by extension. */
export const LABEL_EXTENSIONS = ['.npy', '.npz', '.csv', '.tsv', '.jsonl', '.ndjson', '.json', '.parquet'] as const;

/** Opens a soft-label file by its extension; a file that cannot be opened is a LabelFileError. */
export async function openLabels(file: string, opts: ReadOptions = {}): Promise<LabelSource> {
  try {
    return await openByExtension(file, opts);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new LabelFileError(file, 'no such file');
    if (code === 'EACCES' || code === 'EPERM') throw new LabelFileError(file, 'permission denied');
    if (code === 'EISDIR') throw new LabelFileError(file, 'is a directory, not a file');
    throw e;
  }
}

async function openByExtension(file: string, opts: ReadOptions): Promise<LabelSource> {
  const ext = extname(file).toLowerCase();
  switch (ext) {
    case '.npy':
      return openNpy(file, opts);
    case '.npz':
      return openNpz(file, opts);
    case '.csv':
    case '.tsv':
    case '.txt':
      return (await import('./csv')).openCsv(file, opts);
    case '.jsonl':
    case '.ndjson':
      return (await import('./jsonl')).openJsonl(file, opts);
    case '.json':
      return (await import('./jsonStream')).openJson(file, opts);
    case '.parquet':
      return (await import('./parquet')).openParquet(file, opts);
    default:
      throw new LabelFileError(file, `unknown file type '${ext || '(none)'}'; soft labels are read from ${LABEL_EXTENSIONS.join(', ')}`);
  }
}
