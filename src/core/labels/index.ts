export * from './types';
export * from './open';
export * from './stats';
export { openNpy } from './npy';
export { openNpz } from './npz';
