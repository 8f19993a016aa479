package io.vigil.memory.verbs;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.util.Optional;

/** The libc calls the verbs transport needs: mapping arena files and bounce buffers, and describing errno values. */
final class Libc {
    static final Optional<String> UNAVAILABLE = NativeBinding.register(Libc.class, Platform.C_LIBRARY_NAME);

    private Libc() {}

    static native int open(String path, int flags);

    static native int close(int fd);

    static native Pointer mmap(Pointer addr, long length, int prot, int flags, int fd, long offset);

    static native int munmap(Pointer addr, long length);

    static native String strerror(int errnum);

    /** {@code "<what>: <strerror(errno)>"} for the errno the last native call on this thread left. */
    static String lastError(String what) {
        return describe(what, Native.getLastError());
    }

    static String describe(String what, int errno) {
        String text = UNAVAILABLE.isEmpty() ? strerror(errno) : null;
        return what + ": " + (text == null ? "errno " + errno : text + " (errno " + errno + ")");
    }
}
