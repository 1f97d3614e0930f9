package org.icgpt2.teavm;

import org.teavm.backend.wasm.runtime.math.WasmPow;

/**
 * Pure-Java replacements for the {@code java.lang.Math} functions that TeaVM imports from the host
 * ({@code teavmMath.*}) or computes poorly, so that canisters need no imports beyond {@code ic0}.
 * exp and log follow fdlibm (the algorithms behind {@link StrictMath}) and stay within 1 ulp of it; pow is
 * TeaVM's musl port, guarded where that port fails, within 2 ulps; tanh within 4 ulps (a full fdlibm expm1 would give 1). {@code sqrt}, {@code floor} and {@code ceil} are not here: {@link IcMathIntrinsic}
 * compiles them to single Wasm instructions.
 * <p>
 * Must not get a static initializer (only compile-time constants): {@code Math}'s natives are
 * {@code @Unmanaged}, and a class-initialization check in their replacement crashes TeaVM's code generator.
 */
public final class IcMath {
    private static final double LN2_HI = 6.93147180369123816490e-01;
    private static final double LN2_LO = 1.90821492927058770002e-10;
    private static final double INV_LN2 = 1.44269504088896338700e+00;
    private static final double EXP_OVERFLOW = 7.09782712893383973096e+02;
    private static final double EXP_UNDERFLOW = -7.45133219101941108420e+02;
    private static final double TWO_54 = 1.80143985094819840000e+16;

    private IcMath() {
    }

    /** e^x; fdlibm's reduction x = k·ln2 + r and rational approximation of e^r. */
    public static double exp(double x) {
        if (x != x) {
            return x;
        }
        if (x > EXP_OVERFLOW) {
            return Double.POSITIVE_INFINITY;
        }
        if (x < EXP_UNDERFLOW) {
            return 0.0;
        }
        double ax = Math.abs(x);
        if (ax < 0x1p-28) {
            return 1.0 + x;
        }
        int k = 0;
        double hi = 0;
        double lo = 0;
        if (ax > 0.5 * LN2_HI) {
            k = ax < 1.5 * LN2_HI ? (x > 0 ? 1 : -1) : (int) (INV_LN2 * x + (x < 0 ? -0.5 : 0.5));
            hi = x - k * LN2_HI;
            lo = k * LN2_LO;
            x = hi - lo;
        }
        double t = x * x;
        double c = x - t * (1.66666666666666019037e-01 + t * (-2.77777777770155933842e-03
                + t * (6.61375632143793436117e-05 + t * (-1.65339022054652515390e-06
                + t * 4.13813679705723846039e-08))));
        if (k == 0) {
            return 1.0 - ((x * c) / (c - 2.0) - x);
        }
        double y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi);
        if (k >= -1021) {
            // k = 1024 is possible just below the overflow threshold: scale in two steps.
            return k == 1024 ? y * 2.0 * 0x1p1023 : y * twoTo(k);
        }
        return y * twoTo(k + 1000) * 0x1p-1000;  // subnormal result: avoid rounding y twice
    }

    /** Natural logarithm; fdlibm's reduction to log(1+f), f in [sqrt(2)/2-1, sqrt(2)-1]. */
    public static double log(double x) {
        long bits = Double.doubleToRawLongBits(x);
        int hx = (int) (bits >> 32);
        int k = 0;
        if (hx < 0x00100000) {                      // negative, zero or subnormal
            if ((bits & 0x7fffffffffffffffL) == 0) {
                return Double.NEGATIVE_INFINITY;
            }
            if (hx < 0) {
                return Double.NaN;
            }
            k -= 54;
            x *= TWO_54;
            bits = Double.doubleToRawLongBits(x);
            hx = (int) (bits >> 32);
        }
        if (hx >= 0x7ff00000) {
            return x + x;                          // +Inf or NaN
        }
        k += (hx >> 20) - 1023;
        hx &= 0x000fffff;
        int i = (hx + 0x95f64) & 0x100000;
        // Normalize x into [sqrt(2)/2, sqrt(2)), keeping the low word.
        x = Double.longBitsToDouble(((long) (hx | (i ^ 0x3ff00000)) << 32) | (bits & 0xffffffffL));
        k += i >> 20;
        double f = x - 1.0;
        double dk = k;
        if ((0x000fffff & (2 + hx)) < 3) {         // |f| < 2^-20
            if (f == 0.0) {
                return k == 0 ? 0.0 : dk * LN2_HI + dk * LN2_LO;
            }
            double r = f * f * (0.5 - 0.33333333333333333 * f);
            return k == 0 ? f - r : dk * LN2_HI - ((r - dk * LN2_LO) - f);
        }
        double s = f / (2.0 + f);
        double z = s * s;
        double w = z * z;
        double t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
        double t2 = z * (6.666666666666735130e-01 + w * (2.857142874366239149e-01
                + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
        double r = t2 + t1;
        if (((hx - 0x6147a) | (0x6b851 - hx)) > 0) {
            double hfsq = 0.5 * f * f;
            return k == 0 ? f - (hfsq - s * (hfsq + r)) : dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
        }
        return k == 0 ? f - s * (f - r) : dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f);
    }

    /**
     * x^y with Java's special cases. TeaVM's musl port {@link WasmPow} is accurate (< 1 ulp) for positive normal
     * x while |y·ln x| < 512, but returns garbage for negative or subnormal x and for larger results; those
     * cases are reduced to the accurate range here, at the cost of one extra rounding (≤ 2 ulps).
     */
    public static double pow(double x, double y) {
        if (y == 0) {
            return 1.0;
        }
        if (y != y || x != x) {
            return Double.NaN;
        }
        double ax = Math.abs(x);
        if (Math.abs(y) == Double.POSITIVE_INFINITY) {
            return ax == 1 ? Double.NaN : (ax > 1) == (y > 0) ? Double.POSITIVE_INFINITY : 0.0;
        }
        boolean zeroOrInfinite = ax == 0 || ax == Double.POSITIVE_INFINITY;
        boolean negate = false;
        if (Double.doubleToRawLongBits(x) < 0) {     // x < 0, -0.0 included
            boolean integral = Math.floor(y) == y;
            if (!integral && !zeroOrInfinite) {
                return Double.NaN;
            }
            negate = integral && Math.abs(y) < 0x1p53 && ((long) y & 1) != 0;
        }
        double result = zeroOrInfinite ? ((ax == 0) == (y < 0) ? Double.POSITIVE_INFINITY : 0.0) : positivePow(ax, y);
        return negate ? -result : result;
    }

    /** x^y for finite x > 0 and finite y != 0. */
    private static double positivePow(double x, double y) {
        if (x < Double.MIN_NORMAL) {
            // Subnormal x: x^y = (x·2^54)^y / (2^54)^y; no rounded product such as 54·y enters.
            return positivePow(x * 0x1p54, y) / positivePow(0x1p54, y);
        }
        double lnResult = y * log(x);
        if (Math.abs(lnResult) < 510) {
            return WasmPow.pow(x, y);
        }
        if (Math.abs(lnResult) > 1000) {
            return lnResult > 0 ? Double.POSITIVE_INFINITY : 0.0;  // beyond e^±745, the double range
        }
        double half = WasmPow.pow(x, y * 0.5);
        return half * half;
    }

    /**
     * Hyperbolic tangent. Replaces TeaVM's {@code Math.tanh}, which computes (e - 1/e)/(e + 1/e) and so
     * returns NaN for |x| > 710 and loses all precision near 0.
     */
    public static double tanh(double x) {
        double ax = Math.abs(x);
        if (ax != ax || ax < 0x1p-28) {
            return x;                              // NaN, ±0, tiny: tanh(x) = x to double precision
        }
        if (ax >= 22) {
            return x > 0 ? 1.0 : -1.0;
        }
        double t;
        if (ax >= 0.35) {
            t = 1.0 - 2.0 / (exp(2 * ax) + 1.0);   // result > 1/3: little cancellation
        } else {
            double e = expm1(-2 * ax);
            t = -e / (e + 2.0);
        }
        return x > 0 ? t : -t;
    }

    /**
     * e^x - 1 without cancellation near 0: fdlibm's rational approximation for |x| ≤ ln2/2,
     * extended by halving the argument up to |x| = 4.
     */
    static double expm1(double x) {
        if (Math.abs(x) <= 0.5 * LN2_HI) {
            double hfx = 0.5 * x;
            double hxs = x * hfx;
            double r1 = 1.0 + hxs * (-3.33333333333331316428e-02 + hxs * (1.58730158725481460165e-03
                    + hxs * (-7.93650757867487942473e-05 + hxs * (4.00821782732936239552e-06
                    + hxs * -2.01099218183624371326e-07))));
            double t = 3.0 - r1 * hfx;
            double e = hxs * ((r1 - t) / (6.0 - x * t));
            return x - (x * e - hxs);
        }
        if (Math.abs(x) <= 4) {
            double half = expm1(0.5 * x);          // e^x - 1 = h·(h + 2) with h = e^(x/2) - 1
            return half * (half + 2.0);
        }
        return exp(x) - 1.0;                       // no cancellation left for |x| > 4
    }

    /** 2^k for a normal exponent k in [-1022, 1023], built from its bits. */
    private static double twoTo(int k) {
        return Double.longBitsToDouble((long) (k + 1023) << 52);
    }
}
