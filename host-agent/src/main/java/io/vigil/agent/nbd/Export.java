package io.vigil.agent.nbd;

import io.vigil.agent.disk.BlockDevice;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** A disk served under a name, e.g. {@code vm1/vda}; the description is shown to clients that ask for it. */
public record Export(String name, String description, BlockDevice device) {
    public Export {
        Objects.requireNonNull(device, "device");
        description = description == null ? "" : description;
        checkString("export name", name);
        checkString("export description", description);
    }

    private static void checkString(String what, String value) {
        Objects.requireNonNull(value, what);
        if (value.getBytes(StandardCharsets.UTF_8).length > NbdProtocol.MAX_STRING || value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " must be at most 4096 bytes of UTF-8 without NUL: " + value);
        }
    }
}
