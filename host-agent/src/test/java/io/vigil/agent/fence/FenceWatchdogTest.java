package io.vigil.agent.fence;

import io.vigil.agent.libvirt.ProcFiles;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vigil.agent.lease.LocalStateStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog's loop in this JVM, on real clocks, against real child processes standing in for QEMU: each is a
 * {@code sleep} whose argv reads {@code qemu guest=<vm>,debug}, as libvirt's {@code -name guest=<vm>,...} does.
 */
class FenceWatchdogTest {
    @TempDir Path dir;
    final List<Process> children = new ArrayList<>();
    String bootId;

    @BeforeEach
    void linux() {
        assumeTrue(Files.isReadable(Path.of("/proc/self/cmdline")), "needs Linux /proc");
        bootId = LocalStateStore.currentBootId();
    }

    @AfterEach
    void cleanUp() {
        children.forEach(Process::destroyForcibly);
    }

    /** A process whose /proc/pid/cmdline is {@code argv0 60}. */
    Process fakeQemu(String argv0) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", "exec -a \"$0\" sleep 60", argv0).start();
        children.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        // argv0 as the first argument: exec'd already (before, bash's own argv lists argv0 as its last argument)
        while (!ProcFiles.cmdline(p.pid()).stream().findFirst().orElse("").equals(argv0)) {
            assertTrue(System.nanoTime() < deadline, "the stand-in never showed its argv");
            Thread.sleep(10);
        }
        return p;
    }

    void writeDeadline(String boot, long deadlineNanos, FenceDeadline.GuardedVm... vms) throws Exception {
        FenceDeadlineFile.write(dir, new FenceDeadline("h1", boot, deadlineNanos, List.of(vms), ProcessHandle.current().pid()));
    }

    /** Runs the loop as FenceWatchdogMain does (a poll every 100 ms) for {@code millis}, renewing if asked. */
    List<Long> runFor(FenceWatchdog w, long millis, Runnable eachPoll) throws Exception {
        List<Long> killed = new ArrayList<>();
        long end = System.nanoTime() + millis * 1_000_000L;
        while (System.nanoTime() < end) {
            eachPoll.run();
            killed.addAll(w.poll());
            Thread.sleep(FenceWatchdogMain.POLL_MILLIS);
        }
        return killed;
    }

    @Test
    void killsTheGuardedQemuOnceItsDeadlinePasses() throws Exception {
        Process qemu = fakeQemu("qemu guest=vmX,debug");
        FenceWatchdog w = new FenceWatchdog(dir, bootId, System::nanoTime);
        long deadline = System.nanoTime() + 500_000_000L;
        writeDeadline(bootId, deadline, new FenceDeadline.GuardedVm("vmX", qemu.pid()));

        assertEquals(List.of(), w.poll());
        assertTrue(qemu.isAlive(), "alive before its deadline");
        List<Long> killed = runFor(w, 1000, () -> {});
        assertEquals(List.of(qemu.pid()), killed, "killed exactly once");
        assertTrue(qemu.waitFor(5, TimeUnit.SECONDS));
        assertEquals(137, qemu.exitValue(), "SIGKILL");
        assertTrue(System.nanoTime() > deadline);
    }

    @Test
    void aGuestNamedAtTheEndOfItsArgumentIsKilledToo() throws Exception {
        Process qemu = fakeQemu("guest=vmY");
        FenceWatchdog w = new FenceWatchdog(dir, bootId, System::nanoTime);
        writeDeadline(bootId, System.nanoTime() - 1, new FenceDeadline.GuardedVm("vmY", qemu.pid()));
        assertEquals(List.of(qemu.pid()), w.poll());
        assertTrue(qemu.waitFor(5, TimeUnit.SECONDS));
    }

    @Test
    void leavesTheQemuAloneWhileDeadlinesKeepBeingRenewed() throws Exception {
        Process qemu = fakeQemu("qemu guest=vmX,debug");
        FenceWatchdog w = new FenceWatchdog(dir, bootId, System::nanoTime);
        FenceDeadline.GuardedVm vm = new FenceDeadline.GuardedVm("vmX", qemu.pid());
        writeDeadline(bootId, System.nanoTime() + 300_000_000L, vm);
        // Renewed every poll with a 300 ms deadline, for 1.5 s: five deadlines' worth, none of them passes.
        List<Long> killed = runFor(w, 1500, () -> {
            try {
                writeDeadline(bootId, System.nanoTime() + 300_000_000L, vm);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertEquals(List.of(), killed);
        assertTrue(qemu.isAlive());

        // Renewals stop: it fires.
        assertEquals(List.of(qemu.pid()), runFor(w, 600, () -> {}));
        assertTrue(qemu.waitFor(5, TimeUnit.SECONDS));
    }

    @Test
    void aNewerDeadlineRearmsIt() throws Exception {
        Process first = fakeQemu("qemu guest=vmA,debug");
        Process second = fakeQemu("qemu guest=vmA,debug");
        FenceWatchdog w = new FenceWatchdog(dir, bootId, System::nanoTime);
        writeDeadline(bootId, System.nanoTime() - 1, new FenceDeadline.GuardedVm("vmA", first.pid()));
        assertEquals(List.of(first.pid()), w.poll());
        assertEquals(List.of(), w.poll(), "no repeat for the same deadline");

        writeDeadline(bootId, System.nanoTime() + 200_000_000L, new FenceDeadline.GuardedVm("vmA", second.pid()));
        assertEquals(List.of(), w.poll());
        assertEquals(List.of(second.pid()), runFor(w, 500, () -> {}));
    }

    @Test
    void doesNotKillAPidThatNoLongerRunsTheGuest() throws Exception {
        Process other = fakeQemu("qemu guest=vmOther,debug");
        Process prefix = fakeQemu("qemu guest=vmX1,debug"); // vmX1 is not vmX
        Process unrelated = fakeQemu("some-daemon --serve");
        FenceWatchdog w = new FenceWatchdog(dir, bootId, System::nanoTime);
        writeDeadline(bootId, System.nanoTime() - 1,
                new FenceDeadline.GuardedVm("vmX", other.pid()),
                new FenceDeadline.GuardedVm("vmX", prefix.pid()),
                new FenceDeadline.GuardedVm("vmX", unrelated.pid()));
        assertEquals(List.of(), runFor(w, 300, () -> {}));
        assertTrue(other.isAlive() && prefix.isAlive() && unrelated.isAlive());
    }

    @Test
    void aDeadlineFromAnotherBootGuardsNothing() throws Exception {
        Process qemu = fakeQemu("qemu guest=vmX,debug");
        FenceWatchdog w = new FenceWatchdog(dir, bootId, System::nanoTime);
        writeDeadline("another-boot-" + bootId, System.nanoTime() - 1, new FenceDeadline.GuardedVm("vmX", qemu.pid()));
        assertEquals(List.of(), runFor(w, 300, () -> {}));
        assertTrue(qemu.isAlive());
    }

    @Test
    void aMissingOrCorruptFileGuardsNothingUntilAValidOneAppears() throws Exception {
        Process qemu = fakeQemu("qemu guest=vmX,debug");
        FenceWatchdog w = new FenceWatchdog(dir, bootId, System::nanoTime);
        assertEquals(List.of(), w.poll());
        Files.writeString(FenceDeadlineFile.in(dir), "{not json");
        assertEquals(List.of(), w.poll());
        Files.writeString(FenceDeadlineFile.in(dir), "{}");
        assertEquals(List.of(), w.poll());
        assertTrue(qemu.isAlive());
        writeDeadline(bootId, System.nanoTime() - 1, new FenceDeadline.GuardedVm("vmX", qemu.pid()));
        assertEquals(List.of(qemu.pid()), w.poll());
    }
}
