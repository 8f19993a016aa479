package io.vigil.memory.verbs;

import com.sun.jna.Pointer;
import java.util.Optional;

/**
 * The librdmacm calls of connection setup (JNA direct mapping). Calls returning int return 0, or -1 with errno set
 * ({@code Native.getLastError}); out-parameters are 8-byte buffers Java reads the pointer from.
 */
final class RdmaCm {
    /** Why librdmacm could not be loaded, if it could not. */
    static final Optional<String> UNAVAILABLE = NativeBinding.register(RdmaCm.class, "librdmacm.so.1");

    private RdmaCm() {}

    static native Pointer rdma_create_event_channel();

    static native void rdma_destroy_event_channel(Pointer channel);

    static native int rdma_create_id(Pointer channel, Pointer idOut, Pointer context, int portSpace);

    static native int rdma_destroy_id(Pointer id);

    static native int rdma_bind_addr(Pointer id, Pointer sockaddr);

    static native int rdma_listen(Pointer id, int backlog);

    /** The port in network byte order. */
    static native short rdma_get_src_port(Pointer id);

    static native int rdma_resolve_addr(Pointer id, Pointer srcAddr, Pointer dstAddr, int timeoutMs);

    static native int rdma_resolve_route(Pointer id, int timeoutMs);

    static native int rdma_create_qp(Pointer id, Pointer pd, Pointer qpInitAttr);

    static native void rdma_destroy_qp(Pointer id);

    static native int rdma_connect(Pointer id, Pointer connParam);

    static native int rdma_accept(Pointer id, Pointer connParam);

    static native int rdma_reject(Pointer id, Pointer privateData, byte privateDataLen);

    static native int rdma_disconnect(Pointer id);

    static native int rdma_get_cm_event(Pointer channel, Pointer eventOut);

    static native int rdma_ack_cm_event(Pointer event);

    static native String rdma_event_str(int event);
}
