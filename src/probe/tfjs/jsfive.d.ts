// The small part of jsfive (a pure-JS HDF5 reader, untyped) that kerasArchive.ts uses.
declare module 'jsfive' {
  export class Group {
    readonly keys: string[];
    get(path: string): Group | Dataset | null;
  }
  export class Dataset {
    readonly value: ArrayLike<number> | ArrayLike<bigint>;
    readonly shape: number[];
    readonly dtype: string | unknown[];
  }
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename: string);
  }
}
