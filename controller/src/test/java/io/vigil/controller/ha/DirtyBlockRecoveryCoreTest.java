package io.vigil.controller.ha;

import static org.junit.jupiter.api.Assertions.*;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.CacheMode;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import io.vigil.protocol.memory.RecoveryReport;
import io.vigil.protocol.memory.RecoverySource;
import io.vigil.protocol.memory.RegionGrant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A failover start of a VM whose host reported a memory keeper carries where its dirty cache blocks are and a grant
 * to read them; write-through VMs and hosts without a keeper get none; the agent's account becomes a cache-recovered
 * or cache-unrecovered event, a step of the failover.
 */
class DirtyBlockRecoveryCoreTest {
    private static final String KEY = Base64.getEncoder().encodeToString(new byte[32]);

    /** Three hosts, a write-back and a write-through VM; the write-back VM's host reports a keeper (or not) and dirty cache. */
    private static FakeCluster cluster(boolean keeper) {
        FakeCluster c = new FakeCluster();
        for (String h : List.of("h1", "h2", "h3")) c.addHost(h);
        c.create(FakeCluster.spec("wb", 200, true, Priority.HIGH, RequestedState.STARTED).withCacheMode(CacheMode.WRITE_BACK));
        c.create(FakeCluster.spec("wt", 200, true, Priority.HIGH, RequestedState.STARTED)
                .withCacheMode(CacheMode.WRITE_THROUGH));
        c.run(2000);
        FakeCluster.Agent home = c.agents.get(c.vm("wb").host());
        if (keeper) home.memoryKeeper = new MemoryKeeperEndpoint(home.name, "127.0.0.1", 7001, 0, KEY);
        VmReport r = home.domains.get("wb");
        home.domains.put("wb", new VmReport("wb", r.uuid(), VmPowerState.RUNNING, r.memoryMiB(), r.vcpus(),
                r.leaseGeneration(), 64L << 20, 8L << 20, 1_700_000_000_000L));
        c.run(2000); // a heartbeat carries the keeper and the dirty figures
        return c;
    }

    private static AgentCommand.StartVm lastStart(FakeCluster c, String vm) {
        return c.sent(AgentCommand.StartVm.class).stream().map(s -> (AgentCommand.StartVm) s.command())
                .filter(s -> s.vm().equals(vm)).reduce((a, b) -> b).orElseThrow();
    }

    /** Fails the host of {@code vm}; the other agents hold their results back. Returns the failed host. */
    private static String failHostOf(FakeCluster c, String vm) {
        String failed = c.vm(vm).host();
        for (String h : List.of("h1", "h2", "h3")) if (!h.equals(failed)) c.agents.get(h).mute = true;
        c.kill(failed);
        c.run(8000);
        return failed;
    }

    @Test
    void aFailoverStartOfAWriteBackVmCarriesAGrantForItsArenasOnlyToItsTarget() throws Exception {
        FakeCluster c = cluster(true);
        long generation = c.vm("wb").generation();
        String failed = failHostOf(c, "wb");
        AgentCommand.StartVm start = lastStart(c, "wb");
        String target = c.vm("wb").host();
        assertNotEquals(failed, target);
        RecoverySource from = start.recoverFrom();
        assertNotNull(from, "a write-back VM's failover start recovers its dirty blocks");
        assertEquals(failed, from.host());
        assertEquals(7001, from.keeper().tcpPort());
        assertEquals(null, from.keeper().grantKey(), "the target host gets a grant, never the keeper's key");
        assertEquals(generation, from.generation(), "arenas older than the generation h1 held are stale");
        assertEquals(1_700_000_000_000L, from.lastWriteBackMillis());
        assertEquals(8L << 20, from.dirtyBytes());
        RegionGrant grant = RegionGrant.parse(from.grant());
        grant.verify(KEY, failed, c.now.epochMillis()); // signed with the failed host's keeper key, not yet expired
        assertThrows(RegionGrant.Refused.class, () -> grant.verify(KEY, failed,
                c.now.epochMillis() + Recoveries.GRANT_TTL_MILLIS + 1), "short-lived");
        assertEquals(target, grant.grantee());
        assertTrue(grant.covers("wb/vda"));
        assertFalse(grant.covers("wt/vda"), "a grant covers the VM's own arenas only");
        assertThrows(RegionGrant.Refused.class, () -> grant.verify(KEY, target, c.now.epochMillis()),
                "worthless at another keeper");

        c.step(new HaInput.CommandCompleted(target, start.id(), "wb", true, null, start.generation(), null,
                new RecoveryReport(failed, "tcp", RecoveryReport.RECOVERED, 1, 2048, 8L << 20, 1, 2, 0, 85, 0, null)));
        c.assertVm("wb", VmState.RUNNING, target);
        ClusterEvent e = c.lastEvent("cache-recovered");
        assertEquals(target, e.host());
        assertEquals(2048L, e.details().get("blocks"));
        assertEquals(8L << 20, e.details().get("bytes"));
        assertEquals(85L, e.details().get("millis"));
        assertEquals(failed + "-1", e.details().get("failover"));
        assertTrue(e.message().contains("2048 dirty blocks (8.0 MiB)") && e.message().contains("1 torn and 2 corrupt"),
                e.message());
        List<String> types = c.eventTypes();
        assertTrue(types.lastIndexOf("cache-recovered") < types.lastIndexOf("vm-started"), types.toString());
    }

    @Test
    void anUnreachableMemoryIsAnEventNamingTheUnflushedWindow() {
        FakeCluster c = cluster(true);
        String failed = failHostOf(c, "wb");
        AgentCommand.StartVm start = lastStart(c, "wb");
        String target = c.vm("wb").host();
        c.step(new HaInput.CommandCompleted(target, start.id(), "wb", true, null, start.generation(), null,
                new RecoveryReport(failed, "tcp", RecoveryReport.UNREACHABLE, 0, 0, 0, 0, 0, 0, 1500,
                        1_700_000_000_000L, "connection refused")));
        c.assertVm("wb", VmState.RUNNING, target);
        ClusterEvent e = c.lastEvent("cache-unrecovered");
        assertTrue(e.message().contains("unflushed window: writes acknowledged after 2023-11-14T22:13:20Z"), e.message());
        assertEquals("2023-11-14T22:13:20Z", e.details().get("unflushedSince"));
    }

    @Test
    void aRecoveryReportedAfterAHeartbeatShowedTheVmRunningIsStillAnEvent() {
        FakeCluster c = cluster(true);
        String failed = failHostOf(c, "wb");
        AgentCommand.StartVm start = lastStart(c, "wb");
        String target = c.vm("wb").host();
        FakeCluster.Agent t = c.agents.get(target);
        t.domains.put("wb", new VmReport("wb", "uuid-wb", VmPowerState.RUNNING, 200, 1, start.generation()));
        c.run(2000); // the target's heartbeat says running before its command result arrives
        c.assertVm("wb", VmState.RUNNING, target);
        c.step(new HaInput.CommandCompleted(target, start.id(), "wb", true, null, start.generation(), null,
                new RecoveryReport(failed, "tcp", RecoveryReport.RECOVERED, 1, 10, 40960, 0, 0, 0, 12, 0, null)));
        ClusterEvent e = c.lastEvent("cache-recovered");
        assertEquals(10L, e.details().get("blocks"));
        c.assertVm("wb", VmState.RUNNING, target);
    }

    @Test
    void writeThroughVmsAndHostsWithoutAKeeperRecoverNothing() {
        FakeCluster withKeeper = cluster(true);
        FakeCluster.Agent home = withKeeper.agents.get(withKeeper.vm("wt").host());
        home.memoryKeeper = new MemoryKeeperEndpoint(home.name, "127.0.0.1", 7002, 0, KEY);
        withKeeper.run(2000);
        failHostOf(withKeeper, "wt");
        assertNull(lastStart(withKeeper, "wt").recoverFrom(), "write-through: every acknowledged write is on the image");

        FakeCluster without = cluster(false);
        failHostOf(without, "wb");
        assertNull(lastStart(without, "wb").recoverFrom(), "no keeper reported: nothing to read from");
    }
}
