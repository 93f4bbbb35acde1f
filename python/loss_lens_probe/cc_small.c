/*
 * The CC negative log-likelihood and its gradient for few classes (K <= 32) on the CPU, row by
 * row: the same two methods, formulas and acceptance tests as cc.py's small-K path (_pf_small,
 * _series_small), in plain C. That path is a few dozen PyTorch operations per call (and a loop
 * over the series' degrees for rows the partial fractions cannot prove); each costs microseconds
 * of dispatch whatever its size, which at K = 10 made the loss cost ten times cross-entropy's
 * (bench/ccOp.bench.ts times both).
 *
 * Built and loaded by native.py (the system C compiler, once, cached); cc.py falls back to its
 * PyTorch operations wherever it is missing. IEEE double arithmetic throughout (no -ffast-math):
 * the rounding-error bounds below assume it.
 *
 * Per row z (finite, K entries), with lo = min z, hi = max z, rho = hi - lo:
 *   - rho >= 2.5 (K - 1): partial fractions, t_k = e^{z_k - hi} / prod_{i != k} (z_k - z_i),
 *     accepted where the rounding-error bound proves log exp[z] (relative) and mu (absolute)
 *     within tol: 3e-14 as cc.py's for float64 logits; the caller passes 1e-10 for float32
 *     ones, whose loss and gradient are rounded to float32 (6e-8) anyway. With 3e-14 the
 *     partial fractions prove almost no row of a CC-LS batch at K = 32, whose 31 lower logits
 *     are close together, and those rows take the longer series;
 *   - otherwise, up to rho = 600: the series with non-negative terms, exp[z] = e^lo / (K-1)! S,
 *     S = sum_m rho^m (K-1)!/(m+K-1)! h_m(w), w = (z - lo) / rho, and mu_j proportional to
 *     sum_m rho^m (K-1)!/(m+K)! h_m(w, w_j);
 *   - rows left (spread beyond 600 that the partial fractions cannot prove, or beyond MAX_SPREAD)
 *     are marked for cc.py's PyTorch path (the contour integral, the rescaled series).
 * loss = log exp[z] - y.z, written about a per-row shift (hi or lo) so that nothing cancels
 * when the logits sit far from zero; grad = mu - y.
 */
#include <math.h>
#include <stddef.h>

#define MAX_K 32
#define SMALL_SERIES_SPREAD 600.0
#define MAX_SPREAD 1e6

static const double U = 1.1102230246251565e-16; /* 2^-53 */

/* cc.py series_terms: the least M >= rho with the Poisson tail bound below 2^-57. */
static int enough(double rho, double log_rho, int m)
{
    double q = rho / (m + 2);
    return q < 1.0 && -rho + (m + 1) * log_rho - lgamma(m + 2.0) - log1p(-q) < -57.0 * 0.69314718055994530942;
}

static int series_terms(double rho)
{
    if (rho <= 0.0)
        return 0;
    double log_rho = log(rho);
    int lo = (int)ceil(rho);
    if (lo < 1)
        lo = 1;
    if (enough(rho, log_rho, lo))
        return lo;
    int span = (int)(8.0 * sqrt(rho)) + 32;
    int hi = lo + span;
    while (!enough(rho, log_rho, hi)) {
        lo = hi;
        span *= 2;
        hi = lo + span;
    }
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (enough(rho, log_rho, mid))
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* Partial fractions (cc.py _pf_small): 1 and log exp[z] - hi in *log_s, mu, where the bound
 * proves both within tol; 0 elsewhere. */
static int pf_row(int K, const double *z, double hi, double tol, double *log_s, double *mu)
{
    double t[MAX_K], r[MAX_K][MAX_K];
    double S = 0.0, A = 0.0;
    for (int k = 0; k < K; k++) {
        double p = 1.0;
        for (int i = 0; i < K; i++) {
            if (i == k) {
                r[k][i] = 0.0;
                continue;
            }
            double d = z[k] - z[i];
            r[k][i] = 1.0 / d;
            p *= d;
        }
        t[k] = exp(z[k] - hi) / p;
        S += t[k];
        A += fabs(t[k]);
    }
    if (!(S > 0.0))
        return 0;
    double ls = log(S);
    double s_rel = A / S * ((3 * K + 4) * U);
    double lim = fabs(hi + ls);
    if (!(s_rel <= (lim < 1.0 ? 1.0 : lim) * tol))
        return 0;
    for (int j = 0; j < K; j++) {
        double num = 0.0, a = 0.0, rs = 0.0, ra = 0.0;
        for (int k = 0; k < K; k++) {
            double v = t[k] * r[k][j];
            num += v;
            a += fabs(v);
            rs += r[j][k];
            ra += fabs(r[j][k]);
        }
        num += t[j] * (1.0 - rs);
        a += fabs(t[j]) * (ra + 1.0);
        double m = num / S;
        double err = a / S * ((5 * K + 10) * U) + m * s_rel;
        if (!(m >= 0.0) || !(err <= tol - U))
            return 0;
        mu[j] = m;
    }
    *log_s = ls;
    return 1;
}

/* The series (cc.py _series_small, one degree at a time) for LANES rows at once, x = z - lo >= 0
 * with max rho in (0, 600]: log S in log_s[r], and mu[r]. The cumulative sum over the nodes is a
 * chain of dependent additions; running the rows' chains side by side keeps the adder busy (one
 * row at a time it waited on each addition: the series took ~4 cycles per node and degree).
 * Each row stops at its own M (its coefficient is 0 after that); the rows of a group are of
 * similar spread (the caller sorts them), so few degrees are run for nothing.
 * No scaling is needed: w is in [0, 1] with max 1, so 1 <= h_m <= C(m+K-1, K-1), the
 * coefficients stay below e^rho, and (the cumulative sums run over w in decreasing order, from
 * w = 1) no entry is ever below 1: no subnormals. */
#define LANES 4
static void series_rows(int K, int n, const double *const *x, const double *rho, double *log_s, double (*mu)[MAX_K])
{
    double w[LANES][MAX_K], ws[LANES][MAX_K], G[LANES][MAX_K], E[LANES][MAX_K], num[LANES][MAX_K];
    double c[LANES], tail[LANES], rh[LANES];
    int M[LANES], Mmax = 0;
    for (int r = 0; r < LANES; r++) {
        int src = r < n ? r : 0; /* spare lanes repeat the first row; their results are dropped */
        rh[r] = rho[src];
        for (int j = 0; j < K; j++) {
            double v = x[src][j] / rh[r];
            w[r][j] = v;
            /* insertion sort, decreasing */
            int i = j;
            while (i > 0 && ws[r][i - 1] < v) {
                ws[r][i] = ws[r][i - 1];
                i--;
            }
            ws[r][i] = v;
            G[r][j] = 1.0;
            E[r][j] = 1.0;
            num[r][j] = 1.0 / K;
        }
        M[r] = series_terms(rh[r]);
        if (M[r] > Mmax)
            Mmax = M[r];
        c[r] = 1.0;
        tail[r] = 0.0;
    }
    for (int m = 1; m <= Mmax; m++) {
        for (int r = 0; r < LANES; r++)
            c[r] = m <= M[r] ? c[r] * (rh[r] / (m + K - 1)) : 0.0;
        double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
        for (int j = 0; j < K; j++) {
            a0 += ws[0][j] * G[0][j];
            G[0][j] = a0;
            a1 += ws[1][j] * G[1][j];
            G[1][j] = a1;
            a2 += ws[2][j] * G[2][j];
            G[2][j] = a2;
            a3 += ws[3][j] * G[3][j];
            G[3][j] = a3;
        }
        for (int r = 0; r < LANES; r++) {
            double H = G[r][K - 1];
            tail[r] += H * c[r];
            double cm = c[r] / (m + K);
            for (int j = 0; j < K; j++) {
                E[r][j] = H + w[r][j] * E[r][j];
                num[r][j] += cm * E[r][j];
            }
        }
    }
    for (int r = 0; r < n; r++) {
        double total = 0.0;
        for (int j = 0; j < K; j++)
            total += num[r][j];
        for (int j = 0; j < K; j++)
            mu[r][j] = num[r][j] / total;
        log_s[r] = log1p(tail[r]);
    }
}

/* loss = log exp[z] - y.z about the row's shift (log exp[z] = shift + L0), grad = mu - y. */
static void finish_row(int K, const double *zr, const double *yr, double L0, double shift, const double *mu, double *loss, double *grad)
{
    double sy = 0.0, syz = 0.0;
    for (int k = 0; k < K; k++) {
        sy += yr[k];
        syz += yr[k] * (zr[k] - shift);
    }
    *loss = L0 + shift * (1.0 - sy) - syz;
    if (grad)
        for (int k = 0; k < K; k++)
            grad[k] = mu[k] - yr[k];
}

/*
 * Rows z, y (n x K, row-major float64); tol, the partial fractions' acceptance bound (see the
 * top). Writes loss[b] and (grad != NULL) grad[b] = mu - y for every row it can, with
 * status[b] = 1 (by the partial fractions) or 2 (by the series); rows it leaves to the caller
 * get status[b] = 0. work: 3 n doubles of scratch. Returns how many rows it left, -1 if a logit
 * is not finite (nothing else is then guaranteed), -2 if K is out of range.
 */
int loss_lens_cc_small(int n, int K, const double *z, const double *y, double tol, double *loss, double *grad, unsigned char *status, double *work)
{
    if (K < 2 || K > MAX_K)
        return -2;
    const double lgK = lgamma((double)K);
    int left = 0, ns = 0;
    /* Rows for the series: index, spread and min, in work[0..n), [n..2n), [2n..3n). */
    double *s_idx = work, *s_rho = work + n, *s_lo = work + 2 * (size_t)n;
    for (int b = 0; b < n; b++) {
        const double *zr = z + (size_t)b * K;
        double lo = zr[0], hi = zr[0];
        for (int k = 0; k < K; k++) {
            double v = zr[k];
            if (!isfinite(v))
                return -1;
            if (v < lo)
                lo = v;
            if (v > hi)
                hi = v;
        }
        double rho = hi - lo;
        double mu[MAX_K], L0;
        if (rho > MAX_SPREAD) {
            status[b] = 0;
            left++;
            continue;
        }
        if (rho >= 2.5 * (K - 1) && pf_row(K, zr, hi, tol, &L0, mu)) {
            finish_row(K, zr, y + (size_t)b * K, L0, hi, mu, loss + b, grad ? grad + (size_t)b * K : NULL);
            status[b] = 1;
        } else if (rho > SMALL_SERIES_SPREAD) {
            status[b] = 0;
            left++;
        } else if (rho == 0.0) {
            for (int k = 0; k < K; k++)
                mu[k] = 1.0 / K; /* exactly uniform: S = 1 */
            finish_row(K, zr, y + (size_t)b * K, -lgK, lo, mu, loss + b, grad ? grad + (size_t)b * K : NULL);
            status[b] = 2;
        } else {
            /* insertion by spread, so that each group of LANES rows has similar series lengths */
            int i = ns++;
            while (i > 0 && s_rho[i - 1] > rho) {
                s_idx[i] = s_idx[i - 1];
                s_rho[i] = s_rho[i - 1];
                s_lo[i] = s_lo[i - 1];
                i--;
            }
            s_idx[i] = b;
            s_rho[i] = rho;
            s_lo[i] = lo;
        }
    }
    for (int g = 0; g < ns; g += LANES) {
        int cnt = ns - g < LANES ? ns - g : LANES;
        double xs[LANES][MAX_K], log_s[LANES], mus[LANES][MAX_K];
        const double *xp[LANES];
        for (int r = 0; r < cnt; r++) {
            const double *zr = z + (size_t)s_idx[g + r] * K;
            for (int k = 0; k < K; k++)
                xs[r][k] = zr[k] - s_lo[g + r];
            xp[r] = xs[r];
        }
        series_rows(K, cnt, xp, s_rho + g, log_s, mus);
        for (int r = 0; r < cnt; r++) {
            int b = (int)s_idx[g + r];
            finish_row(K, z + (size_t)b * K, y + (size_t)b * K, log_s[r] - lgK, s_lo[g + r], mus[r], loss + b, grad ? grad + (size_t)b * K : NULL);
            status[b] = 2;
        }
    }
    return left;
}
