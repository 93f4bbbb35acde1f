export { loadDataset, targetsFor, isCancelled, type ProbeDataset, type LoadOptions } from './data';
export { evaluateLogits, evaluateLogitsDetailed, ECE_BINS, DEFAULT_NAIVE_ROWS, type EvalDetail } from './metrics';
export { debiasedEma } from './smoothing';
export { summarizeRun, buildTable, formatTable } from './table';
export { readIdxFile, parseIdx, IdxFormatError, type IdxArray } from './idx';
export { Rng, DATA_SEED } from './rng';
