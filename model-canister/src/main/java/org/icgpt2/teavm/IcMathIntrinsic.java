package org.icgpt2.teavm;

import org.teavm.ast.InvocationExpr;
import org.teavm.backend.wasm.intrinsics.WasmIntrinsic;
import org.teavm.backend.wasm.intrinsics.WasmIntrinsicManager;
import org.teavm.backend.wasm.model.expression.WasmExpression;
import org.teavm.backend.wasm.model.expression.WasmFloatType;
import org.teavm.backend.wasm.model.expression.WasmFloatUnary;
import org.teavm.backend.wasm.model.expression.WasmFloatUnaryOperation;
import org.teavm.model.MethodReference;
import org.teavm.model.ValueType;

/** Compiles Math.sqrt/floor/ceil(double) to f64.sqrt/floor/ceil (exact IEEE results, no host import). */
class IcMathIntrinsic implements WasmIntrinsic {
    @Override
    public boolean isApplicable(MethodReference method) {
        return method.getClassName().equals("java.lang.Math") && operation(method) != null
                && method.parameterCount() == 1 && method.parameterType(0) == ValueType.DOUBLE;
    }

    @Override
    public WasmExpression apply(InvocationExpr invocation, WasmIntrinsicManager manager) {
        WasmExpression argument = manager.generate(invocation.getArguments().get(0));
        return new WasmFloatUnary(WasmFloatType.FLOAT64, operation(invocation.getMethod()), argument);
    }

    private static WasmFloatUnaryOperation operation(MethodReference method) {
        switch (method.getName()) {
            case "sqrt":
                return WasmFloatUnaryOperation.SQRT;
            case "floor":
                return WasmFloatUnaryOperation.FLOOR;
            case "ceil":
                return WasmFloatUnaryOperation.CEIL;
            default:
                return null;
        }
    }
}
