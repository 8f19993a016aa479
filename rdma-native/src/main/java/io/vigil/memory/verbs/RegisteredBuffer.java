package io.vigil.memory.verbs;

import com.sun.jna.Pointer;

/** Local memory registered with the device for RDMA READ to write into: where it is, its size, its local key. */
record RegisteredBuffer(Pointer address, int length, int lkey) {
    RegisteredBuffer {
        if (address == null) throw new IllegalArgumentException("address is required");
        if (length <= 0) throw new IllegalArgumentException("length must be positive: " + length);
    }
}
