package org.icgpt2.teavm;

import org.teavm.backend.wasm.TeaVMWasmHost;
import org.teavm.vm.spi.TeaVMHost;
import org.teavm.vm.spi.TeaVMPlugin;

/**
 * TeaVM build plugin (loaded by the compiler through META-INF/services, never reached from canister code)
 * that makes the classic Wasm backend's output import only from {@code ic0}: TeaVM's host imports for
 * logging, time and maths are redirected to {@link IcRuntime} and {@link IcMath}, and Math.sqrt/floor/ceil
 * become Wasm instructions ({@link IcMathIntrinsic}).
 */
public class IcPlugin implements TeaVMPlugin {
    @Override
    public void install(TeaVMHost host) {
        TeaVMWasmHost wasmHost = host.getExtension(TeaVMWasmHost.class);
        if (wasmHost == null) {
            return;
        }
        host.add(new IcRuntimeTransformer());
        wasmHost.add(context -> new IcMathIntrinsic());
    }
}
