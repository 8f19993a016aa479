package io.vigil.memory.verbs;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.Optional;

/** Binds a class's static native methods to a library (JNA direct mapping) without letting a missing library escape. */
final class NativeBinding {
    private NativeBinding() {}

    /**
     * Registers {@code bindings}' native methods with {@code library}; returns why that failed, if it did. A host
     * without the library (or without a symbol we call) must still start and fall back to tcp, so no linkage error
     * may escape a static initializer.
     */
    static Optional<String> register(Class<?> bindings, String library) {
        try {
            Native.register(bindings, NativeLibrary.getInstance(library));
            return Optional.empty();
        } catch (LinkageError | RuntimeException e) {
            return Optional.of(library + ": " + e.getMessage());
        }
    }
}
