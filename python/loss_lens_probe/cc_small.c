/*
 * The CC negative log-likelihood and its gradient for few classes (K <= 32) on the CPU, one
 * row at a time: the same two methods, formulas and acceptance tests as cc.py's small-K path
 * (_pf_small, _series_small), in plain C. That path is a few dozen PyTorch operations per call
 * (and a loop over the series' degrees for rows the partial fractions cannot prove); each costs
 * microseconds of dispatch whatever its size, which at K = 10 made the loss cost ten times
 * cross-entropy's. Here a batch of 64 rows takes tens of microseconds.
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

/* The series (cc.py _series_small, one degree at a time) for x = z - lo >= 0 with max rho in
 * (0, 600]: log S in *log_s, and mu. No scaling is needed: w is in [0, 1] with max 1, so
 * 1 <= h_m <= C(m+K-1, K-1), the coefficients stay below e^rho, and (the cumulative sums run
 * over w in decreasing order, from w = 1) no entry is ever below 1: no subnormals. */
static void series_row(int K, const double *x, double rho, double *log_s, double *mu)
{
    double w[MAX_K], ws[MAX_K], G[MAX_K], E[MAX_K], num[MAX_K];
    for (int j = 0; j < K; j++) {
        w[j] = x[j] / rho;
        /* insertion sort, decreasing */
        int i = j;
        while (i > 0 && ws[i - 1] < w[j]) {
            ws[i] = ws[i - 1];
            i--;
        }
        ws[i] = w[j];
        G[j] = 1.0;
        E[j] = 1.0;
        num[j] = 1.0 / K;
    }
    int M = series_terms(rho);
    double c = 1.0, tail = 0.0;
    for (int m = 1; m <= M; m++) {
        c *= rho / (m + K - 1);
        double acc = 0.0;
        for (int j = 0; j < K; j++) {
            acc += ws[j] * G[j];
            G[j] = acc;
        }
        double H = G[K - 1];
        tail += H * c;
        double cm = c / (m + K);
        for (int j = 0; j < K; j++) {
            E[j] = H + w[j] * E[j];
            num[j] += cm * E[j];
        }
    }
    double total = 0.0;
    for (int j = 0; j < K; j++)
        total += num[j];
    for (int j = 0; j < K; j++)
        mu[j] = num[j] / total;
    *log_s = log1p(tail);
}

/*
 * Rows z, y (n x K, row-major float64); tol, the partial fractions' acceptance bound (see the top).
 * Writes loss[b] and (grad != NULL) grad[b] = mu - y for
 * every row it can, with status[b] = 1 (by the partial fractions) or 2 (by the series); rows it
 * leaves to the caller get status[b] = 0.
 * Returns how many rows it left, -1 if a logit is not finite (nothing else is then
 * guaranteed), -2 if K is out of range.
 */
int loss_lens_cc_small(int n, int K, const double *z, const double *y, double tol, double *loss, double *grad, unsigned char *status)
{
    if (K < 2 || K > MAX_K)
        return -2;
    const double lgK = lgamma((double)K);
    int left = 0;
    for (int b = 0; b < n; b++) {
        const double *zr = z + (size_t)b * K;
        const double *yr = y + (size_t)b * K;
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
        double mu[MAX_K], L0, shift = hi;
        int ok = 0;
        if (rho > MAX_SPREAD) {
            status[b] = 0;
            left++;
            continue;
        }
        if (rho >= 2.5 * (K - 1))
            ok = pf_row(K, zr, hi, tol, &L0, mu);
        if (!ok) {
            if (rho > SMALL_SERIES_SPREAD) {
                status[b] = 0;
                left++;
                continue;
            }
            double x[MAX_K];
            if (rho > 0.0) {
                for (int k = 0; k < K; k++)
                    x[k] = zr[k] - lo;
                series_row(K, x, rho, &L0, mu);
            } else {
                L0 = 0.0; /* exactly uniform: S = 1, mu = 1/K */
                for (int k = 0; k < K; k++)
                    mu[k] = 1.0 / K;
            }
            L0 -= lgK;
            shift = lo;
        }
        double sy = 0.0, syz = 0.0;
        for (int k = 0; k < K; k++) {
            sy += yr[k];
            syz += yr[k] * (zr[k] - shift);
        }
        loss[b] = L0 + shift * (1.0 - sy) - syz;
        if (grad) {
            double *gr = grad + (size_t)b * K;
            for (int k = 0; k < K; k++)
                gr[k] = mu[k] - yr[k];
        }
        status[b] = ok ? 1 : 2;
    }
    return left;
}
