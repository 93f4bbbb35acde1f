/** The lint engine's public surface (CLI, editor integration). */
export * from './types';
export { lintText, languageOf } from './engine';
export { RULES } from './rules';
export { wasmPaths } from './parser';
