package io.vigil.memory.verbs;

import com.sun.jna.Pointer;
import java.util.Optional;

/** The libibverbs calls of the control path (JNA direct mapping); failures set errno ({@code Native.getLastError}). */
final class Ibverbs {
    /** Why libibverbs could not be loaded, if it could not. */
    // The runtime package's soname: hosts without the -dev package have no unversioned libibverbs.so.
    static final Optional<String> UNAVAILABLE = NativeBinding.register(Ibverbs.class, "libibverbs.so.1");

    private Ibverbs() {}

    static native Pointer ibv_get_device_list(int[] count);

    static native void ibv_free_device_list(Pointer list);

    static native String ibv_get_device_name(Pointer device);

    static native Pointer ibv_alloc_pd(Pointer context);

    static native int ibv_dealloc_pd(Pointer pd);

    static native Pointer ibv_reg_mr(Pointer pd, Pointer addr, long length, int access);

    static native int ibv_dereg_mr(Pointer mr);

    static native Pointer ibv_create_cq(Pointer context, int cqe, Pointer cqContext, Pointer channel, int compVector);

    static native int ibv_destroy_cq(Pointer cq);

    static native String ibv_wc_status_str(int status);
}
