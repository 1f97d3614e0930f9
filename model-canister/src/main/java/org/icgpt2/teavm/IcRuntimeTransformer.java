package org.icgpt2.teavm;

import java.util.Map;
import org.teavm.backend.javascript.spi.GeneratedBy;
import org.teavm.interop.Import;
import org.teavm.model.ClassHierarchy;
import org.teavm.model.ClassHolder;
import org.teavm.model.ClassHolderTransformer;
import org.teavm.model.ClassHolderTransformerContext;
import org.teavm.model.ClassReader;
import org.teavm.model.ElementModifier;
import org.teavm.model.MethodHolder;
import org.teavm.model.MethodReader;
import org.teavm.model.ValueType;
import org.teavm.model.emit.ProgramEmitter;
import org.teavm.model.emit.ValueEmitter;

/**
 * Replaces the bodies of runtime methods that import from TeaVM's host (or compute badly) with a call to
 * the static method of the same name and descriptor in a replacement class; the same technique TeaVM uses
 * for WASI. A replacement class therefore declares exactly the methods it overrides.
 */
class IcRuntimeTransformer implements ClassHolderTransformer {
    private static final Map<String, String> REPLACEMENTS = Map.of(
            "org.teavm.backend.wasm.runtime.WasmSupport", IcRuntime.class.getName(),
            "java.lang.System", IcRuntime.class.getName(),
            "java.lang.Math", IcMath.class.getName());

    @Override
    public void transformClass(ClassHolder cls, ClassHolderTransformerContext context) {
        String replacement = REPLACEMENTS.get(cls.getName());
        if (replacement == null) {
            return;
        }
        ClassHierarchy hierarchy = context.getHierarchy();
        ClassReader replacementClass = hierarchy.getClassSource().get(replacement);
        for (MethodHolder method : cls.getMethods()) {
            MethodReader target = replacementClass.getMethod(method.getDescriptor());
            if (target != null && target.hasModifier(ElementModifier.STATIC)) {
                redirect(method, target, hierarchy);
            }
        }
    }

    private static void redirect(MethodHolder method, MethodReader target, ClassHierarchy hierarchy) {
        method.getModifiers().remove(ElementModifier.NATIVE);
        method.getAnnotations().remove(Import.class.getName());
        method.getAnnotations().remove(GeneratedBy.class.getName());
        ProgramEmitter pe = ProgramEmitter.create(method, hierarchy);
        ValueEmitter[] args = new ValueEmitter[method.parameterCount()];
        for (int i = 0; i < args.length; i++) {
            args[i] = pe.var(i + 1, method.parameterType(i));
        }
        ValueEmitter result = pe.invoke(target.getReference(), args);
        if (method.getResultType() == ValueType.VOID) {
            pe.exit();
        } else {
            result.returnValue();
        }
    }
}
