/**
 * The PyTorch helper that the "use the CC loss" quick fix inserts (src/core/lint/helpers),
 * run as the user would run it: its source written to a temporary cc_loss.py and imported by a
 * Python with PyTorch (CI: Debian's python3-torch), against the float64 core. PyTorch is a
 * requirement here: without it the suite fails with the reason (see torchEnv.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CC_HELPERS } from '../../src/core/lint/helpers';
import { coreReference, gradError, lossError, makeHelperCases, TOLERANCE } from '../fixtures/cc-helpers/cases';
import { runPython, torchPython } from '../fixtures/torch/torchEnv';

// Reads one JSON case per line; answers per-row losses and d(sum of losses)/dz, computed in the
// case's dtype. Then the checks that need no reference values, as one JSON object.
const DRIVER = String.raw`
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
from cc_loss import cc_nll

out = []
for line in sys.stdin:
    c = json.loads(line)
    dt = getattr(torch, c["dtype"])
    z = torch.tensor(c["z"], dtype=dt, requires_grad=True)
    y = torch.tensor(c["y"], dtype=dt)
    loss = cc_nll(z, y, reduction="none")
    loss.sum().backward()
    out.append({"dtype": str(loss.dtype), "loss": loss.tolist(), "grad": z.grad.tolist()})

g = torch.Generator().manual_seed(5)
z = torch.randn(4, 6, dtype=torch.float64, generator=g)
y = torch.rand(4, 6, dtype=torch.float64, generator=g)
y = y / y.sum(-1, keepdim=True)
rows = cc_nll(z, y, reduction="none")
checks = {
    "mean": [cc_nll(z, y).item(), rows.mean().item()],
    "sum": [cc_nll(z, y, reduction="sum").item(), rows.sum().item()],
    "shape": list(cc_nll(z.reshape(2, 2, 6), y.reshape(2, 2, 6), reduction="none").shape),
    "batched_equal": bool(torch.equal(cc_nll(z.reshape(2, 2, 6), y.reshape(2, 2, 6), reduction="none").reshape(-1), rows)),
}
zz = z.clone().requires_grad_()
cc_nll(zz, y).backward()
zs = z.clone().requires_grad_()
cc_nll(zs, y, reduction="sum").backward()
checks["mean_grad_is_sum_over_B"] = bool(torch.allclose(zz.grad * 4, zs.grad, rtol=0, atol=1e-15))
# gradcheck: finite differences against the custom backward, for logits and targets, with one
# near-uniform row (spread 1e-3) among random ones.
zg = torch.cat([z[:2, :4], torch.full((1, 4), 0.3, dtype=torch.float64) + 1e-3 * torch.rand(1, 4, dtype=torch.float64, generator=g)])
yg = y[:3, :4] / y[:3, :4].sum(-1, keepdim=True)
checks["gradcheck"] = torch.autograd.gradcheck(lambda a, b: cc_nll(a, b, reduction="none"), (zg.requires_grad_(), yg.clone().requires_grad_()), eps=1e-6, atol=1e-8)
zn = z.clone()
zn[1, 2] = float("inf")
zn[2, 0] = float("nan")
zn.requires_grad_()
ln = cc_nll(zn, y, reduction="none")
ln.sum().backward()
checks["nonfinite_rows_nan"] = [bool(v) for v in torch.isnan(ln)]
checks["finite_rows_unchanged"] = bool(torch.equal(ln[[0, 3]], rows[[0, 3]]))
checks["nonfinite_grad_nan"] = bool(torch.isnan(zn.grad[1]).all() and torch.isnan(zn.grad[2]).all() and torch.isfinite(zn.grad[[0, 3]]).all())
try:
    cc_nll(torch.tensor([[0.0, 2e6]]), torch.tensor([[0.5, 0.5]]))
    checks["spread_error"] = "no error"
except ValueError as e:
    checks["spread_error"] = str(e)
checks["float32_dtype"] = str(cc_nll(z.float(), y.float()).dtype)
# dim: the class axis of (N, C, L) inputs, as F.cross_entropy has it; the same rows as with the
# classes moved last, the gradient back in place, and the mean over N * L like cross_entropy's.
z3 = torch.randn(2, 6, 3, dtype=torch.float64, generator=g).requires_grad_()
y3 = torch.rand(2, 6, 3, dtype=torch.float64, generator=g)
y3 = y3 / y3.sum(1, keepdim=True)
r3 = cc_nll(z3, y3, reduction="none", dim=1)
r3.sum().backward()
zl = z3.detach().movedim(1, -1).clone().requires_grad_()
rl = cc_nll(zl, y3.movedim(1, -1), reduction="none")
rl.sum().backward()
checks["dim_shape"] = list(r3.shape)
checks["dim_rows_equal"] = bool(torch.equal(r3.detach(), rl.detach()))
checks["dim_grad_equal"] = bool(torch.equal(z3.grad, zl.grad.movedim(-1, 1)))
checks["dim_mean"] = [cc_nll(z3.detach(), y3, dim=1).item(), r3.detach().mean().item()]
try:
    cc_nll(torch.zeros(6), torch.full((6,), 1 / 6), dim=1)
    checks["dim_error"] = "no error"
except IndexError as e:
    checks["dim_error"] = str(e)
print(json.dumps({"cases": out, "checks": checks}))
`;

interface Checks {
  mean: [number, number];
  sum: [number, number];
  shape: number[];
  batched_equal: boolean;
  mean_grad_is_sum_over_B: boolean;
  gradcheck: boolean;
  nonfinite_rows_nan: boolean[];
  finite_rows_unchanged: boolean;
  nonfinite_grad_nan: boolean;
  spread_error: string;
  float32_dtype: string;
  dim_shape: number[];
  dim_rows_equal: boolean;
  dim_grad_equal: boolean;
  dim_mean: [number, number];
  dim_error: string;
}

describe('PyTorch CC helper (cc_loss.py) against the float64 core', () => {
  const cases = makeHelperCases(['float32', 'float64']);
  const dir = mkdtempSync(join(tmpdir(), 'cc-helper-torch-'));
  let answer: { cases: { dtype: string; loss: number[]; grad: number[][] }[]; checks: Checks };

  before(async () => {
    const helper = CC_HELPERS.pytorch;
    writeFileSync(join(dir, helper.fileName), helper.source);
    writeFileSync(join(dir, 'driver.py'), DRIVER);
    const { python } = await torchPython();
    const input = cases.map((c) => JSON.stringify({ z: c.z, y: c.y, dtype: c.dtype })).join('\n') + '\n';
    answer = JSON.parse(await runPython(python, [join(dir, 'driver.py'), dir], input, 300_000)) as typeof answer;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('matches the core in value and gradient for K ∈ {2, 10, 100, 1000}, spreads 0 … 100, float32 and float64', () => {
    assert.equal(answer.cases.length, cases.length);
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const got = answer.cases[i];
      const want = coreReference(c);
      assert.equal(got.dtype, `torch.${c.dtype}`, 'the result keeps the logits dtype');
      const le = lossError(got.loss, want.loss);
      const ge = gradError(got.grad.flat(), want.grad);
      if (!(le <= TOLERANCE[c.dtype] && ge <= TOLERANCE[c.dtype])) {
        failures.push(`K=${c.K} spread=${c.spread} ${c.dtype}: loss err ${le.toExponential(2)}, grad err ${ge.toExponential(2)}`);
      }
    });
    assert.deepEqual(failures, []);
  });

  it('reduces by mean (default) and sum, keeps leading dimensions with none', () => {
    const { mean, sum, shape, batched_equal, mean_grad_is_sum_over_B } = answer.checks;
    assert.ok(Math.abs(mean[0] - mean[1]) <= 1e-15 * Math.max(1, Math.abs(mean[1])), `mean ${mean[0]} vs ${mean[1]}`);
    assert.ok(Math.abs(sum[0] - sum[1]) <= 1e-15 * Math.max(1, Math.abs(sum[1])), `sum ${sum[0]} vs ${sum[1]}`);
    assert.deepEqual(shape, [2, 2]);
    assert.ok(batched_equal, 'a (2, 2, K) batch gives the same rows as (4, K)');
    assert.ok(mean_grad_is_sum_over_B);
    assert.equal(answer.checks.float32_dtype, 'torch.float32');
  });

  it('takes the class axis as dim (F.cross_entropy has it at 1): the same rows and gradient as with the classes last', () => {
    const { dim_shape, dim_rows_equal, dim_grad_equal, dim_mean, dim_error } = answer.checks;
    assert.deepEqual(dim_shape, [2, 3]);
    assert.ok(dim_rows_equal, 'rows of (N, C, L) with dim=1 equal those of the classes moved last');
    assert.ok(dim_grad_equal, 'the gradient comes back on the class axis');
    assert.ok(Math.abs(dim_mean[0] - dim_mean[1]) <= 1e-15 * Math.max(1, Math.abs(dim_mean[1])), `mean ${dim_mean[0]} vs ${dim_mean[1]}`);
    assert.match(dim_error, /[Dd]imension out of range/);
  });

  it('passes torch.autograd.gradcheck in float64 (logits and targets)', () => {
    assert.equal(answer.checks.gradcheck, true);
  });

  it('gives NaN (loss and gradient) for rows with a non-finite logit, and leaves the others alone', () => {
    assert.deepEqual(answer.checks.nonfinite_rows_nan, [false, true, true, false]);
    assert.ok(answer.checks.finite_rows_unchanged);
    assert.ok(answer.checks.nonfinite_grad_nan);
  });

  it('refuses a logit spread above 1e6 with a clear error', () => {
    assert.match(answer.checks.spread_error, /spread over 2e\+06 > 1e\+06/);
  });
});
