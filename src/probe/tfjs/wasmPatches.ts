/**
 * Kernels the tfjs wasm backend (4.22.0) lacks, or has only in slow forms, that training needs.
 *
 * - Conv2DBackpropFilter (the filter gradient of every Conv2D) is re-expressed as wasm's own
 *   Conv2D on transposed tensors: it is a correlation of the input with the output gradient,
 *   i.e. a forward convolution, so it runs at XNNPACK speed.
 * - Faster paths in front of slow wasm kernels: Conv2DBackpropInput at stride 1 (a forward
 *   conv), BatchMatMul with a transposed operand (an explicit transpose, then the fast path),
 *   MaxPoolGrad (one JavaScript pass), Identity (shared data instead of a copy: the engine clones
 *   every tensor a gradient saves). Transposes run as plain loops over the wasm heap: wasm's
 *   Transpose and other data-movement kernels are slower than that.
 * - Rarer ones (depthwise conv gradients, UnsortedSegmentSum = the gradient of gather, as in
 *   Embedding layers, Einsum) are bridged to the cpu backend: copy in, run its kernel, copy out.
 *
 * All use internal kernel APIs (getKernel, backend.write/readSync/disposeData, the wasm heap);
 * tfjs is pinned to an exact version, and test/unit/tfjsPatches.test.ts checks each against the
 * cpu backend.
 */
import type * as tfcore from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

type Core = typeof tfcore;

/** Kernels bridged to the cpu backend when the wasm backend has none. */
export const CPU_BRIDGED_KERNELS = [
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'Einsum',
] as const;

/** Every kernel this module may register for wasm. */
export const PATCHED_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', 'MaxPoolGrad', 'Identity', ...CPU_BRIDGED_KERNELS] as const;

interface DataBackend extends KernelBackend {
  write(values: tfcore.backend_util.BackendValues | null, shape: number[], dtype: tfcore.DataType): tfcore.DataId;
  readSync(dataId: tfcore.DataId): tfcore.backend_util.BackendValues;
  disposeData(dataId: tfcore.DataId, force?: boolean): boolean;
}

/** Registers the missing kernels for 'wasm' (idempotent). Returns the names it registered now. */
export function applyWasmPatches(tf: Core): string[] {
  const added: string[] = [];
  const register = (kernelName: string, kernelFunc: KernelFunc) => {
    if (tf.getKernel(kernelName, 'wasm')) return;
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    added.push(kernelName);
  };
  register('Conv2DBackpropFilter', (args) => conv2DBackpropFilter(tf, args.inputs, args.backend as DataBackend, args.attrs ?? {}));
  // wasm has its own Conv2DBackpropInput, but a naive loop (bench/wasmKernels.bench.ts): for
  // stride 1 run it as a forward conv instead, keeping the original for the other cases.
  wrap(tf, 'Conv2DBackpropInput', added, (args) => conv2DBackpropInput(tf, args.inputs, args.backend as DataBackend, args.attrs ?? {}));
  // A transposed operand (every dense layer's gradients: dY·Wᵀ and Xᵀ·dY) sends wasm's
  // BatchMatMul down a loop slower than an explicit transpose plus its fast path (the bench).
  wrap(tf, 'BatchMatMul', added, (args, original) => batchMatMul(tf, args.inputs, args.backend as DataBackend, args.attrs ?? {}, original));
  // wasm's MaxPoolGrad is slower than one loop over the heap in JavaScript (the bench).
  wrap(tf, 'MaxPoolGrad', added, (args) => maxPoolGrad(tf, args.inputs, args.backend as DataBackend, args.attrs ?? {}));
  // The engine clones every tensor a gradient saves (Identity), and wasm's Identity copies the
  // data; share it instead, as the cpu backend and wasm's own Reshape do (tensors are immutable).
  wrap(tf, 'Identity', added, (args) => identity(args.inputs, args.backend as DataBackend));
  for (const name of CPU_BRIDGED_KERNELS) register(name, (args) => cpuBridge(tf, name, args.inputs, args.backend as DataBackend, args.attrs ?? {}));
  return added;
}

/**
 * Puts a faster path in front of an existing wasm kernel (once: a second call sees the mark):
 * `fast` returns null where it does not apply, and the original kernel runs.
 */
function wrap(tf: Core, name: string, added: string[], fast: (args: Parameters<KernelFunc>[0], original: KernelFunc) => TensorInfo | null): void {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel || (kernel.kernelFunc as { patched?: boolean }).patched) return;
  const original = kernel.kernelFunc;
  const func: KernelFunc = (args) => fast(args, original) ?? original(args);
  Object.assign(func, { patched: true, original });
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...kernel, kernelFunc: func });
  added.push(name);
}

/** The wasm kernel a faster path was put in front of (bench/wasmKernels.bench.ts times both). */
export function originalWasmKernel(tf: Core, name: string): KernelFunc | undefined {
  return (tf.getKernel(name, 'wasm')?.kernelFunc as { original?: KernelFunc } | undefined)?.original;
}

/** Runs another wasm kernel directly (no engine bookkeeping: the caller frees what it makes). */
function runWasm(tf: Core, name: string, backend: DataBackend, inputs: NamedTensorInfoMap, attrs: NamedAttrMap): TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} is missing`);
  return k.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

/**
 * dW[i,j,c,o] = Σ_{b,y,x} xPadded[b, y·sh + i, x·sw + j, c] · dy[b, y, x, o].
 * With the input as [c, H, W, b] (channels as batch, batch as channels) and dy as a filter
 * [oh, ow, b, o] dilated by the forward stride, that sum is a stride-1 forward conv whose output
 * [c, kh, kw, o] is dW with its first two axes swapped.
 */
function conv2DBackpropFilter(tf: Core, inputs: NamedTensorInfoMap, backend: DataBackend, attrs: NamedAttrMap): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tfcore.Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm patch): only NHWC is supported');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const viaMatMul = filterGradByMatMul(tf, x, dy, info, backend);
  if (viaMatMul) return viaMatMul;
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const { top, left } = info.padInfo;
  // Pad the far edges just enough for a kh × kw output (never more than the forward pass did).
  const bottom = Math.max(0, kh + (info.outHeight - 1) * info.strideHeight - info.inHeight - top);
  const right = Math.max(0, kw + (info.outWidth - 1) * info.strideWidth - info.inWidth - left);
  const temps: TensorInfo[] = [];
  try {
    const xT = transpose(tf, backend, x, [3, 1, 2, 0]);
    temps.push(xT);
    const dyT = transpose(tf, backend, dy, [1, 2, 0, 3]);
    temps.push(dyT);
    const conv = runWasm(tf, 'Conv2D', backend, { x: xT, filter: dyT }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [info.strideHeight, info.strideWidth],
      dimRoundingMode: undefined as unknown as string,
    });
    temps.push(conv);
    let cut = conv;
    if (conv.shape[1] !== kh || conv.shape[2] !== kw) {
      cut = runWasm(tf, 'Slice', backend, { x: conv }, { begin: [0, 0, 0, 0], size: [conv.shape[0], kh, kw, conv.shape[3]] });
      temps.push(cut);
    }
    return transpose(tf, backend, cut, [1, 2, 0, 3]);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Above `im2colMaxEntries` (default 2^25: 128 MB of float32) the im2col matrix is not built (tests lower it to reach the other path). */
export const wasmPatchLimits = { im2colMaxEntries: 1 << 25 };

/**
 * dW as one matrix product, X_colᵀ · dY: X_colᵀ [kh·kw·cin, B·oh·ow] holds, for each filter tap
 * and input channel, the input values that tap meets at every output position (zeros in the
 * padding), written in one pass over the wasm heap; dY is [B·oh·ow, cout] as it lies. The
 * product's rows come out in the filter's own (kh, kw, cin) order. On the cnn preset's first
 * conv (one input channel) this is much faster than the forward conv on transposed tensors
 * below, whose 28×28 "filter" over one "batch" row is a poor shape for XNNPACK; on its second,
 * on par (bench/wasmKernels.bench.ts).
 * Null where the heap API is missing or the matrix would be too big (then that conv runs).
 */
function filterGradByMatMul(tf: Core, x: TensorInfo, dy: TensorInfo, info: tfcore.backend_util.Conv2DInfo, backend: DataBackend): TensorInfo | null {
  const heap = heapOf(backend);
  if (!heap || x.dtype !== 'float32' || dy.dtype !== 'float32' || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  const [B, H, W, C] = x.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, outChannels: co } = info;
  const { top, left } = info.padInfo;
  const rows = kh * kw * C;
  const cols = B * oh * ow;
  if (rows * cols > wasmPatchLimits.im2colMaxEntries) return null;
  const temps: TensorInfo[] = [];
  try {
    const colT = heap.makeOutput([rows, cols], 'float32');
    temps.push(colT);
    const src = heap.typedArrayFromHeap(x);
    const dst = heap.typedArrayFromHeap(colT);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const tap = (i * kw + j) * C * cols;
        let col = 0;
        for (let b = 0; b < B; b++) {
          for (let y = 0; y < oh; y++) {
            const r = y * sh - top + i;
            for (let xo = 0; xo < ow; xo++, col++) {
              const q = xo * sw - left + j;
              if (r < 0 || r >= H || q < 0 || q >= W) {
                for (let c = 0; c < C; c++) dst[tap + c * cols + col] = 0;
                continue;
              }
              const base = ((b * H + r) * W + q) * C;
              for (let c = 0; c < C; c++) dst[tap + c * cols + col] = src[base + c];
            }
          }
        }
      }
    }
    const dy2 = runWasm(tf, 'Reshape', backend, { x: dy }, { shape: [cols, co] });
    temps.push(dy2);
    const dw = runWasm(tf, 'BatchMatMul', backend, { a: colT, b: dy2 }, { transposeA: false, transposeB: false });
    temps.push(dw);
    return runWasm(tf, 'Reshape', backend, { x: dw }, { shape: [kh, kw, C, co] });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * With stride 1, dx = conv(dy padded by k−1−pad, the filter rotated 180° with its in/out
 * channels swapped). Returns null (use the original kernel) for strides > 1 or odd padding.
 */
function conv2DBackpropInput(tf: Core, inputs: NamedTensorInfoMap, backend: DataBackend, attrs: NamedAttrMap): TensorInfo | null {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tfcore.Conv2DBackpropInputAttrs;
  if (dataFormat === 'NCHW') return null;
  const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return null;
  const [kh, kw] = [info.filterHeight, info.filterWidth];
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = info.inHeight - info.outHeight + kh - 1 - top;
  const right = info.inWidth - info.outWidth + kw - 1 - left;
  if (Math.min(top, left, bottom, right) < 0) return null;
  const temps: TensorInfo[] = [];
  try {
    const rot = runWasm(tf, 'Reverse', backend, { x: filter }, { dims: [0, 1] });
    temps.push(rot);
    const w = transpose(tf, backend, rot, [0, 1, 3, 2]);
    temps.push(w);
    return runWasm(tf, 'Conv2D', backend, { x: dy, filter: w }, {
      strides: [1, 1],
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined as unknown as string,
    });
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Identity as a second reference to the same data (null, i.e. wasm's copy, for strings). */
function identity(inputs: NamedTensorInfoMap, backend: DataBackend): TensorInfo | null {
  const { x } = inputs as { x: TensorInfo };
  const b = backend as DataBackend & { incRef?: (dataId: tfcore.DataId) => void };
  if (x.dtype === 'string' || typeof b.incRef !== 'function') return null;
  b.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** The wasm backend's own memory API (tfjs-backend-wasm 4.22, pinned): outputs and heap views. */
interface WasmHeap extends DataBackend {
  makeOutput(shape: number[], dtype: tfcore.DataType): TensorInfo;
  /** A view into the wasm heap: valid until the heap grows (make outputs first, then view). */
  typedArrayFromHeap(t: TensorInfo): tfcore.TypedArray;
}

function heapOf(backend: DataBackend): WasmHeap | null {
  const b = backend as Partial<WasmHeap>;
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function' ? (backend as WasmHeap) : null;
}

/**
 * Transpose (rank ≤ 4) as a plain loop over the wasm heap, faster than wasm's own Transpose
 * kernel on the shapes training makes (bench/wasmKernels.bench.ts); that kernel where the heap
 * API is missing.
 */
function transpose(tf: Core, backend: DataBackend, t: TensorInfo, perm: number[]): TensorInfo {
  const heap = heapOf(backend);
  if (!heap || t.shape.length > 4 || t.dtype !== 'float32') return runWasm(tf, 'Transpose', backend, { x: t }, { perm });
  const lead = 4 - t.shape.length;
  const shape = [...Array<number>(lead).fill(1), ...t.shape];
  const p = [...Array.from({ length: lead }, (_, i) => i), ...perm.map((i) => i + lead)];
  const strides = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const os = p.map((i) => shape[i]);
  const st = p.map((i) => strides[i]);
  const out = heap.makeOutput(perm.map((i) => t.shape[i]), 'float32');
  const src = heap.typedArrayFromHeap(t);
  const dst = heap.typedArrayFromHeap(out);
  let o = 0;
  for (let a = 0; a < os[0]; a++) {
    for (let b = 0; b < os[1]; b++) {
      for (let c = 0; c < os[2]; c++) {
        let i = a * st[0] + b * st[1] + c * st[2];
        for (let d = 0; d < os[3]; d++, i += st[3]) dst[o++] = src[i];
      }
    }
  }
  return out;
}

/**
 * A·B with the transposed operand(s) made explicit, then the kernel's untransposed path.
 */
function batchMatMul(tf: Core, inputs: NamedTensorInfoMap, backend: DataBackend, attrs: NamedAttrMap, original: KernelFunc): TensorInfo | null {
  const { a, b } = inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = attrs as unknown as tfcore.BatchMatMulAttrs;
  if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length > 4 || b.shape.length > 4) return null;
  const temps: TensorInfo[] = [];
  const swapLast = (t: TensorInfo): TensorInfo => {
    const perm = t.shape.map((_, i) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    const out = transpose(tf, backend, t, perm);
    temps.push(out);
    return out;
  };
  try {
    const a2 = transposeA ? swapLast(a) : a;
    const b2 = transposeB ? swapLast(b) : b;
    return original({ inputs: { a: a2, b: b2 }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } }) as TensorInfo;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * The gradient of a 2-D max pool (NHWC, any window, stride, padding or dilation), as the cpu
 * kernel defines it: each window's dy goes to the window's first maximum in row-major order
 * (overlapping windows add up; a window with no value above -∞, or NaN only, passes nothing).
 * One pass over the windows in plain JavaScript on the wasm heap (faster than wasm's kernel on
 * the cnn preset's pools: bench/wasmKernels.bench.ts).
 */
function maxPoolGrad(tf: Core, inputs: NamedTensorInfoMap, backend: DataBackend, attrs: NamedAttrMap): TensorInfo | null {
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tfcore.MaxPoolGradAttrs;
  const heap = heapOf(backend);
  if (!heap || input.dtype !== 'float32' || dy.dtype !== 'float32' || input.shape.length !== 4) return null;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const [B, H, W, C] = input.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const out = heap.makeOutput(input.shape, 'float32');
  const x = heap.typedArrayFromHeap(input);
  const g = heap.typedArrayFromHeap(dy);
  const dx = heap.typedArrayFromHeap(out);
  dx.fill(0);
  // Per window: the offsets of its in-bounds positions in row-major order; per channel, a
  // scalar running maximum (a strict '>' keeps the first of equal values, as the cpu kernel).
  if (info.filterHeight === 2 && info.filterWidth === 2 && sh === 2 && sw === 2 && dh === 1 && dw === 1 && top === 0 && left === 0) {
    // The common 2×2, stride 2, unpadded pool: four fixed offsets per window, no inner loop.
    const row = W * C;
    let gi = 0;
    for (let b = 0; b < B; b++) {
      for (let yr = 0; yr < oh; yr++) {
        let p00 = (b * H + 2 * yr) * row;
        for (let yc = 0; yc < ow; yc++, p00 += 2 * C) {
          const p01 = p00 + C;
          const p10 = p00 + row;
          const p11 = p10 + C;
          for (let c = 0; c < C; c++, gi++) {
            // As the general loop below: strict '>' from -Infinity, unrolled over the window.
            let best = -Infinity;
            let at = -1;
            let v = x[p00 + c];
            if (v > best) {
              best = v;
              at = p00 + c;
            }
            v = x[p01 + c];
            if (v > best) {
              best = v;
              at = p01 + c;
            }
            v = x[p10 + c];
            if (v > best) {
              best = v;
              at = p10 + c;
            }
            v = x[p11 + c];
            if (v > best) at = p11 + c;
            if (at >= 0) dx[at] = g[gi]; // the windows do not overlap
          }
        }
      }
    }
    return out;
  }
  const offsets = new Int32Array(info.filterHeight * info.filterWidth);
  for (let b = 0; b < B; b++) {
    for (let yr = 0; yr < oh; yr++) {
      for (let yc = 0; yc < ow; yc++) {
        let n = 0;
        for (let wr = 0; wr < info.filterHeight; wr++) {
          const xr = yr * sh - top + wr * dh;
          if (xr < 0 || xr >= H) continue;
          for (let wc = 0; wc < info.filterWidth; wc++) {
            const xc = yc * sw - left + wc * dw;
            if (xc >= 0 && xc < W) offsets[n++] = ((b * H + xr) * W + xc) * C;
          }
        }
        const gBase = ((b * oh + yr) * ow + yc) * C;
        for (let c = 0; c < C; c++) {
          let best = -Infinity;
          let at = -1;
          for (let p = 0; p < n; p++) {
            const i = offsets[p] + c;
            const v = x[i];
            if (v > best) {
              best = v;
              at = i;
            }
          }
          if (at >= 0) dx[at] += g[gBase + c];
        }
      }
    }
  }
  return out;
}

/** Runs a cpu kernel on copies of wasm tensors and copies its output(s) back. */
function cpuBridge(tf: Core, name: string, inputs: NamedTensorInfoMap, backend: DataBackend, attrs: NamedAttrMap): TensorInfo | TensorInfo[] {
  const cpu = tf.engine().findBackend('cpu') as DataBackend | null;
  const kernel = tf.getKernel(name, 'cpu');
  if (!cpu || !kernel) throw new Error(`${name} is not available on the wasm backend, and the cpu backend to bridge it to is missing`);
  // Einsum's inputs are a list, the others a name → tensor map; keep the same shape.
  const cpuInputs = (Array.isArray(inputs) ? [] : {}) as NamedTensorInfoMap;
  const made: TensorInfo[] = [];
  try {
    for (const [key, t] of Object.entries(inputs)) {
      const copy = (ti: TensorInfo): TensorInfo => {
        const info = { dataId: cpu.write(backend.readSync(ti.dataId), ti.shape, ti.dtype), shape: ti.shape, dtype: ti.dtype };
        made.push(info);
        return info;
      };
      (cpuInputs as Record<string, unknown>)[key] = copy(t as TensorInfo);
    }
    const out = kernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs });
    const outs = Array.isArray(out) ? out : [out];
    made.push(...outs);
    const back = outs.map((o) => ({ dataId: backend.write(cpu.readSync(o.dataId), o.shape, o.dtype), shape: o.shape, dtype: o.dtype }));
    return Array.isArray(out) ? back : back[0];
  } finally {
    for (const t of made) cpu.disposeData(t.dataId, true);
  }
}
