package io.vigil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vigil.agent.config.AgentConfig;
import io.vigil.agent.fence.FenceDeadline;
import io.vigil.agent.fence.FenceDeadlineFile;
import io.vigil.agent.libvirt.TestLibvirt;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clean host shutdown of a real agent with real QEMU and its fence watchdog process, no controller reachable: the
 * VMs are stopped before the agent exits, and the fence deadline it leaves lists none, so the fence watchdog has
 * nothing to kill once renewals end.
 */
class HostShutdownOnQemuTest {
    @TempDir Path dir;
    HostAgent agent;

    @AfterEach
    void stop() {
        if (agent != null) agent.close();
        // the fence watchdog process exits by itself once the state directory is removed with the temp dir
    }

    @Test
    void aCleanHostShutdownStopsTheVmsAndLeavesTheFenceWatchdogNothingToKill() throws Exception {
        assumeTrue(TestLibvirt.qemuInstalled(), "QEMU is not installed");
        Files.createDirectories(dir.resolve("shared"));
        Path state = dir.resolve("state");
        agent = HostAgent.start(new AgentConfig("q1", List.of("ws://127.0.0.1:1/agent/v1"), TestLibvirt.uri(),
                dir.resolve("shared"), state, 4096L, 2, 1000L, 4000L, 3000L, 1000L, true, "auto", 0L, 1L));
        assertTrue(agent.execute(new AgentCommand.StartVm("q-1", "hs-q1", TestLibvirt.domainXml("hs-q1"), 1, true)).get().ok());
        FenceDeadline guarded = FenceDeadlineFile.read(state).orElseThrow();
        assertEquals(List.of("hs-q1"), guarded.vms().stream().map(FenceDeadline.GuardedVm::name).toList());
        long qemu = guarded.vms().get(0).pid();

        var outcome = agent.shutDownHost("test");
        assertEquals(List.of("hs-q1"), outcome.stoppedHere());
        assertFalse(ProcessHandle.of(qemu).map(ProcessHandle::isAlive).orElse(false), "its QEMU is gone");
        assertEquals(List.of(), FenceDeadlineFile.read(state).orElseThrow().vms(), "nothing left to fence");
        assertTrue(Files.exists(new SharedStorage(dir.resolve("shared")).vmLeaseDir("hs-q1").resolve("gen-1.released")));
    }
}
