package io.vigil.memory.verbs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RdmaDevicesTest {
    /** Whether this machine has an RDMA device; the build machine has none. */
    static boolean hostHasRdmaDevice() {
        File[] devices = new File("/sys/class/infiniband").listFiles();
        return devices != null && devices.length > 0;
    }

    @Test
    void withoutADeviceTheProbeSaysSo() {
        assumeFalse(hostHasRdmaDevice(), "this host has an RDMA device");
        RdmaDevices.Probe probe = RdmaDevices.probe();
        assertFalse(probe.available());
        assertEquals(List.of(), probe.devices());
        String reason = probe.unavailableReason().orElseThrow();
        assertTrue(reason.startsWith("no RDMA device"), reason);
        if (!Files.exists(Path.of("/sys/class/infiniband_verbs")))
            assertTrue(reason.contains("kernel has no RDMA support"), "errno survives the JNA call: " + reason);
        assertEquals(Optional.of(reason), RdmaDevices.unavailableReason());
    }

    @Test
    void theLibrariesLoadHere() {
        // libibverbs and librdmacm are installed on the build machine, and the build bundles the shim.
        assertEquals(Optional.empty(), RdmaDevices.missingLibrary());
    }

    @Test
    void aProbeFindsDevicesOrSaysWhyNot() {
        assertThrows(IllegalArgumentException.class, () -> new RdmaDevices.Probe(List.of(), Optional.empty()));
        assertThrows(IllegalArgumentException.class,
                () -> new RdmaDevices.Probe(List.of("mlx5_0"), Optional.of("no RDMA device")));
        assertTrue(new RdmaDevices.Probe(List.of("mlx5_0"), Optional.empty()).available());
    }

    /** A binding whose library does not exist, standing in for libibverbs on a host without rdma-core. */
    static final class Absent {
        static final Optional<String> UNAVAILABLE = NativeBinding.register(Absent.class, "vigil_no_such_library");

        static native int absent_call();
    }

    @Test
    void aMissingLibraryIsReportedNotThrown() {
        String reason = Absent.UNAVAILABLE.orElseThrow();
        assertTrue(reason.startsWith("vigil_no_such_library: "), reason);
        assertThrows(UnsatisfiedLinkError.class, Absent::absent_call, "and its calls fail, without crashing the JVM");
    }
}
