package io.vigil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vigil.agent.config.AgentConfig;
import io.vigil.agent.disk.GuestImages;
import io.vigil.agent.libvirt.ProcFiles;
import io.vigil.agent.libvirt.QemuPidFiles;
import io.vigil.agent.libvirt.TestLibvirt;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.AgentMessage.CommandResult;
import io.vigil.protocol.CacheMode;
import io.vigil.protocol.VmReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real agent serving a real VM's disk through its NBD server and write-back cache: the VM boots its BIOS from the
 * disk, its guest writes and reads the disk in a loop, and the agent restarts under it. The guest must never see an
 * I/O error (it would print 'E'), its writes must carry on once the new agent serves the disk from the same arena,
 * and after the VM is stopped the image must hold the guest's last write.
 */
class CachedDiskOnQemuTest {
    @TempDir Path dir;
    HostAgent agent;

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.execute(new AgentCommand.DestroyVm("cleanup", "cd-q1")).get();
            agent.execute(new AgentCommand.UndefineVm("cleanup-2", "cd-q1")).get();
            agent.close();
        }
    }

    private AgentConfig config(Path shortDir) {
        return new AgentConfig("cq1", List.of("ws://127.0.0.1:1/agent/v1"), TestLibvirt.uri(), dir.resolve("shared"),
                dir.resolve("state"), 4096L, 2, 1000L, 10_000L, 3000L, 1000L, false, "auto", 0L, 1L, true,
                shortDir.resolve("nbd.sock"), dir.resolve("arenas"));
    }

    @Test
    void aVmBootsFromItsCachedDiskAndKeepsWritingThroughAnAgentRestart() throws Exception {
        assumeTrue(TestLibvirt.qemuInstalled(), "QEMU is not installed");
        Path shortDir = Files.createTempDirectory(Path.of("/tmp"), "vcq-"); // UNIX socket paths are short
        Path image = GuestImages.diskLoop(dir.resolve("shared/images/cd-q1.img"), 4);
        Path serial = dir.resolve("serial.log");
        agent = HostAgent.start(config(shortDir));
        agent.cacheBudgets(Map.of("cd-q1", 16L));

        CommandResult started = agent.execute(new AgentCommand.StartVm("c-1", "cd-q1",
                GuestImages.domainXml("cd-q1", TestLibvirt.domainType(), image, serial), 1, true, null,
                CacheMode.WRITE_BACK, 0)).get();
        assertTrue(started.ok(), started.error());
        long qemu = QemuPidFiles.forUri(TestLibvirt.uri()).orElseThrow().pidOf("cd-q1").orElseThrow();
        String cmdline = String.join(" ", ProcFiles.cmdline(qemu));
        assertTrue(cmdline.contains("\"driver\":\"nbd\"") && cmdline.contains(shortDir.resolve("nbd.sock/cd-q1.sock").toString()),
                "QEMU reads its disk from the agent's NBD socket: " + cmdline);

        waitFor(() -> dots(serial) >= 10, 30_000, "the guest booted from its disk and writes it (serial: " + read(serial) + ")");
        VmReport report = agent.heartbeat(1).inventory().vms().stream().filter(v -> v.name().equals("cd-q1")).findFirst().orElseThrow();
        assertTrue(report.cacheBytes() > 0, "the disk is read through the cache: " + report);

        // The agent restarts under the running VM: its arenas stay, QEMU pauses on a failed disk request meanwhile.
        agent.close();
        long atRestart = dots(serial);
        Thread.sleep(1500);
        agent = HostAgent.start(config(shortDir));
        waitFor(() -> dots(serial) >= atRestart + 10, 30_000,
                "the guest writes its disk again after the restart (" + atRestart + " before; serial: " + read(serial) + ")");
        assertFalse(read(serial).contains("E"), "the guest never saw a disk error: " + read(serial));

        CommandResult destroyed = agent.execute(new AgentCommand.DestroyVm("c-2", "cd-q1")).get();
        assertTrue(destroyed.ok(), destroyed.error());
        long written = dots(serial);
        long counter = GuestImages.writeCounter(image);
        assertTrue(counter == written || counter == written + 1,
                "the image holds the guest's last write once the cache is written back: counter " + counter
                        + ", completed writes " + written);
        try (var arenas = Files.list(dir.resolve("arenas"))) {
            assertEquals(List.of(), arenas.toList(), "a released cache leaves no arena behind");
        }
    }

    private static long dots(Path serial) {
        return read(serial).chars().filter(c -> c == '.').count();
    }

    private static String read(Path serial) {
        try {
            return Files.exists(serial) ? Files.readString(serial) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static void waitFor(BooleanSupplier condition, long millis, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) throw new AssertionError("timed out waiting: " + what);
            Thread.sleep(100);
        }
    }
}
