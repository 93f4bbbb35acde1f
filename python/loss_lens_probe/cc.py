"""The continuous-categorical (CC) negative log-likelihood as a PyTorch training loss.

    cc_nll(z, y) = log exp[z] - y.z,   exp[z] = sum_k e^{z_k} / prod_{j != k} (z_k - z_j)

exp[z] is the divided difference of exp at the nodes z. The naive formula above cancels
catastrophically when nodes are close, and every network outputs nearly equal logits at
initialization, so it is evaluated instead (as in the extension's src/core/cc/series.ts) by a
series with only non-negative terms. With c = min z and x = z - c >= 0:

    exp[z] = e^c / (K-1)! * S,   S = sum_{m>=0} t_m,   t_m = G_m[K-1]
    G_0 = 1 (every prefix),      G_m = cumsum(x * G_{m-1}) / (m + K - 1)

(G_m[j] is the complete homogeneous polynomial of degree m in x_0..x_j, times
(K-1)!/(m+K-1)!.) Equal or clustered nodes cost nothing: there is no subtraction anywhere.

Gradient: d log exp[z] / dz = mu(z), the CC mean, from a second positive series over the same
terms (src/core/cc/mean.ts): with rho = max x, w = x / rho and p_n = t_n / S,
    mu_j  proportional to  sum_i g_i w_j^i,   g_i = sum_n p_n rho^i / ((n+K)(n+K+1)...(n+K+i)).
Everything runs in float64 whatever the input dtype, vectorised over the rows.
"""
import math
import threading

import torch

from . import native

MAX_SPREAD = 1e6
# Above this spread the series terms can pass e^600; the table is then rescaled per row.
_RESCALE_SPREAD = 600.0
_TWO_600 = 2.0 ** 600
_LN_TWO_600 = 600.0 * math.log(2.0)
_LOG_STOP = -57.0 * math.log(2.0)
_BLOCK = 4
_PENDING_MAX = 2.0 ** 40


def series_terms(rho):
    """How many terms M make the tail after t_M negligible (< 2^-56 of S) for spreads <= rho.

    Why it holds for every K and every node layout: t_m = rho^m a_m / m! with a_m in [0, 1]
    decreasing in m, so tail/S <= P(Poisson(rho) > M) / P(Poisson(rho) <= M), and for M >= rho
    the denominator is >= 1/2 and the numerator <= pmf(M+1) / (1 - rho/(M+2)). The mean's
    series g_i has the same shape and is bounded the same way.
    """
    if rho <= 0:
        return 0
    log_rho = math.log(rho)

    def enough(m):
        q = rho / (m + 2)
        return q < 1 and -rho + (m + 1) * log_rho - math.lgamma(m + 2) - math.log1p(-q) < _LOG_STOP

    # For m >= rho both factors of the bound decrease with m, so the least M is found by
    # bisection (a dozen evaluations, not hundreds: this runs on every call).
    lo = max(1, int(math.ceil(rho)))
    if enough(lo):
        return lo
    span = int(8 * math.sqrt(rho)) + 32
    hi = lo + span
    while not enough(hi):
        lo, span = hi, 2 * span
        hi = lo + span
    while hi - lo > 1:  # enough(hi), not enough(lo)
        mid = (lo + hi) // 2
        if enough(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _check_spread(rho_max):
    if rho_max > MAX_SPREAD:
        raise ValueError(
            f"the logit spread max(z) - min(z) = {rho_max:.6g} exceeds {MAX_SPREAD:.0e}; "
            "logits this far apart are outside what the CC loss evaluates"
        )


def _forward_series(x, M, rescale):
    """The terms t_0..t_M of each row as (terms, log_scale): true t_m = terms * e^log_scale."""
    B, K = x.shape
    # Two buffers reused for every degree (no new B x K tensor per operation).
    G = torch.ones_like(x)
    tmp = torch.empty_like(x)
    terms = x.new_empty(B, M + 1)
    terms[:, 0] = 1.0
    log_scale = x.new_zeros(B, M + 1) if rescale else None
    running = x.new_zeros(B) if rescale else None
    down, one = x.new_tensor(1.0 / _TWO_600), x.new_tensor(1.0)
    # The division by (m + K - 1) and the rescale check touch all of G, so they run once per
    # block of degrees: G holds the true G_m times `pending`, the divisors not yet applied
    # (kept below 2^40). Bounds: a degree multiplies the true G by at most rho <= 2^20, so a
    # block of 4 from <= 2^600 stays below 2^680 (2^720 with pending); without rescaling
    # (spread <= 600) every true term is <= rho^m/m! <= e^600, and e^600 * 2^40 < 2^1023.
    pending = 1.0
    since = 0
    for m in range(1, M + 1):
        torch.mul(x, G, out=tmp)
        torch.cumsum(tmp, dim=-1, out=G)
        pending *= m + K - 1
        torch.mul(G[:, -1], 1.0 / pending, out=terms[:, m])
        since += 1
        if m == M or since == _BLOCK or pending * (m + K) > _PENDING_MAX:
            if rescale:
                # Per-row, branch-free: no host sync inside the loop. The stored terms keep their
                # values before the (exact, power-of-two) rescale; their scale is the running one.
                log_scale[:, m - since + 1 : m + 1] = running.unsqueeze(-1)
                big = terms[:, m] > _TWO_600
                # (Tensors, not Python floats: torch.where would make those float32, and 2^-600 is 0.)
                G.mul_((torch.where(big, down, one) / pending).unsqueeze(-1))
                running.add_(big.to(x.dtype) * _LN_TWO_600)
            else:
                G.mul_(1.0 / pending)
            pending = 1.0
            since = 0
    return terms, log_scale



# Above _RESCALE_SPREAD with at least two chunks of columns, the table keeps one binary exponent
# per chunk of _CHUNK columns and row (as src/core/cc/series.ts keeps one per run of columns).
# One exponent per row is not enough there: at large K and spread a low column can sit more than
# 2^-1074 below the top (h_m of a few variables against h_m of all, a ratio like
# C(m+j, m)/C(m+K, m)) and would underflow, yet the share of later degrees that falls in those
# first j variables is about j/K, so the sum would lose most of its mass (at K = 1000 with nodes
# (0, rho, ..., rho) and rho = 10000, 167 nats). Within a chunk of 32 columns that ratio stays
# above 2^-700 for every spread up to MAX_SPREAD.
_CHUNK = 32


def _forward_series_chunked(x, M):
    """_forward_series with rescaling, the table in chunks with their own exponents. Returns
    (terms, log_scale) as _forward_series does."""
    B, K = x.shape
    C = _CHUNK
    nc = -(-K // C)
    Kp = nc * C
    xp = x.new_zeros(B, Kp)
    xp[:, :K] = x  # padded columns (x = 0) repeat the last real column: the top is unchanged
    xs = xp.view(B, nc, C)
    G = x.new_ones(B, nc, C)  # true G = stored * 2^e (per row and chunk)
    e = x.new_zeros(B, nc)
    tmp = torch.empty_like(G)
    terms = x.new_empty(B, M + 1)
    log_scale = x.new_zeros(B, M + 1)
    terms[:, 0] = 1.0
    ln2 = math.log(2.0)
    neg_inf = x.new_full((B, 1), -math.inf)
    for m in range(1, M + 1):
        torch.mul(xs, G, out=tmp)
        torch.cumsum(tmp, dim=-1, out=G)
        # What the earlier chunks add to each chunk, in its own scale: an exclusive running sum of
        # the chunk totals, in logs (a chunk total far below a later chunk underflows to 0 there,
        # below 2^-1074 of what it is added to: negligible, and it stays so).
        lt = torch.log(G[:, :, -1]) + e * ln2
        carry = torch.logcumsumexp(torch.cat([neg_inf, lt[:, :-1]], dim=-1), dim=-1)
        G.add_(torch.exp(carry - e * ln2).unsqueeze(-1))
        G.mul_(1.0 / (m + K - 1))
        # Each chunk back to a largest entry in [1/2, 1) (exact powers of two; all-zero chunks,
        # whose nodes are all 0, keep theirs).
        mant, k = torch.frexp(G.amax(dim=-1))
        k = torch.where(mant > 0, k, torch.zeros_like(k)).to(x.dtype)
        G.mul_(torch.exp2(-k).unsqueeze(-1))
        e.add_(k)
        terms[:, m] = G[:, -1, C - 1]
        log_scale[:, m] = e[:, -1] * ln2
    return terms, log_scale


def _series_terms_table(x, M, rescale):
    """The series terms by _forward_series, or by the chunked table where it is needed."""
    if rescale and x.shape[-1] >= 2 * _CHUNK:
        return _forward_series_chunked(x, M)
    return _forward_series(x, M, rescale)

def _log_sum(terms, log_scale):
    """log S, the normalized terms p_n = t_n / S, and (rescaled rows) their logs."""
    if log_scale is None:
        tail = terms[:, 1:].sum(dim=-1)
        # log1p keeps full relative precision when S is close to 1 (tiny spreads).
        log_s = torch.log1p(tail)
        p = terms / (1.0 + tail).unsqueeze(-1)
        return log_s, p, None
    log_t = torch.log(terms) + log_scale
    log_s = torch.logsumexp(log_t, dim=-1)
    log_p = log_t - log_s.unsqueeze(-1)
    return log_s, torch.exp(log_p), log_p


# How the mean is evaluated: "table" builds the coefficient and power tables with two cumprods
# (a handful of kernels: best on a GPU, where each launch costs more than the arithmetic),
# "loop" runs the same recursions one degree at a time (less memory: best on a CPU); "auto"
# picks by device. Both give the same numbers to rounding; the tests run both.
MEAN_METHOD = "auto"
# Whether rows with K >= _CONTOUR_MIN_K try the contour integral first (see below); the tests
# turn it off to check the series on the same rows.
CONTOUR = True
_TABLE_ELEMENTS = 1 << 24


def _mean_coefficients_table(p, rho, K, M):
    """g_i = sum_n p_n c_{n,i}, c_{n,0} = 1/(n+K), c_{n,i} = c_{n,i-1} rho/(n+K+i)."""
    n = torch.arange(M + 1, dtype=p.dtype, device=p.device)
    ratio = rho.view(-1, 1, 1) / (n.view(1, -1, 1) + K + n.view(1, 1, -1))
    ratio[:, :, 0] = 1.0 / (n + K)
    return torch.einsum("bn,bni->bi", p, torch.cumprod(ratio, dim=-1))


def _mean_coefficients_loop(p, rho, K, M):
    n = torch.arange(M + 1, dtype=p.dtype, device=p.device)
    r = rho.unsqueeze(-1)
    q = p / (n + K)
    gs = []
    for i in range(M + 1):
        gs.append(q.sum(dim=-1))
        if i < M:
            q.mul_(r).div_(n + K + i + 1)
    return torch.stack(gs, dim=-1)


def _mean_coefficients_logloop(log_p, rho, K, M):
    """The loop above with q carried as its logarithm: beyond spread ~700 the early terms p_n
    underflow (they are about e^-rho), yet their power series grows by up to e^rho, so their
    contribution to mu is not negligible; in logs nothing underflows before it matters."""
    n = torch.arange(M + 1, dtype=log_p.dtype, device=log_p.device)
    log_r = torch.log(rho).unsqueeze(-1)
    log_q = log_p - torch.log(n + K)
    buf = torch.empty_like(log_q)
    gs = []
    for i in range(M + 1):
        gs.append(torch.exp(log_q, out=buf).sum(dim=-1))
        if i < M:
            log_q.add_(log_r).sub_(torch.log(n + K + i + 1))
    return torch.stack(gs, dim=-1)


# Up to this batch spread the mean's coefficients come from one matrix product (below).
# Up to spread 700 every normalized term p_n >= e^-rho stays a normal float64 (> 2^-1022), so
# the product below is exact whether or not the forward pass rescaled; beyond, the early terms
# underflow and the product in logs (below) takes over. (Checked against the core at 680 and 700.)
_GEMM_SPREAD = 700.0


_LGAMMA = {}


def _lgamma_table(n, like):
    """lgamma(0..n-1) (at least) as a tensor like `like`, cached per dtype and device."""
    key = (like.dtype, like.device)
    t = _LGAMMA.get(key)
    if t is None or t.numel() < n:
        t = torch.lgamma(torch.arange(max(n, 4096), dtype=like.dtype, device=like.device))
        _LGAMMA[key] = t
    return t


def _shared_table(R, K, M, row_log_scale, like):
    """E_{n,i} = e^(a_n - shift) R^i (n+K-1)!/(n+K+i)! for n, i = 0..M, built in logs: the
    row term from a cached lgamma table and the (n+i) term as a Hankel view of the same table,
    then one exp. The constant shift (cancelled by mu's normalization) puts the peak just below
    2^1000/(M+2), so that the Horner sums of up to M+1 such numbers cannot overflow; entries that
    would be subnormal (which would make the product very slow) are set to 0: they are below
    2^-1700 of the peak, negligible in a sum of positives."""
    LG = _lgamma_table(2 * M + K + 3, like)
    i = torch.arange(M + 1, dtype=like.dtype, device=like.device)
    row = LG[K : K + M + 1]
    if row_log_scale is not None:
        row = row + row_log_scale
    log_e = (row.unsqueeze(-1) + i * math.log(R)) - LG[K + 1 :].as_strided((M + 1, M + 1), (1, 1))
    log_e -= float(log_e.max()) - (1000.0 * math.log(2.0) - math.log(M + 2))
    e = torch.exp(log_e)
    return e.masked_fill_(log_e < -700.0, 0.0)


def _mean_coefficients_gemm(p, R, K, M):
    """g_i = sum_n p_n E_{n,i} for all rows at once, E_{n,i} = R^i (n+K-1)!/(n+K+i)! (scaled).

    With the batch's largest spread R in place of each row's own, E is the same for every row,
    so the O(M^2) sums are one (B x (M+1)) @ ((M+1) x (M+1)) product instead of M+1 passes.
    """
    return p @ _shared_table(R, K, M, None, p)


# Beyond _GEMM_SPREAD the same product in logs: each column n of the terms is scaled by its
# largest row (so no p underflows) and that scale moved into E. The entries of E then span about
# e^R, which float64 holds up to R ~ 1390; above _LOG_GEMM_SPREAD the slow log-domain loop runs.
_LOG_GEMM_SPREAD = 1300.0


def _mean_coefficients_loggemm(log_p, R, K, M):
    # The largest row of each column (<= 0). A column whose terms all underflowed to 0 (the far
    # tail of a batch of one row) has -inf there; it takes 0, so that its entries stay exp(-inf) = 0.
    a = log_p.max(dim=0).values
    a = torch.where(torch.isfinite(a), a, torch.zeros_like(a))
    return torch.exp(log_p - a) @ _shared_table(R, K, M, a, log_p)


def _horner(g, w, M):
    """mu from its coefficients: sum_i g_i w^i by Horner, one fused multiply-add per degree
    (every g_i >= 0 and w in [0, 1], so nothing cancels), normalized to sum 1."""
    B, K = w.shape
    acc = g[:, M : M + 1].expand(B, K).clone()
    for i in range(M - 1, -1, -1):
        torch.addcmul(g[:, i : i + 1], acc, w, out=acc)
    return acc / acc.sum(dim=-1, keepdim=True)


def _mean(x, rho, p, M, rescale, R=None, log_p=None):
    """The CC mean mu (B x K) from the normalized terms p (B x (M+1))."""
    B, K = x.shape
    if R is not None and 0 < R <= _GEMM_SPREAD:
        # Horner in x/R with the shared coefficients.
        return _horner(_mean_coefficients_gemm(p, R, K, M), (x / R).clamp_(max=1.0), M)
    if R is not None and log_p is not None and _GEMM_SPREAD < R <= _LOG_GEMM_SPREAD:
        return _horner(_mean_coefficients_loggemm(log_p, R, K, M), (x / R).clamp_(max=1.0), M)
    safe = torch.where(rho > 0, rho, torch.ones_like(rho))
    w = (x / safe.unsqueeze(-1)).clamp_(max=1.0)  # a uniform row has x = 0, so w = 0 there
    if log_p is not None:
        return _horner(_mean_coefficients_logloop(log_p, safe, K, M), w, M)
    method = MEAN_METHOD if MEAN_METHOD != "auto" else ("table" if x.is_cuda else "loop")
    # Without rescaling rho <= 600, so c_{n,i} <= rho^i/i! <= e^600 cannot overflow in the table.
    if method == "table" and not rescale and B * (M + 1) * max(M + 1, K) <= _TABLE_ELEMENTS:
        g = _mean_coefficients_table(p, rho, K, M)
        if M == 0:
            acc = g[:, :1].expand(B, K)
        else:
            # mu_j = g_0 + sum_{i>=1} g_i w_j^i, the powers by a cumprod (all factors in [0, 1]).
            powers = torch.cumprod(w.unsqueeze(-1).expand(B, K, M), dim=-1)
            acc = g[:, :1] + torch.bmm(powers, g[:, 1:].unsqueeze(-1)).squeeze(-1)
        return acc / acc.sum(dim=-1, keepdim=True)
    return _horner(_mean_coefficients_loop(p, rho, K, M), w, M)


class _LogSeries(torch.autograd.Function):
    """log S(x) for float64 rows x >= 0 with min x = 0; gradient mu(x)."""

    @staticmethod
    def forward(ctx, x, rho, M, rescale, R=None):
        terms, log_scale = _series_terms_table(x, M, rescale)
        log_s, p, log_p = _log_sum(terms, log_scale)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(_mean(x, rho, p, M, rescale, R, log_p))
        return log_s

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        (mu,) = ctx.saved_tensors
        return grad_out.unsqueeze(-1) * mu, None, None, None, None


_U = 2.0 ** -53
# Partial fractions for small K whose nodes are far apart: CC training drives logits there
# (spreads in the hundreds), where the series is long and these are O(K^2) and exact.
_PF_MAX_K = 32


def _partial_fractions(z):
    """log exp[z] and mu by partial fractions (as src/core/cc/partialFraction.ts), for float64
    rows z (B x K, finite), with a per-row flag where the rounding-error bound proves both
    within 3e-14 (log exp relative, mu absolute); elsewhere the values are unspecified.

    t_k = e^{z_k - hi} / prod_{i!=k} (z_k - z_i),  S = sum t_k,
    mu_j = [sum_{k!=j} t_k / (z_k - z_j) + t_j (1 - sum_{i!=j} 1/(z_j - z_i))] / S."""
    B, K = z.shape
    hi = z.max(dim=-1, keepdim=True).values
    d = z.unsqueeze(-1) - z.unsqueeze(-2)  # d[b, k, i] = z_k - z_i
    eye = torch.eye(K, dtype=torch.bool, device=z.device)
    t = torch.exp(z - hi) / d.masked_fill(eye, 1.0).prod(dim=-1)
    S = t.sum(dim=-1)
    A = t.abs().sum(dim=-1)
    log_s = torch.log(S)
    s_rel = (3 * K + 4) * _U * A / S
    ok = (S > 0) & torch.isfinite(A) & (s_rel <= 3e-14 * (hi.squeeze(-1) + log_s).abs().clamp_min(1.0))
    r = 1.0 / d.masked_fill(eye, float("inf"))  # r[b, k, i] = 1/(z_k - z_i), 0 on the diagonal
    tr = t.unsqueeze(-1) * r  # tr[b, k, j] = t_k / (z_k - z_j)
    # sum_{i!=j} 1/(z_j - z_i) = sum_i r[b, j, i]
    num = tr.sum(dim=-2) + t * (1.0 - r.sum(dim=-1))
    a = tr.abs().sum(dim=-2) + t.abs() * (1.0 + r.abs().sum(dim=-1))
    mu = num / S.unsqueeze(-1)
    err = (5 * K + 10) * _U * a / S.unsqueeze(-1) + mu.abs() * s_rel.unsqueeze(-1) + _U
    ok = ok & (err <= 3e-14).all(dim=-1) & (mu >= 0).all(dim=-1) & torch.isfinite(mu).all(dim=-1)
    return log_s, hi.squeeze(-1), mu, ok


class _LogExpPF(torch.autograd.Function):
    """log exp[z] - hi (hi = max z, a constant) for rows the partial fractions proved;
    gradient mu."""

    @staticmethod
    def forward(ctx, z, log_exp, mu):
        ctx.save_for_backward(mu)
        return log_exp

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        (mu,) = ctx.saved_tensors
        return grad_out.unsqueeze(-1) * mu, None, None


# --- Small K on the CPU --------------------------------------------------------------------
# At K <= _PF_MAX_K a call is dozens of operations on tiny tensors, each costing microseconds
# of dispatch whatever its size, so this path is built to issue as few as possible: one autograd
# node (the gradient mu - y comes out of the forward), partial fractions with cached masks, and
# for the rows the series must take, the polynomials h_m(w) (and for the mean h_m(w, w_j)) either
# one degree per two or three operations (many rows) or by doubling (few rows: log2(M) levels
# of batched matrix products), the terms from them by one cumprod, and with many rows the mean
# from the shared-coefficient product and a table of powers instead of M Horner steps. Every
# sum is still of non-negative terms. The GPU keeps the general path below.
_SMALL = {}
# Up to this series spread every sum below is of ordinary floats below e^rho (no rescaling);
# beyond it the general series runs.
_SMALL_SERIES_SPREAD = 600.0


def _small_constants(K, like):
    """Cached per K and device: I and 1 - I (K x K), and the doubling's masks: T (lower-triangular
    ones, K x K) and [[T, 0], [1, I]] (2K x 2K)."""
    key = (K, like.device)
    c = _SMALL.get(key)
    if c is None:
        eye = torch.eye(K, dtype=torch.float64, device=like.device)
        tril = torch.ones(K, K, dtype=torch.float64, device=like.device).tril_()
        ext = torch.zeros(2 * K, 2 * K, dtype=torch.float64, device=like.device)
        ext[:K, :K] = tril
        ext[K:, :K] = 1.0
        ext[K:, K:] = eye
        c = (eye, 1.0 - eye, tril, ext)
        _SMALL[key] = c
    return c


_TERMS = {}
_COUNTS = {}


def _count_table(n, like):
    """0, 1, ..., n-1 (at least) as float64 on like's device, cached."""
    t = _COUNTS.get(like.device)
    if t is None or t.numel() < n:
        t = _COUNTS[like.device] = torch.arange(max(n, 4096), dtype=torch.float64, device=like.device)
    return t


# The large temporaries of the small-K path (hundreds of KB) go to buffers kept per thread:
# allocated afresh on every call they cost page faults (the allocator hands freed blocks of
# that size back to the system), which in a training loop doubled the time of a call.
_SCRATCH = threading.local()
_SCRATCH_MAX = 1 << 18  # float64 elements (2 MiB) per buffer; larger ones are allocated


def _scratch(name, shape, like, dtype=torch.float64, limit=_SCRATCH_MAX):
    """A tensor of this shape and dtype on like's device, reused across calls by name on the CPU
    (up to `limit` elements; larger ones, and buffers on other devices, are allocated)."""
    numel = math.prod(shape)
    if like.device.type != "cpu" or numel > limit:
        return torch.empty(shape, dtype=dtype, device=like.device)
    bufs = _SCRATCH.__dict__.setdefault("bufs", {})
    key = (name, dtype)
    buf = bufs.get(key)
    if buf is None or buf.numel() < numel:
        buf = bufs[key] = torch.empty(max(numel, 1 << 12), dtype=dtype, device=like.device)
    return buf[:numel].view(shape)


def _series_terms_cached(rho):
    """series_terms for a spread rounded up to a multiple of 1/8: as valid (the bound holds for
    every spread <= its argument), at most one term more, and computed once per rounded value."""
    key = math.ceil(rho * 8.0)
    M = _TERMS.get(key)
    if M is None:
        M = _TERMS[key] = series_terms(key / 8.0)
    return M


def _pf_small(z, hi):
    """_partial_fractions (same formulas, same acceptance) in fewer operations, for finite float64
    rows z with max hi: log exp[z] - hi, mu, the per-row flag, and z - hi."""
    B, K = z.shape
    eye, off = _small_constants(K, z)[:2]
    zc = z - hi.unsqueeze(-1)
    d = (z.unsqueeze(-1) - z.unsqueeze(-2)).add_(eye)  # z_k - z_i, 1 on the diagonal
    r = off / d  # 1/(z_k - z_i), 0 on the diagonal
    t = torch.exp(zc).div_(d.prod(dim=-1))
    S = t.sum(dim=-1)
    S1 = S.unsqueeze(-1)
    at = t.abs()
    log_s = torch.log(S)
    s_rel = at.sum(dim=-1).div_(S).mul_((3 * K + 4) * _U)
    tr = t.unsqueeze(-1) * r  # t_k / (z_k - z_j)
    mu = tr.sum(dim=-2).addcmul_(t, 1.0 - r.sum(dim=-1)).div_(S1)
    a = tr.abs_().sum(dim=-2).addcmul_(at, r.abs_().sum(dim=-1).add_(1.0))
    # The bound on mu: (5K+10) u a/S + |mu| s_rel + u <= 3e-14, with mu >= 0 (so |mu| = mu).
    # (It fails where mu or the bound is not finite; the bound on s_rel fails where S <= 0 or
    # A is not finite, as does S > 0 there.)
    err = a.div_(S1).mul_((5 * K + 10) * _U).addcmul_(mu, s_rel.unsqueeze(-1)).amax(dim=-1)
    ok = (S > 0) & (s_rel <= (hi + log_s).abs_().clamp_min_(1.0).mul_(3e-14))
    ok &= (err <= 3e-14 - _U) & (mu.amin(dim=-1) >= 0)
    return log_s, mu, ok, zc


def _powers_by_loop(w, ws, M, need_e):
    """H_m = h_m(w_0..w_{K-1}) for m = 0..M (n x (M+1)) and (need_e) E_m[j] = h_m(w_0..w_{K-1}, w_j)
    (n x (M+1) x K), one degree at a time: G_m = cumsum(ws G_{m-1}) (H_m its last entry; ws is w
    sorted in decreasing order) and E_m = H_m + w E_{m-1}, two or three operations per degree.
    No scaling is needed: w is in [0, 1] with max 1, so 1 <= H_m <= C(m+K-1, K-1) and
    E_m <= C(m+K, K); and as ws starts with 1, no G_m[j] is below 1 either (so no slow
    subnormals, whatever the nodes). Both results are views of scratch buffers."""
    n, K = w.shape
    G = _scratch("G", (M + 1, n, K), w)
    G[0] = 1.0
    Gs = G.unbind(0)
    tmp = torch.empty_like(w)
    E = None
    if need_e:
        E = _scratch("E", (M + 1, n, K), w)
        E[0] = 1.0
        Es = E.unbind(0)
        Hs = G[:, :, K - 1 :].unbind(0)
    for m in range(1, M + 1):
        torch.mul(ws, Gs[m - 1], out=tmp)
        torch.cumsum(tmp, dim=-1, out=Gs[m])
        if need_e:
            torch.addcmul(Hs[m], w, Es[m - 1], out=Es[m])
    return G[:, :, K - 1].t(), (E.transpose(0, 1) if need_e else None)


# Entries of the doubling's matrix powers below this are dropped (see _powers_by_doubling).
_DROP = 2.0 ** -500


def _powers_by_doubling(w, ws, M, need_e):
    """The same H and E by doubling. The state s_m = (G_m, E_m) evolves as s_m = A s_{m-1} with
    A = [[T, 0], [1, I]] diag(ws, w) (T lower-triangular ones: G_m = T diag(ws) G_{m-1},
    E_m = 1 ws.G_{m-1} + diag(w) E_{m-1}), so [s_L..s_{2L-1}] = A^L [s_0..s_{L-1}] and
    A^{2L} = A^L A^L: log2(M) levels of two batched products, all of non-negative entries.

    Tiny entries of the powers (products of small w) would be slow subnormals in the next
    products, so entries below 2^-500 are dropped. This loses nothing that matters: for a row
    with rho > 0 every entry of every s_m is >= 1 and s_m <= s_{m+L} entrywise (ws starts with
    1), and A^L[a, b] > 0 only where s_m[b] <= s_m[a]; so a dropped entry takes less than
    2^-500 s_{m+L}[a] from s_{m+L}[a], and over the 2K entries and all levels the loss stays
    below 2^-470 of every s_m. No product of two kept entries is then subnormal."""
    n, K = w.shape
    tril, ext = _small_constants(K, w)[2:]
    if need_e:
        P = ext * torch.cat([ws, w], dim=-1).unsqueeze(-2)
    else:
        P = tril * ws.unsqueeze(-2)
    # Transposed, so that each level writes a contiguous block of rows of the scratch buffer.
    Pt = torch.threshold_(P, _DROP, 0.0).transpose(1, 2)
    V = _scratch("V", (n, 1 << M.bit_length(), Pt.shape[-1]), w)  # V[:, m] = s_m
    V[:, 0] = 1.0
    L = 1
    while L <= M:
        torch.bmm(V[:, :L], Pt, out=V[:, L : 2 * L])
        L *= 2
        if L <= M:
            Pt = torch.threshold_(torch.bmm(Pt, Pt), _DROP, 0.0)
    return V[:, : M + 1, K - 1], (V[:, : M + 1, K:] if need_e else None)


def _mean_by_table(x, p, R, K, M):
    """mu from the normalized terms p (n x (M+1)) as _mean's shared-coefficient route: g = p E with
    E_{n,i} = R^i (n+K-1)!/(n+K+i)! (scaled), then mu_j proportional to sum_i g_i (x_j/R)^i, here
    from a table of powers (one cumprod) instead of M Horner steps. For R <= _TABLE_SPREAD.

    What is set to 0 below is negligible: E is scaled so that its largest entry is 2^1000/(M+2),
    so that E_{0,0} >= 2^1000 e^-R / (M+2) and every numerator is >= p_0 E_{0,0} >= e^-2R 2^990,
    while entries below e^-700 sum to less than (M+1)^2 e^-700; terms p_n < 2^-1022 add less than
    2^-1022 e^R of the sum g_i (E_{n,i} <= E_{0,i}, p_0 >= e^-R); both would be subnormals, which
    make the product slow. Powers that underflow (below 2^-1022, a few per row and node) carry
    terms below 2^-1022 e^R of the numerator (g_i <= e^R g_0)."""
    n = x.shape[0]
    LG = _lgamma_table(2 * M + K + 3, x)
    # log E_{n,i} = lgamma(n+K) - lgamma(n+K+i+1) + i log R: the row term, then the (n+i) term as
    # a Hankel view of the lgamma table. It decreases with n, so its maximum is on row 0.
    col = _count_table(M + 1, x)[: M + 1] * math.log(R)
    peak = float((col - LG[K + 1 : K + M + 2]).max()) + LG[K].item()
    shift = peak - (1000.0 * math.log(2.0) - math.log(M + 2))
    log_e = torch.add((LG[K : K + M + 1] - shift).unsqueeze(-1), col, out=_scratch("log_e", (M + 1, M + 1), x))
    log_e -= LG[K + 1 :].as_strided((M + 1, M + 1), (1, 1))
    E = torch.exp(log_e, out=_scratch("table", (M + 1, M + 1), x)).masked_fill_(log_e < -700.0, 0.0)
    g = p.masked_fill_(p < 2.0 ** -1022, 0.0) @ E
    powers = (x / R).clamp_(max=1.0).unsqueeze(-1).expand(n, K, M)
    pw = torch.cumprod(powers, dim=-1, out=_scratch("pw", (n, K, M), x))
    return pw.mul_(g[:, 1:].unsqueeze(-2)).sum(dim=-1).add_(g[:, :1])


# Up to this spread the loop's mean takes the table above; beyond, one more recurrence per degree.
_TABLE_SPREAD = 500.0


def _use_doubling(n, K, M, loop_e):
    """Whether the doubling should be faster than the loop (loop_e: with the mean's recurrence),
    from their costs measured on one CPU thread, in microseconds: the doubling's products take
    about n S^2 (2M + S log2 M) multiply-adds (S = 2K) at ~18 per ns, plus per level ~6 and
    ~0.06 S per row; the loop ~2.5 per degree (4.2 with the mean's recurrence)."""
    levels = M.bit_length()
    S = 2 * K
    doubling = 30 + levels * (6 + 0.06 * S * n) + n * S * S * (2 * M + S * levels) / 18000
    return doubling < M * ((4.2 if loop_e else 2.5) + 0.002 * n * K)


def _series_small(x, rho, rho_max, need_mu):
    """log S and (need_mu) mu for float64 rows x >= 0 with min 0, max rho <= rho_max <= 600.

    With w = x / rho: t_m = rho^m H_m (K-1)!/(m+K-1)! = H_m c_m, c_m = prod_{i<=m} rho/(i+K-1)
    (<= e^rho: nothing overflows), and mu_j = exp[x, x_j] / exp[x] (the derivative of a divided
    difference repeats its node) is proportional to sum_m c_m E_m[j] / (m+K)."""
    n, K = x.shape
    M = _series_terms_cached(rho_max)
    if M == 0:  # every row exactly uniform
        return x.new_zeros(n), (x.new_full((n, K), 1.0 / K) if need_mu else None)
    # A uniform row (rho = 0) has x = 0, so w = 0 there.
    w = x / rho.clamp_min(5e-324).unsqueeze(-1)
    # (The table's buffers are reused only while they fit the scratch size; beyond, fresh ones of
    # megabytes each cost more than the recurrence.)
    table = need_mu and rho_max <= _TABLE_SPREAD and max((M + 1) ** 2, n * K * M) <= _SCRATCH_MAX
    doubling = _use_doubling(n, K, M, need_mu and not table)
    by_table = table and not doubling
    ws = w.sort(dim=-1, descending=True).values
    H, E = (_powers_by_doubling if doubling else _powers_by_loop)(w, ws, M, need_mu and not by_table)
    counts = _count_table(M + K + 1, x)  # 0, 1, 2, ...
    c = x.new_empty(n, M + 1)
    c[:, 0] = 1.0
    torch.cumprod(rho.unsqueeze(-1) / counts[K : M + K], dim=-1, out=c[:, 1:])
    t = H * c
    tail = t[:, 1:].sum(dim=-1)
    log_s = torch.log1p(tail)
    if not need_mu:
        return log_s, None
    if by_table:
        num = _mean_by_table(x, t.div_(tail.add_(1.0).unsqueeze(-1)), rho_max, K, M)
    else:
        c.div_(counts[K : M + K + 1])
        num = E.mul_(c.unsqueeze(-1)).sum(dim=1)
    return log_s, num.div_(num.sum(dim=-1, keepdim=True))


def _series_rows(x, rho, need_mu):
    """log S and mu for float64 rows x >= 0 (min 0, max rho) by whichever series fits; beyond
    the small series' spread (rows with close nodes that the partial fractions could not prove),
    the contour integral first: the long series costs thousands of passes there, and its mean's
    shared-coefficient product in logs loses digits near its limit (1e-8 to 1e-6 at spreads of
    1000 to 1300 with a close pair)."""
    rho_max = float(rho.max())
    if rho_max <= _SMALL_SERIES_SPREAD:
        return _series_small(x, rho, rho_max, need_mu)
    if CONTOUR:
        log_exp, mu, ok = _contour_rows(x)
        log_s = log_exp + math.lgamma(x.shape[-1])
        if bool(ok.all()):
            return log_s, mu
        rest = (~ok).nonzero().squeeze(-1)
        log_r, mu_r = _series_rows_long(x[rest], rho[rest], need_mu)
        return log_s.index_put_((rest,), log_r), (mu.index_put_((rest,), mu_r) if need_mu else None)
    return _series_rows_long(x, rho, need_mu)


def _series_rows_long(x, rho, need_mu):
    """The general series (rescaled beyond spread 600) for rows of any spread."""
    rho_max = float(rho.max())
    M = series_terms(rho_max)
    rescale = rho_max > _RESCALE_SPREAD
    terms, log_scale = _series_terms_table(x, M, rescale)
    log_s, p, log_p = _log_sum(terms, log_scale)
    return log_s, (_mean(x, rho, p, M, rescale, rho_max, log_p) if need_mu else None)


def _small_forward(z, y, lo, hi, spread, rho_max, need_mu):
    """The per-row loss (float64) and, if need_mu, its gradient mu - y, for finite float64 rows z
    (K <= _PF_MAX_K) with min lo, max hi and spread = hi - lo (largest rho_max)."""
    B, K = z.shape
    thr = 2.5 * (K - 1)
    n_ok = 0
    if rho_max >= thr:
        log_pf, mu, ok, zc = _pf_small(z, hi)
        ok &= spread >= thr
        n_ok = int(ok.sum())
    if n_ok == B:
        # log exp[z] - y.z about hi = max z, so that nothing cancels when the logits sit far from 0.
        loss = torch.addcmul(log_pf, hi, 1.0 - y.sum(dim=-1)).sub_((y * zc).sum(dim=-1))
        return loss, (mu.sub_(y) if need_mu else None)
    rows = None if n_ok == 0 else (~ok).nonzero().squeeze(-1)
    zr, lr, sr = (z, lo, spread) if rows is None else (z[rows], lo[rows], spread[rows])
    log_sr, mur = _series_rows(zr - lr.unsqueeze(-1), sr, need_mu)
    log_sr -= math.lgamma(K)
    if rows is None:
        L0, shift, mu = log_sr, lo, mur
    else:
        L0 = log_pf.index_put_((rows,), log_sr)
        shift = hi.clone().index_put_((rows,), lr)
        if need_mu:
            mu.index_put_((rows,), mur)
    # The same about a per-row shift (max z for partial fractions, min z for the series).
    loss = torch.addcmul(L0, shift, 1.0 - y.sum(dim=-1)).sub_((y * (z - shift.unsqueeze(-1))).sum(dim=-1))
    return loss, (mu.sub_(y) if need_mu else None)


# The small-K path in C (cc_small.c, built by native.py) where a compiler is available: the
# same methods and acceptance tests, row by row, in one call instead of dozens of operations.
NATIVE = True


class _Given(torch.autograd.Function):
    """A per-row loss computed outside autograd (the small-K path: the gradient mu - y comes out
    of its forward pass, native or not), with its gradient g (B x K) given."""

    @staticmethod
    def forward(ctx, logits, loss, g):
        ctx.save_for_backward(g)
        return loss.to(logits.dtype)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        (g,) = ctx.saved_tensors
        return (grad_out.unsqueeze(-1) * g).to(grad_out.dtype), None, None


# Overrides _native_tol (tests: the looser bound checked in float64, where its error shows).
NATIVE_TOL = None


def _native_tol(logits):
    """The partial fractions' acceptance bound in the native kernel: 3e-14 (as _pf_small) for
    float64 logits; 1e-10 for lower precisions, whose loss and gradient come out rounded to 6e-8
    or coarser, so that the many rows of close logits that 3e-14 cannot prove (at K = 32 nearly
    all of a CC-LS batch) need not take the series."""
    if NATIVE_TOL is not None:
        return NATIVE_TOL
    return 3e-14 if logits.dtype == torch.float64 else 1e-10


def _native_call(fn, z, y, tol, need_grad):
    """Runs the kernel on float64 CPU rows z, y: (left, loss, g or None, status); left < 0 where a
    logit is not finite. (Every buffer is held by a name for the call: a temporary's memory is
    freed once its data_ptr() has been read.)"""
    B, K = z.shape
    loss = torch.empty(B, dtype=torch.float64)
    g = torch.empty(B, K, dtype=torch.float64) if need_grad else None
    status = torch.empty(B, dtype=torch.uint8)
    work = torch.empty(3 * B, dtype=torch.float64)
    left = fn(B, K, z.data_ptr(), y.data_ptr(), tol, loss.data_ptr(), g.data_ptr() if need_grad else None, status.data_ptr(), work.data_ptr())
    return left, loss, g, status


def _cc_nll_native(fn, logits, target):
    """cc_nll by the native kernel; rows it leaves (spreads past 600 that the partial fractions
    cannot prove) take _small_forward. None where a logit is not finite."""
    z = logits.detach().to(torch.float64).contiguous()
    y = target.detach().to(device="cpu", dtype=torch.float64).contiguous()
    need_grad = logits.requires_grad and torch.is_grad_enabled()
    left, loss, g, status = _native_call(fn, z, y, _native_tol(logits), need_grad)
    if left < 0:
        return None
    if left:
        rows = (status == 0).nonzero().squeeze(-1)
        zr = z[rows]
        lo, hi = torch.aminmax(zr, dim=-1)
        spread = hi - lo
        rho_max = float(spread.max())
        _check_spread(rho_max)
        loss_r, g_r = _small_forward(zr, y[rows], lo, hi, spread, rho_max, need_grad)
        loss[rows] = loss_r
        if need_grad:
            g[rows] = g_r
    return _Given.apply(logits, loss, g) if need_grad else loss.to(logits.dtype)


def native_paths(z):
    """How the native kernel takes the rows of z (B x K, K <= 32, finite; its dtype sets the bound
    as in cc_nll): {"pf": rows by the partial fractions, "series": by the series, "left": left to
    the PyTorch path}; None without the kernel. For tests."""
    fn = native.kernel()
    if fn is None:
        return None
    z64 = z.detach().to(device="cpu", dtype=torch.float64).contiguous()
    status = _native_call(fn, z64, torch.zeros_like(z64), _native_tol(z), False)[3]
    return {"pf": int((status == 1).sum()), "series": int((status == 2).sum()), "left": int((status == 0).sum())}


def _cc_nll_small(logits, target):
    """cc_nll for K <= _PF_MAX_K on the CPU, or None where the batch has a non-finite logit (the
    general path then gives those rows NaN)."""
    fn = native.kernel() if NATIVE else None
    if fn is not None:
        return _cc_nll_native(fn, logits, target)
    z = logits.detach().to(torch.float64)
    lo, hi = torch.aminmax(z, dim=-1)
    spread = hi - lo
    rho_max = float(spread.max())  # NaN or inf if any logit is not finite
    if not math.isfinite(rho_max):
        return None
    _check_spread(rho_max)
    y = target.to(device=z.device, dtype=torch.float64)
    if logits.requires_grad and torch.is_grad_enabled():
        return _Given.apply(logits, *_small_forward(z, y, lo, hi, spread, rho_max, True))
    return _small_forward(z, y, lo, hi, spread, rho_max, False)[0].to(logits.dtype)


# --- Many classes: the Cauchy integral -------------------------------------------------------
# The series costs about spread + 8 sqrt(spread) passes over the batch, and CC training drives
# the spread into the thousands at K = 1000. For many classes the divided difference is instead
# evaluated as the contour integral it is, at a cost that does not depend on the spread:
#
#     exp[x] = (1/2 pi i) int_C e^s / prod_k (s - x_k) ds,   C around every node x_k,
#
# and (repeating node j) mu_j = exp[x, x_j] / exp[x] from the same points with one more factor
# 1/(s - x_j). Everything is relative to the saddle point c of the integrand's modulus on the real
# axis (sum_k 1/(c - x_k) = 1), where the phase is stationary; with d_k = c - x_k >= 1 the
# integrand is phi(s) = e^(s-c) / prod_k (1 + (s-c)/d_k) times e^c / prod_k d_k. Two contours,
# both symmetric about the real axis (so only their upper halves are summed), by the
# trapezoidal rule in a parameter u >= 0 with step h:
#
# - "line": s = c + i sigma sinh(u), sigma = (sum_k d_k^-2)^-1/2. With many nodes of similar
#   weight |phi| falls like a Gaussian of width sigma up the line and the phase barely turns, so
#   the integral is about as large as the integral of |phi|: no cancellation. The integrand is
#   analytic in |Im u| < pi/2 (every node is at least sigma from c): geometric convergence.
# - "hyperbola": s = c + sigma (i sinh(u) - (cosh(u) - 1)/2), which leaves the line for a
#   slope of 1/2 to the left, so that e^(s-c) damps the integrand: for rows where a few nodes
#   stand far above the rest, |phi| falls only like a power of y up the line while its phase
#   turns, and the line would need thousands of points. (Away from the saddle the nodes' factors
#   cancel the damping to first order in proportion to sum 1/d_k over the nodes far from s, so
#   a steeper bend gains little and a parabola, whose bend grows without bound, loses.)
#
# Each row is checked, not assumed: the same sums on every other point (step 2h) must agree with
# the full ones to _CONTOUR_TOL, which bounds the full rule's error by about _CONTOUR_TOL^2
# relative (the rule converges geometrically in 1/h); and the last point must be negligible.
# Along the line |phi| falls monotonically, so the last point bounds what lies beyond; along
# the hyperbola that is an assumption, which the calibration supports (its damping there is
# below e^(-100 sigma), sigma >= 1). The line runs first; rows it fails take the hyperbola; rows
# both fail take the series. The steps, 0.125 on the line and 0.1 on the hyperbola, and the
# check's tolerance were chosen against the float64 core on rows of every kind (even, Gaussian,
# clustered, two-valued, one node far out, a close pair on top); test/unit/torchCc.test.ts
# checks them there at 1e-12, to spread 10^4.
# Used above the partial fractions' K and above this spread: below it the series is short
# enough to cost less than the contour's fixed few dozen points (measured at K = 40 to 1000).
_CONTOUR_MIN_K = _PF_MAX_K + 1
_CONTOUR_MIN_SPREAD = 32.0
_CONTOUR_TOL = 1e-7
_CONTOUR_TAIL = 1e-17
_CONTOUR_CHUNK = 64  # factors per complex product, then its log (each |1 + (s-c)/d_k| <= 1 + |s-c|/sigma < 2^9)
_CONTOUR_BLOCK = 1 << 21  # rows x points x classes per block (32 MiB of complex factors)
_CONTOUR_SCRATCH_MAX = 1 << 21  # elements per reused buffer


def _saddle(x):
    """c > max x with sum_k 1/(c - x_k) = 1 (near enough: any c > max x gives a valid contour).
    log g(c) = log sum_k 1/(c - x_k) is convex and decreasing there, so Newton's method on it
    climbs to the root from any start left of it: max(max x + 1, mean x + K), where g >= 1 (the
    second by Jensen; it is the root itself for equal nodes)."""
    K = x.shape[-1]
    c = torch.maximum(x.max(dim=-1).values + 1.0, x.mean(dim=-1) + K)
    r = torch.empty_like(x)
    for _ in range(8):
        torch.reciprocal(torch.sub(c.unsqueeze(-1), x, out=r), out=r)
        g = r.sum(dim=-1)
        c = c + torch.log(g) * g / (r * r).sum(dim=-1)
    return c


def _on_contour(c, d, inv_d, sc, sp, h):
    """log exp[x], mu and the acceptance flag from the upper half of a contour: points
    s = c + sc (n x N complex, sc[:, 0] = 0 on the real axis), ds/du = sp, step h. The n x N x K
    work runs in blocks of rows of at most _CONTOUR_BLOCK elements."""
    n, K = d.shape
    N = sc.shape[1]
    ch = min(_CONTOUR_CHUNK, K)
    Kp = -(-K // ch) * ch
    nb = max(1, _CONTOUR_BLOCK // (N * Kp))
    p, q = sc.real, sc.imag
    # prod_k (1 + sc/d_k) in products of ch factors (magnitudes stay within float64), then logs.
    L = torch.empty_like(sc)
    for r0 in range(0, n, nb):
        r1 = min(n, r0 + nb)
        f = _scratch("f", (r1 - r0, N, Kp), d, torch.complex128, _CONTOUR_SCRATCH_MAX)
        if Kp > K:
            f[..., K:] = 1.0
        inv_dc = _scratch("inv_dc", (r1 - r0, K), d, torch.complex128, _CONTOUR_SCRATCH_MAX)
        inv_dc.copy_(inv_d[r0:r1])
        torch.mul(sc[r0:r1].unsqueeze(-1), inv_dc.unsqueeze(-2), out=f[..., :K]).add_(1.0)
        pr = f.view(r1 - r0, N, Kp // ch, ch).prod(dim=-1)
        # log|.| and the angle on their own: three times faster than the complex log here.
        L[r0:r1] = torch.complex(torch.log(pr.abs()).sum(dim=-1), pr.angle().sum(dim=-1))
    g = torch.exp(sc - L) * sp  # phi(s) ds/du
    wt = torch.full((N,), h, dtype=d.dtype, device=d.device)
    wt[0] = 0.5 * h
    wt2 = torch.zeros_like(wt)  # every other point, step 2h
    wt2[::2] = 2.0 * h
    wt2[0] = h
    gi, gr = g.imag, g.real
    I = (gi * wt).sum(dim=-1) / math.pi
    I2 = (gi * wt2).sum(dim=-1) / math.pi
    log_exp = c - torch.log(d).sum(dim=-1) + torch.log(I)
    # mu_j proportional to sum Im[g / (d_j + sc)] = sum (Im g (d_j + p) - Re g q) / ((d_j + p)^2 + q^2):
    # with R = 1/((d_j + p)^2 + q^2), d_j (R^T A) + R^T B, one batched product for both rules.
    Bc = gi * p - gr * q
    V = torch.stack([gi * wt, Bc * wt, gi * wt2, Bc * wt2], dim=-2)  # n x 4 x N
    P = torch.empty(n, 4, K, dtype=d.dtype, device=d.device)
    for r0 in range(0, n, nb):
        r1 = min(n, r0 + nb)
        R = _scratch("R", (r1 - r0, N, K), d, d.dtype, _CONTOUR_SCRATCH_MAX)
        torch.add(d[r0:r1].unsqueeze(-2), p[r0:r1].unsqueeze(-1), out=R)
        R.mul_(R).add_((q[r0:r1] * q[r0:r1]).unsqueeze(-1)).reciprocal_()
        torch.bmm(V[r0:r1], R, out=P[r0:r1])
    num = P[:, 0::2] * d.unsqueeze(-2) + P[:, 1::2]
    num = num / num.sum(dim=-1, keepdim=True)
    mu, mu2 = num[:, 0], num[:, 1]
    tail = h * g[:, -1].abs()
    ok = (I > 0) & torch.isfinite(log_exp) & ((I - I2).abs() <= _CONTOUR_TOL * I)
    ok &= (mu - mu2).abs().amax(dim=-1) <= _CONTOUR_TOL * mu.amax(dim=-1)
    ok &= tail <= _CONTOUR_TAIL * I
    # In an accepted row each mu_j is off by about 1e-16 of max mu, so a component below that
    # can come out a rounding error below 0: clamped, and the row renormalized.
    mu = mu.clamp_min(0.0)
    return log_exp, mu / mu.sum(dim=-1, keepdim=True), ok


def _contour(x, kind="line"):
    """log exp[x], mu and a per-row acceptance flag for float64 rows x >= 0 with min 0, on the
    contour `kind` (see above). Where the flag is False the values are unspecified."""
    c = _saddle(x)
    d = c.unsqueeze(-1) - x  # >= 1
    inv_d = torch.reciprocal(d)
    sig = (inv_d * inv_d).sum(dim=-1).rsqrt()
    if kind == "line":
        # Up the line until every row's |phi| is below e^-50: sum_k log(1 + (y/d_k)^2)/2 >= 50.
        # Where every node is at least 12 sigma from c, y = 12 sigma does it (log(1 + v) >= v log 2
        # for v <= 1, and sum_k (y/d_k)^2 = 144); else a bisection in u (at most u = 6; rows that
        # need more fail the tail check).
        h = 0.125
        lo_u, hi_u = 0.0, 6.0
        if bool((d.min(dim=-1).values >= 12.0 * sig).all()):
            lo_u = hi_u = math.asinh(12.0)
        while hi_u - lo_u > 0.01:
            mid = 0.5 * (lo_u + hi_u)
            q = (sig * math.sinh(mid)).unsqueeze(-1) * inv_d
            if bool((torch.log1p(q * q).sum(dim=-1) >= 100.0).all()):
                hi_u = mid
            else:
                lo_u = mid
        U = hi_u
    else:
        # To u = 6: Re(s - c) = -sigma (cosh(6) - 1)/2 ~ -100 sigma, sigma >= 1 (the tail check
        # makes sure).
        h, U = 0.1, 6.0
    N = int(math.ceil(U / h)) + 1
    u = torch.arange(N, dtype=x.dtype, device=x.device) * h
    sg = sig.unsqueeze(-1)
    sh, chm = torch.sinh(u), torch.cosh(u)
    bend = 0.0 if kind == "line" else 0.5
    sc = torch.complex(-bend * sg * (chm - 1.0), sg * sh)
    sp = torch.complex(-bend * sg * sh, sg * chm)
    return _on_contour(c, d, inv_d, sc, sp, h)


def _contour_rows(x, tally=None):
    """_contour on the line, then on the hyperbola for the rows the line failed. (With few
    classes |phi| falls only like y^-K up the line, so there the hyperbola goes first and alone.)
    `tally`, a dict, gets how many rows each contour took ("line", "hyperbola") and "neither"."""
    line = x.shape[-1] > _PF_MAX_K
    log_exp, mu, ok = _contour(x, "line" if line else "hyperbola")
    n_line = int(ok.sum()) if line and tally is not None else 0
    if line and not bool(ok.all()):
        rows = (~ok).nonzero().squeeze(-1)
        le2, mu2, ok2 = _contour(x[rows], "hyperbola")
        log_exp = log_exp.index_put((rows,), le2)
        mu = mu.index_put((rows,), mu2)
        ok = ok.index_put((rows,), ok2)
    if tally is not None:
        n_ok = int(ok.sum())
        tally.update(line=n_line, hyperbola=n_ok - n_line, neither=x.shape[0] - n_ok)
    return log_exp, mu, ok

def cc_nll(logits, target):
    """Per-row CC negative log-likelihood log exp[z] - y.z of logits (B x K) and simplex targets.

    Computed in float64, returned in the logits' dtype. Rows with non-finite logits give NaN
    (so a training loop sees divergence rather than an exception). On a GPU, one host sync per
    call, to size the series from the largest spread in the batch (the CPU path makes a few,
    which cost nothing there).
    """
    if logits.dim() != 2 or logits.shape != target.shape:
        raise ValueError(f"cc_nll expects logits and targets of the same shape B x K, got {tuple(logits.shape)} and {tuple(target.shape)}")
    B, K = logits.shape
    if K < 2:
        raise ValueError(f"cc_nll needs K >= 2 classes, got {K}")
    # The small-K path on the CPU (its mean is the shared-coefficient route: MEAN_METHOD "table"
    # and "loop" keep the general path, as on a GPU, so that the tests still cover it there).
    small = K <= _PF_MAX_K and B > 0 and logits.device.type == "cpu" and not target.requires_grad
    if small and MEAN_METHOD in ("auto", "gemm"):
        loss = _cc_nll_small(logits, target)
        if loss is not None:
            return loss
    z = logits.to(torch.float64)
    y = target.to(device=z.device, dtype=torch.float64)
    finite = torch.isfinite(z).all(dim=-1, keepdim=True)
    z = torch.where(finite, z, torch.zeros_like(z))
    if B > 0 and CONTOUR:
        zd = z.detach()
        lo = zd.min(dim=-1).values
        x = zd - lo.unsqueeze(-1)
        rho_max = float(x.max())  # a host sync
        _check_spread(rho_max)
        # Many classes from spread 32; few classes (this path: a GPU, or targets that need a
        # gradient) only past the short series, where rows with close logits would otherwise
        # take the long series (as on the CPU's small-K path, _series_rows).
        if rho_max >= (_CONTOUR_MIN_SPREAD if K >= _CONTOUR_MIN_K else _SMALL_SERIES_SPREAD):
            log_exp, mu, ok = _contour_rows(x)
            ok &= finite.squeeze(-1)
            if bool(ok.any()):
                return _cc_nll_mixed(logits, z, y, finite, ok, log_exp, lo, mu)
    if K <= _PF_MAX_K and B > 0:
        spread = (z.max(dim=-1).values - z.min(dim=-1).values).detach()
        _check_spread(float(spread.max()))  # a host sync; the series below makes another
        want = spread >= 2.5 * (K - 1)
        if bool(want.any()):
            zd = z.detach()
            log_s, hi, mu, ok = _partial_fractions(zd)
            ok = ok & want
            if bool(ok.any()):
                return _cc_nll_mixed(logits, z, y, finite, ok, log_s, hi, mu)
    return _cc_nll_series(logits, z, y, finite)


def _cc_nll_mixed(logits, z, y, finite, ok, log_s, hi, mu):
    """Rows the partial fractions proved (or the contour accepted) take their values, log_s =
    log exp[z] - hi and mu; the others the series."""
    B = z.shape[0]
    pf = ok.nonzero().squeeze(-1)
    zp, yp, hp = z[pf], y[pf], hi[pf]
    # log exp[z] - y.z written about hi = max z, so that nothing cancels far from zero.
    loss_pf = _LogExpPF.apply(zp, log_s[pf], mu[pf]) - (yp * (zp - hp.unsqueeze(-1))).sum(dim=-1) + hp * (1.0 - yp.sum(dim=-1))
    loss = torch.zeros(B, dtype=z.dtype, device=z.device).index_put((pf,), loss_pf)
    rest = (~ok).nonzero().squeeze(-1)
    if rest.numel():
        loss = loss.index_put((rest,), _cc_nll_series(None, z[rest], y[rest], finite[rest]))
    loss = torch.where(finite.squeeze(-1), loss, torch.full_like(loss, float("nan")))
    return loss.to(logits.dtype)


def _cc_nll_series(logits, z, y, finite):
    """The series route over rows z (float64, finite-masked); returns float64 when logits is
    None, else the logits' dtype."""
    B, K = z.shape
    # The shift is a constant of the computation: log exp[z] = c + log exp[z - c] holds for any
    # c, so its gradient is exactly mu whether or not c is differentiated through.
    c = z.detach().min(dim=-1).values
    x = z - c.unsqueeze(-1)
    rho = x.detach().max(dim=-1).values
    rho_max = float(rho.max()) if B > 0 else 0.0
    _check_spread(rho_max)
    M = series_terms(rho_max)
    # The mean by one shared coefficient table (R) on the CPU; the GPU keeps its own choice.
    use_gemm = MEAN_METHOD == "gemm" or (MEAN_METHOD == "auto" and not x.is_cuda)
    log_s = _LogSeries.apply(x, rho, M, rho_max > _RESCALE_SPREAD, rho_max if use_gemm else None)
    # log exp[z] - y.z = log S - lgamma(K) - y.x + c (1 - sum y): written with x = z - c so
    # that nothing cancels when the logits sit far from zero.
    loss = log_s - math.lgamma(K) - (y * x).sum(dim=-1) + c * (1.0 - y.sum(dim=-1))
    loss = torch.where(finite.squeeze(-1), loss, torch.full_like(loss, float("nan")))
    return loss if logits is None else loss.to(logits.dtype)
