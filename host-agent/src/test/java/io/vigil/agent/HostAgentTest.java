package io.vigil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import io.vigil.agent.config.AgentConfig;
import io.vigil.agent.lease.VmLease;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.IsolationResponse;
import io.vigil.protocol.Json;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import io.vigil.protocol.storage.LeaderEpoch;
import io.vigil.protocol.storage.LeaderHeartbeat;
import io.vigil.protocol.storage.LeaderLeaseFiles;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real agent (libvirt's test driver) against a tiny Vert.x WebSocket server playing the controller.
 */
class HostAgentTest {
    @TempDir Path dir;
    Vertx vertx;
    HttpServer server;
    /** Everything the agent sent, in order; awaits search all of it (events can overtake command results). */
    final List<AgentMessage> fromAgent = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile ServerWebSocket agentSocket;
    int connections;
    HostAgent agent;
    AgentConfig config;
    /** The policy the fake controller's Welcome carries. */
    volatile AgentPolicy welcomePolicy = new AgentPolicy(300, 4000, IsolationResponse.NONE);

    @BeforeEach
    void controller() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().webSocketHandler(ws -> {
            connections++;
            agentSocket = ws;
            ws.textMessageHandler(text -> {
                AgentMessage m = Json.read(text, AgentMessage.class);
                fromAgent.add(m);
                if (m instanceof AgentMessage.Hello) {
                    ws.writeTextMessage(Json.write(new ControllerMessage.Welcome("c-test", List.of(), welcomePolicy)));
                }
            });
        }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        Files.createDirectories(dir.resolve("shared"));
        config = config("ws://127.0.0.1:" + server.actualPort() + "/agent/v1", 60);
    }

    private AgentConfig config(String controller, long hostShutdownTimeoutSeconds) {
        return new AgentConfig("t1", List.of(controller), "test:///default",
                dir.resolve("shared"), dir.resolve("state"), 100_000L, 2, 1000L, 4000L, 3000L, 1000L, true, "auto",
                hostShutdownTimeoutSeconds, 5L);
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) agent.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private <T extends AgentMessage> T await(Class<T> type, Predicate<T> matching) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            for (AgentMessage m : fromAgent) {
                if (type.isInstance(m) && matching.test(type.cast(m))) return type.cast(m);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no matching " + type.getSimpleName() + " from the agent");
    }

    private AgentMessage.Hello nextHello() throws InterruptedException {
        AgentMessage.Hello h = await(AgentMessage.Hello.class, x -> true);
        fromAgent.clear();
        return h;
    }

    private void send(ControllerMessage m) {
        agentSocket.writeTextMessage(Json.write(m));
    }

    private static String testDomain(String name) {
        return "<domain type='test'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                + "<os><type arch='x86_64'>hvm</type></os></domain>";
    }

    private static Optional<VmReport> vm(AgentMessage.Heartbeat hb, String name) {
        return hb.inventory().vms().stream().filter(v -> v.name().equals(name)).findFirst();
    }

    @Test
    void helloHeartbeatsAndIdempotentCommands() throws Exception {
        agent = HostAgent.start(config);
        AgentMessage.Hello hello = await(AgentMessage.Hello.class, h -> true);
        assertEquals("t1", hello.host());
        assertEquals(1, hello.hostGeneration());
        assertEquals(1, hello.protocolVersion());
        assertTrue(hello.storageOk());
        assertEquals(100_000, hello.inventory().memoryTotalMiB());
        assertEquals(2, hello.inventory().cpus());
        AgentMessage.Heartbeat first = await(AgentMessage.Heartbeat.class, h -> true);
        AgentMessage.Heartbeat second = await(AgentMessage.Heartbeat.class, h -> h.sequence() > first.sequence());
        assertTrue(second.sequence() > first.sequence());
        assertEquals(300, agent.policy().heartbeatIntervalMillis(), "the Welcome's policy applies");

        var start = new AgentCommand.StartVm("cmd-1", "agt-vm1", testDomain("agt-vm1"), 1, true);
        send(new ControllerMessage.Command(start, 1));
        AgentMessage.CommandResult started = await(AgentMessage.CommandResult.class, r -> r.commandId().equals("cmd-1"));
        assertTrue(started.ok(), started.error());
        assertEquals(1, started.leaseGeneration());
        assertEquals("agt-vm1", started.vm());
        await(AgentMessage.VmLifecycle.class, e -> e.vm().equals("agt-vm1") && e.event().equals("started"));
        SharedStorage storage = new SharedStorage(dir.resolve("shared"));
        assertEquals(new VmLease("agt-vm1", "t1", 1, 1),
                RecordFiles.read(storage.vmLeaseDir("agt-vm1").resolve("gen-1"), VmLease.class).orElseThrow());
        AgentMessage.Heartbeat withVm = await(AgentMessage.Heartbeat.class, h -> vm(h, "agt-vm1").isPresent());
        assertEquals(VmPowerState.RUNNING, vm(withVm, "agt-vm1").get().state());
        assertEquals(1, vm(withVm, "agt-vm1").get().leaseGeneration());
        assertEquals(first.inventory().memoryFreeMiB() - 64, withVm.inventory().memoryFreeMiB(), "running VMs use memory");

        // a new command on the running VM at the same generation is fine; the same command id is not run again
        send(new ControllerMessage.Command(new AgentCommand.StartVm("cmd-1b", "agt-vm1", testDomain("agt-vm1"), 1, true), 1));
        assertTrue(await(AgentMessage.CommandResult.class, r -> r.commandId().equals("cmd-1b")).ok());
        send(new ControllerMessage.Command(new AgentCommand.DestroyVm("cmd-2", "agt-vm1"), 1));
        assertTrue(await(AgentMessage.CommandResult.class, r -> r.commandId().equals("cmd-2")).ok());
        await(AgentMessage.VmLifecycle.class, e -> e.vm().equals("agt-vm1") && e.event().equals("stopped"));
        assertTrue(Files.exists(storage.vmLeaseDir("agt-vm1").resolve("gen-1.released")), "destroy releases the lease");
        send(new ControllerMessage.Command(start, 1));
        AgentMessage.CommandResult again = await(AgentMessage.CommandResult.class, r -> r.commandId().equals("cmd-1"));
        assertEquals(started, again, "same id, same result");
        long seen = fromAgent.stream().filter(m -> m instanceof AgentMessage.Heartbeat)
                .mapToLong(m -> ((AgentMessage.Heartbeat) m).sequence()).max().orElse(0);
        AgentMessage.Heartbeat after = await(AgentMessage.Heartbeat.class, h -> h.sequence() > seen + 1);
        assertEquals(VmPowerState.SHUTOFF, vm(after, "agt-vm1").orElseThrow().state(), "cmd-1 did not start the VM twice");
        assertEquals(0, vm(after, "agt-vm1").get().leaseGeneration());
        assertFalse(Files.exists(storage.vmLeaseDir("agt-vm1").resolve("gen-2")));

        // bad input: libvirt's reason, and nothing changes
        send(new ControllerMessage.Command(new AgentCommand.StartVm("cmd-3", "agt-bad",
                testDomain("agt-bad").replace("<memory unit='MiB'>64</memory>", "<memory unit='lots'>64</memory>"), 1, true), 1));
        AgentMessage.CommandResult invalid = await(AgentMessage.CommandResult.class, r -> r.commandId().equals("cmd-3"));
        assertFalse(invalid.ok());
        assertNotNull(invalid.error());
        assertTrue(invalid.error().contains("lots"), invalid.error());
        assertFalse(Files.exists(storage.vmLeaseDir("agt-bad")), "no lease taken for an invalid definition");
        send(new ControllerMessage.Command(new AgentCommand.StartVm("cmd-4", "agt-x", testDomain("agt-y"), 1, true), 1));
        AgentMessage.CommandResult mismatch = await(AgentMessage.CommandResult.class, r -> r.commandId().equals("cmd-4"));
        assertFalse(mismatch.ok());
        assertTrue(mismatch.error().contains("agt-y"), mismatch.error());

        // LostVms: the controller restarted it elsewhere; this host destroys it and forgets the lease
        send(new ControllerMessage.Command(new AgentCommand.StartVm("cmd-5", "agt-vm2", testDomain("agt-vm2"), 1, true), 1));
        assertTrue(await(AgentMessage.CommandResult.class, r -> r.commandId().equals("cmd-5")).ok());
        send(new ControllerMessage.LostVms(List.of("agt-vm2")));
        await(AgentMessage.VmLifecycle.class, e -> e.vm().equals("agt-vm2") && e.event().equals("stopped"));
        assertTrue(agent.vmLeases().held("agt-vm2").isEmpty());
        send(new ControllerMessage.Command(new AgentCommand.UndefineVm("cmd-6", "agt-vm1"), 1));
        assertTrue(await(AgentMessage.CommandResult.class, r -> r.commandId().equals("cmd-6")).ok());
        send(new ControllerMessage.Command(new AgentCommand.UndefineVm("cmd-7", "agt-vm2"), 1));
        assertTrue(await(AgentMessage.CommandResult.class, r -> r.commandId().equals("cmd-7")).ok());
    }

    @Test
    void reconnectsAfterTheControllerDropsTheConnection() throws Exception {
        agent = HostAgent.start(config);
        await(AgentMessage.Hello.class, h -> true);
        agentSocket.close();
        await(AgentMessage.Hello.class, h -> fromAgent.stream().filter(m -> m instanceof AgentMessage.Hello).count() == 2);
        AgentMessage.Hello again = (AgentMessage.Hello) fromAgent.stream().filter(m -> m instanceof AgentMessage.Hello).skip(1).findFirst().orElseThrow();
        assertEquals(1, again.hostGeneration());
        assertEquals(2, connections);
        int hellos = fromAgent.indexOf(again);
        await(AgentMessage.Heartbeat.class, h -> fromAgent.indexOf(h) > hellos);
    }

    @Test
    void restartWithinTheDeadlineResumesTheGenerationAndLaterOnesDoNot() throws Exception {
        agent = HostAgent.start(config);
        assertEquals(1, nextHello().hostGeneration());
        agent.close();
        agent = HostAgent.start(config);
        assertEquals(1, nextHello().hostGeneration(), "restarted within F: same generation");
        agent.close();
        agent = null;
        Thread.sleep(2600); // past F = 0.75 * 4 s - 0.5 s
        agent = HostAgent.start(config);
        assertEquals(2, nextHello().hostGeneration(), "lapsed: next generation");
    }

    private AgentMessage.CommandResult command(AgentCommand c) throws InterruptedException {
        send(new ControllerMessage.Command(c, 1));
        return await(AgentMessage.CommandResult.class, r -> r.commandId().equals(c.id()));
    }

    private long lastHeartbeat() {
        return fromAgent.stream().filter(m -> m instanceof AgentMessage.Heartbeat)
                .mapToLong(m -> ((AgentMessage.Heartbeat) m).sequence()).max().orElse(0);
    }

    @Test
    void aCleanHostShutdownServesTheControllerUntilItClearsTheHostThenStopsWhatIsLeft() throws Exception {
        agent = HostAgent.start(config);
        await(AgentMessage.Hello.class, h -> true);
        assertTrue(command(new AgentCommand.StartVm("h-1", "agt-s1", testDomain("agt-s1"), 1, true)).ok());
        assertTrue(command(new AgentCommand.StartVm("h-2", "agt-s2", testDomain("agt-s2"), 1, false)).ok());

        java.util.concurrent.CompletableFuture<io.vigil.agent.shutdown.CleanHostShutdown.Outcome> down =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try {
                        return agent.shutDownHost("kernel update");
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
        AgentMessage.HostShutdown announced = await(AgentMessage.HostShutdown.class, h -> true);
        assertEquals(new AgentMessage.HostShutdown("t1", "kernel update"), announced);

        // the controller moves agt-s1 away with ordinary commands; the agent serves them, and its heartbeats go on
        assertTrue(command(new AgentCommand.StopVm("h-3", "agt-s1", 5)).ok());
        AgentMessage.CommandResult refused = command(new AgentCommand.StartVm("h-4", "agt-s3", testDomain("agt-s3"), 1, true));
        assertFalse(refused.ok());
        assertEquals("host is shutting down (kernel update)", refused.error());
        long seen = lastHeartbeat();
        AgentMessage.Heartbeat during = await(AgentMessage.Heartbeat.class, h -> h.sequence() > seen);
        assertEquals(VmPowerState.RUNNING, vm(during, "agt-s2").orElseThrow().state());
        Thread.sleep(500);
        assertFalse(down.isDone(), "the agent waits for the controller");

        send(new ControllerMessage.ShutdownCleared("agt-s1 moved to t2; agt-s2 left to the host"));
        var outcome = down.get(15, TimeUnit.SECONDS);
        assertTrue(outcome.clearedByController());
        assertEquals(List.of("agt-s2"), outcome.stoppedHere(), "what the controller left is stopped here");
        SharedStorage storage = new SharedStorage(dir.resolve("shared"));
        assertTrue(Files.exists(storage.vmLeaseDir("agt-s1").resolve("gen-1.released")));
        assertTrue(Files.exists(storage.vmLeaseDir("agt-s2").resolve("gen-1.released")), "the host goes down holding no lease");
        assertFalse(Files.exists(storage.vmLeaseDir("agt-s3")));
    }

    @Test
    void aHostShutdownNobodyClearsStopsTheVmsAfterItsTimeout() throws Exception {
        agent = HostAgent.start(config("ws://127.0.0.1:1/agent/v1", 1)); // no controller there
        var vmCommands = agent.vmLeases();
        assertTrue(agent.execute(new AgentCommand.StartVm("n-1", "agt-n1", testDomain("agt-n1"), 1, true)).get().ok());
        long start = System.nanoTime();
        var outcome = agent.shutDownHost("systemd is shutting the host down");
        long took = (System.nanoTime() - start) / 1_000_000;
        assertTrue(took >= 1000 && took < 10_000, "took " + took + " ms");
        assertFalse(outcome.clearedByController());
        assertEquals(List.of("agt-n1"), outcome.stoppedHere());
        assertTrue(vmCommands.held("agt-n1").isEmpty());
        assertTrue(Files.exists(new SharedStorage(dir.resolve("shared")).vmLeaseDir("agt-n1").resolve("gen-1.released")));
    }

    private AgentMessage.CommandResult command(AgentCommand c, long epoch) throws InterruptedException {
        send(new ControllerMessage.Command(c, epoch));
        return await(AgentMessage.CommandResult.class, r -> r.commandId().equals(c.id()));
    }

    private static void awaitTrue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within 15 s: " + what);
            Thread.sleep(50);
        }
    }

    @Test
    void aCommandFromAReplacedLeaderIsRefusedAndChangesNothingAcrossRestarts() throws Exception {
        SharedStorage storage = new SharedStorage(dir.resolve("shared"));
        agent = HostAgent.start(config);
        await(AgentMessage.Hello.class, h -> true);
        assertTrue(command(new AgentCommand.StartVm("e-1", "agt-e1", testDomain("agt-e1"), 1, true), 5).ok());

        // the leader of epoch 3 was replaced by that of epoch 5, then resumed: its start must not happen
        AgentMessage.CommandResult refused = command(new AgentCommand.StartVm("e-2", "agt-e2", testDomain("agt-e2"), 1, true), 3);
        assertFalse(refused.ok());
        assertEquals("refused: command from leader epoch 3, but epoch 5 is current (a replaced leader)", refused.error());
        assertEquals("agt-e2", refused.vm());
        assertFalse(command(new AgentCommand.DestroyVm("e-3", "agt-e1"), 0).ok(), "epoch 0 once an epoch is known");
        assertEquals(2, agent.commandFence().refusals());
        long seen = lastHeartbeat();
        AgentMessage.Heartbeat after = await(AgentMessage.Heartbeat.class, h -> h.sequence() > seen + 1);
        assertTrue(vm(after, "agt-e2").isEmpty(), "agt-e2 was neither defined nor started");
        assertEquals(VmPowerState.RUNNING, vm(after, "agt-e1").orElseThrow().state(), "agt-e1 was not destroyed");
        assertFalse(Files.exists(storage.vmLeaseDir("agt-e2")), "no lease taken for a refused start");

        // a newer leader's claim on shared storage raises the floor before it sends anything
        LeaderLeaseFiles leader = new LeaderLeaseFiles(storage);
        assertTrue(leader.claim(new LeaderEpoch(9, "c2", "i2", 4000, 0), new LeaderHeartbeat(9, "c2", "i2", 1, false, 4000, 0)));
        awaitTrue("the agent reads epoch 9", () -> agent.commandFence().epochs().highest() == 9);
        assertFalse(command(new AgentCommand.DestroyVm("e-4", "agt-e1"), 5).ok());

        // the agent restarts and the claim is gone from storage: the floor was kept in the state directory
        agent.close();
        leader.removeOldEpochs(100);
        fromAgent.clear();
        agent = HostAgent.start(config);
        await(AgentMessage.Hello.class, h -> true);
        AgentMessage.CommandResult afterRestart = command(new AgentCommand.DestroyVm("e-5", "agt-e1"), 8);
        assertEquals("refused: command from leader epoch 8, but epoch 9 is current (a replaced leader)", afterRestart.error());
        assertTrue(command(new AgentCommand.DestroyVm("e-6", "agt-e1"), 9).ok(), "the current leader still acts");
        assertTrue(command(new AgentCommand.UndefineVm("e-7", "agt-e1"), 9).ok());
    }

    @Test
    void theFailureTimeoutOfThePolicyDecidesIsolation() throws Exception {
        welcomePolicy = new AgentPolicy(300, 4000, IsolationResponse.NONE, 7000);
        agent = HostAgent.start(config);
        await(AgentMessage.Hello.class, h -> true);
        awaitTrue("the Welcome's failure timeout applies", () -> agent.isolation().failureTimeoutMillis() == 7000);
        assertEquals(7000, agent.link().failureTimeoutMillis(), "controller silence is judged by it too");

        send(new ControllerMessage.PolicyUpdate(new AgentPolicy(300, 4000, IsolationResponse.NONE, 0)));
        awaitTrue("0: the configured one", () -> agent.isolation().failureTimeoutMillis() == 3000);
        assertEquals(3000, agent.link().failureTimeoutMillis());
        send(new ControllerMessage.PolicyUpdate(new AgentPolicy(300, 4000, IsolationResponse.POWEROFF, 1000)));
        awaitTrue("a PolicyUpdate's", () -> agent.isolation().failureTimeoutMillis() == 1000);
        assertEquals(IsolationResponse.POWEROFF, agent.isolation().response());
    }

    /**
     * The controllers all go away: with no leader lease renewed that is a control-plane outage and the host keeps its
     * VMs. Once a leader renews its lease again and this host still cannot reach a controller, it is isolated, after
     * the policy's failure timeout (1 s here, 3 s configured) and the link's time to redial.
     */
    @Test
    void isolationAppliesOnlyWhileTheLeaderLeaseIsRenewed() throws Exception {
        welcomePolicy = new AgentPolicy(300, 4000, IsolationResponse.POWEROFF, 1000);
        agent = HostAgent.start(config);
        await(AgentMessage.Hello.class, h -> true);
        awaitTrue("the policy applies", () -> agent.isolation().failureTimeoutMillis() == 1000);
        assertTrue(command(new AgentCommand.StartVm("i-1", "agt-i1", testDomain("agt-i1"), 1, true), 1).ok());

        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        awaitTrue("the link is down", () -> !agent.link().isConnected());
        Thread.sleep(4000); // well past the failure timeout
        assertTrue(agent.vmLeases().held("agt-i1").isPresent(), "a control-plane outage is not isolation: the VM is kept");

        SharedStorage storage = new SharedStorage(dir.resolve("shared"));
        LeaderLeaseFiles leader = new LeaderLeaseFiles(storage);
        assertTrue(leader.claim(new LeaderEpoch(1, "c2", "i2", 2000, 0), new LeaderHeartbeat(1, "c2", "i2", 1, false, 2000, 0)));
        long renewed = System.nanoTime();
        for (long counter = 2; agent.vmLeases().held("agt-i1").isPresent(); counter++) {
            assertTrue(System.nanoTime() - renewed < TimeUnit.SECONDS.toNanos(20), "not isolated within 20 s");
            leader.renew(new LeaderHeartbeat(1, "c2", "i2", counter, false, 2000, 0));
            Thread.sleep(300);
        }
        long tookMillis = (System.nanoTime() - renewed) / 1_000_000;
        assertTrue(tookMillis >= 1000 + io.vigil.agent.link.ControllerLink.MAX_BACKOFF_MILLIS,
                "the link had time to reach the returning control plane: " + tookMillis + " ms");
        assertTrue(Files.exists(storage.vmLeaseDir("agt-i1").resolve("gen-1.released")), "powered off, lease released");
    }
}
