package io.vigil.memory.verbs;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether this host can use the verbs transport: the native libraries load, the shim agrees with this code on
 * structure layouts, and libibverbs sees at least one RDMA device. When it cannot, callers log the reason once and
 * use the tcp transport.
 */
public final class RdmaDevices {
    private static final int ENOSYS = 38;

    /** The RDMA devices found ({@code mlx5_0}, {@code rxe0}, ...), or none and why. */
    public record Probe(List<String> devices, Optional<String> unavailableReason) {
        public Probe {
            devices = List.copyOf(devices);
            if (devices.isEmpty() == unavailableReason.isEmpty())
                throw new IllegalArgumentException("a probe finds devices or says why there are none");
        }

        public boolean available() {
            return unavailableReason.isEmpty();
        }
    }

    private RdmaDevices() {}

    public static Probe probe() {
        Optional<String> missing = missingLibrary();
        if (missing.isPresent()) return new Probe(List.of(), missing);
        int[] count = new int[1];
        Pointer list = Ibverbs.ibv_get_device_list(count);
        if (list == null) {
            int errno = Native.getLastError();
            return none(errno == ENOSYS ? "no RDMA device (the kernel has no RDMA support loaded)"
                    : "no RDMA device (" + Libc.describe("ibv_get_device_list", errno) + ")");
        }
        try {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < count[0]; i++)
                names.add(Ibverbs.ibv_get_device_name(list.getPointer((long) i * Native.POINTER_SIZE)));
            return names.isEmpty() ? none("no RDMA device") : new Probe(names, Optional.empty());
        } finally {
            Ibverbs.ibv_free_device_list(list);
        }
    }

    /** Why the verbs transport cannot be used here, or empty when it can. */
    public static Optional<String> unavailableReason() {
        return probe().unavailableReason();
    }

    /** Why the native side cannot be called at all: a library missing, or a shim built for other headers. */
    static Optional<String> missingLibrary() {
        if (Ibverbs.UNAVAILABLE.isPresent())
            return Optional.of("libibverbs not installed (" + Ibverbs.UNAVAILABLE.get() + ")");
        if (RdmaCm.UNAVAILABLE.isPresent())
            return Optional.of("librdmacm not installed (" + RdmaCm.UNAVAILABLE.get() + ")");
        if (Libc.UNAVAILABLE.isPresent()) return Optional.of("libc not callable (" + Libc.UNAVAILABLE.get() + ")");
        if (VerbsShim.UNAVAILABLE.isPresent())
            return Optional.of("the verbs shim did not load (" + VerbsShim.UNAVAILABLE.get() + ")");
        return layoutMismatch();
    }

    /** The first layout value on which the loaded shim and {@link VerbsLayout} disagree. */
    static Optional<String> layoutMismatch() {
        for (Map.Entry<String, Integer> e : VerbsLayout.constants().entrySet()) {
            long shim = VerbsShim.vigil_layout(e.getKey());
            if (shim != e.getValue())
                return Optional.of("the verbs shim was built for other rdma-core headers (" + e.getKey() + " is "
                        + shim + " in the shim, " + e.getValue() + " in Java)");
        }
        return Optional.empty();
    }

    private static Probe none(String reason) {
        return new Probe(List.of(), Optional.of(reason));
    }
}
