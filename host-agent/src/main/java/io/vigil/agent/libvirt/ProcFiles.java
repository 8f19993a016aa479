package io.vigil.agent.libvirt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Reading other processes' command lines from /proc (Linux). */
public final class ProcFiles {
    private ProcFiles() {}

    /** The argv of {@code pid}; empty when the process is gone (or is a kernel thread, or not ours to read). */
    public static List<String> cmdline(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            if (raw.length == 0) return List.of();
            String all = new String(raw, StandardCharsets.UTF_8);
            if (all.endsWith("\0")) all = all.substring(0, all.length() - 1);
            return Arrays.asList(all.split("\0", -1));
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * Whether {@code pid} is a QEMU for guest {@code vm}: one of its arguments contains {@code guest=<vm>,} or ends
     * with {@code guest=<vm>} (libvirt passes {@code -name guest=<vm>,debug-threads=on}). Guards against a pid
     * reused by another process after the VM stopped.
     */
    public static boolean runsGuest(long pid, String vm) {
        String named = "guest=" + vm;
        for (String arg : cmdline(pid)) {
            if (arg.contains(named + ",") || arg.endsWith(named)) return true;
        }
        return false;
    }
}
