package org.icgpt2.teavm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** IcMath against StrictMath (fdlibm) on random arguments over the whole range plus the special cases. */
class IcMathTest {
    private static final int SAMPLES = 2_000_000;
    private static final double[] SPECIAL = {
        Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 0.0, -0.0, Double.MIN_VALUE, -Double.MIN_VALUE,
        Double.MIN_NORMAL, 0x1p-1023, Double.MAX_VALUE, -Double.MAX_VALUE, 1.0, -1.0, 0.5, 2.0, 1e-300, 1e300,
        709.782712893384, 709.79, -745.1332191019411, -745.14, -708.4, -720.0, 0x1p-28, 0x1p-30, 0.34657359027997264,
        1.0397207708399179, 22.0, 21.99, 1 + 0x1p-52, 1 - 0x1p-53, Math.E, 0.7071067811865476, 1.4142135623730951,
    };

    @Test
    void expWithinOneUlp() {
        checkUnary("exp", IcMath::exp, StrictMath::exp, 1, r -> uniform(r, -750, 750));
        checkUnary("exp near 0", IcMath::exp, StrictMath::exp, 1, r -> uniform(r, -1, 1) * Math.pow(2, -r.nextInt(60)));
    }

    @Test
    void logWithinOneUlp() {
        checkUnary("log", IcMath::log, StrictMath::log, 1, IcMathTest::anyPositiveDouble);
        checkUnary("log near 1", IcMath::log, StrictMath::log, 1, r -> 1 + uniform(r, -0.5, 0.5));
    }

    @Test
    void tanhWithinFourUlps() {
        checkUnary("tanh", IcMath::tanh, StrictMath::tanh, 4, r -> uniform(r, -25, 25));
        checkUnary("tanh small", IcMath::tanh, StrictMath::tanh, 4, r -> uniform(r, -1, 1) * Math.pow(2, -r.nextInt(40)));
        assertEquals(1.0, IcMath.tanh(1000));
        assertEquals(-1.0, IcMath.tanh(-1e308));
    }

    @Test
    void powWithinTwoUlps() {
        checkBinary("pow", IcMath::pow, StrictMath::pow, r -> uniform(r, 0, 100), r -> uniform(r, -50, 50));
        checkBinary("pow any", IcMath::pow, StrictMath::pow, IcMathTest::anyDouble, r -> uniform(r, -4, 4));
        checkBinary("pow integral", IcMath::pow, StrictMath::pow, r -> uniform(r, -10, 10), r -> r.nextInt(-30, 31));
        for (double x : SPECIAL) {
            for (double y : SPECIAL) {
                assertWithin("pow(" + x + ", " + y + ")", StrictMath.pow(x, y), IcMath.pow(x, y), 2);
            }
        }
    }

    private static void checkUnary(String name, DoubleUnaryOperator actual, DoubleUnaryOperator expected, int maxUlps,
            java.util.function.ToDoubleFunction<SplittableRandom> arguments) {
        for (double x : SPECIAL) {
            assertWithin(name + "(" + x + ")", expected.applyAsDouble(x), actual.applyAsDouble(x), maxUlps);
        }
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < SAMPLES; i++) {
            double x = arguments.applyAsDouble(random);
            assertWithin(name + "(" + x + ")", expected.applyAsDouble(x), actual.applyAsDouble(x), maxUlps);
        }
    }

    private static void checkBinary(String name, DoubleBinaryOperator actual, DoubleBinaryOperator expected,
            java.util.function.ToDoubleFunction<SplittableRandom> xs, java.util.function.ToDoubleFunction<SplittableRandom> ys) {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < SAMPLES / 2; i++) {
            double x = xs.applyAsDouble(random);
            double y = ys.applyAsDouble(random);
            assertWithin(name + "(" + x + ", " + y + ")", expected.applyAsDouble(x, y), actual.applyAsDouble(x, y), 2);
        }
    }

    /** Same NaN-ness, same infinity, same zero sign, otherwise at most maxUlps apart (counted in bit patterns). */
    private static void assertWithin(String what, double expected, double actual, int maxUlps) {
        if (Double.isNaN(expected) || Double.isNaN(actual) || Double.isInfinite(expected) || expected == 0) {
            assertEquals(Double.doubleToLongBits(expected), Double.doubleToLongBits(actual),
                    what + ": expected " + expected + " got " + actual);
            return;
        }
        long distance = Math.abs(Double.doubleToLongBits(expected) - Double.doubleToLongBits(actual));
        assertTrue(Math.signum(expected) == Math.signum(actual) && distance <= maxUlps,
                what + ": expected " + expected + " got " + actual + " (" + distance + " ulps)");
    }

    private static double uniform(SplittableRandom random, double from, double to) {
        return from + (to - from) * random.nextDouble();
    }

    /** Any finite positive double, subnormals included: uniform over bit patterns. */
    private static double anyPositiveDouble(SplittableRandom random) {
        return Double.longBitsToDouble(random.nextLong(1, 0x7ff0000000000000L));
    }

    private static double anyDouble(SplittableRandom random) {
        double x = anyPositiveDouble(random);
        return random.nextBoolean() ? x : -x;
    }
}
