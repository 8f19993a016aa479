package io.vigil.agent.fence;

import io.vigil.agent.libvirt.ProcFiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vigil.agent.lease.LocalStateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The watchdog as the agent runs it: its own JVM, started through {@link FenceWatchdogProcess}, outliving the call. */
class FenceWatchdogProcessTest {
    @TempDir Path dir;
    Process qemu;
    long watchdogPid;

    @AfterEach
    void cleanUp() {
        if (qemu != null) qemu.destroyForcibly();
        if (watchdogPid > 0) ProcessHandle.of(watchdogPid).ifPresent(ProcessHandle::destroyForcibly);
    }

    @Test
    void aSeparateWatchdogProcessKillsTheGuestAfterTheDeadlineAndIsNotStartedTwice() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/cmdline")), "needs Linux /proc");
        qemu = new ProcessBuilder("bash", "-c", "exec -a \"$0\" sleep 60", "qemu guest=vmP,debug").start();
        FenceWatchdogProcess watchdog = new FenceWatchdogProcess(dir, System.getProperty("java.class.path"));
        assertTrue(watchdog.alivePid().isEmpty());

        watchdogPid = watchdog.ensureRunning(20_000);
        assertEquals(watchdogPid, watchdog.ensureRunning(20_000), "the live one is reused");
        assertNotEquals(ProcessHandle.current().pid(), watchdogPid);
        List<String> argv = ProcFiles.cmdline(watchdogPid);
        assertTrue(argv.contains(FenceWatchdogMain.class.getName()) && argv.contains("-Xmx24m"), argv.toString());
        assertNotEquals(session(ProcessHandle.current().pid()), session(watchdogPid), "setsid: a session of its own");

        long deadline = System.nanoTime() + 2_000_000_000L;
        FenceDeadlineFile.write(dir, new FenceDeadline("h1", LocalStateStore.currentBootId(), deadline,
                List.of(new FenceDeadline.GuardedVm("vmP", qemu.pid())), ProcessHandle.current().pid()));
        // Watch the guest: the last time it was seen alive must be close to the deadline (not killed early), and it
        // must be gone soon after. Polling, not one sleep, so that a loaded machine cannot make the check itself late.
        long lastSeenAlive = -1;
        while (System.nanoTime() - deadline < 5_000_000_000L) {
            long before = System.nanoTime();
            if (!qemu.isAlive()) break;
            lastSeenAlive = before;
            Thread.sleep(10);
        }
        assertTrue(qemu.waitFor(1, TimeUnit.SECONDS), "killed after its deadline");
        long earlyMillis = (deadline - lastSeenAlive) / 1_000_000;
        assertTrue(earlyMillis < 500, "alive until its deadline: last seen alive " + earlyMillis + " ms before it");
        long lateMillis = (System.nanoTime() - deadline) / 1_000_000;
        assertTrue(lateMillis < 1000, "killed " + lateMillis + " ms after the deadline");
        // the watchdog logs right after its SIGKILL, so the line may land a moment after the guest is gone
        long logDeadline = System.nanoTime() + 5_000_000_000L;
        while (!Files.readString(dir.resolve(FenceWatchdogProcess.LOG_FILE)).contains("FENCE WATCHDOG: killed QEMU of vmP")
                && System.nanoTime() < logDeadline) Thread.sleep(50);
        assertTrue(Files.readString(dir.resolve(FenceWatchdogProcess.LOG_FILE)).contains("FENCE WATCHDOG: killed QEMU of vmP"));
        assertTrue(ProcessHandle.of(watchdogPid).map(ProcessHandle::isAlive).orElse(false), "keeps guarding");
    }

    /** Field 6 of /proc/pid/stat. */
    static String session(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[3];
    }
}
