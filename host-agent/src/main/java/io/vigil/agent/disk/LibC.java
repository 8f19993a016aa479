package io.vigil.agent.disk;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/** The few libc calls Java has no API for: sparse-file queries and hole punching (Linux, x86_64/aarch64 ABI). */
public interface LibC extends Library {
    int O_RDWR = 2;
    int O_CLOEXEC = 0x80000;
    int SEEK_DATA = 3;
    int SEEK_HOLE = 4;
    int FALLOC_FL_KEEP_SIZE = 0x01;
    int FALLOC_FL_PUNCH_HOLE = 0x02;
    int FALLOC_FL_ZERO_RANGE = 0x10;
    int ENXIO = 6;

    int open(String path, int flags) throws LastErrorException;

    long lseek(int fd, long offset, int whence) throws LastErrorException;

    int fallocate(int fd, int mode, long offset, long length) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    /** libc, or null where it cannot be loaded (then images are treated as fully allocated). */
    static LibC load() {
        try {
            return Native.load("c", LibC.class);
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
    }
}
