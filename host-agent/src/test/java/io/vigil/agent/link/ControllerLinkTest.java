package io.vigil.agent.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.IsolationResponse;
import io.vigil.protocol.Json;
import io.vigil.protocol.ProtocolVersion;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The link's judgement of controller silence, against a real WebSocket server playing controller. */
class ControllerLinkTest {
    static final long FAILURE_TIMEOUT_MILLIS = 1000;

    Vertx vertx;
    HttpServer server;
    final List<ServerWebSocket> connections = new CopyOnWriteArrayList<>();
    final AtomicInteger heartbeats = new AtomicInteger();
    /** Every message's type, prefixed with the number of the connection it came on ("1 hello"). */
    final List<String> received = new CopyOnWriteArrayList<>();
    /** How long the controller waits before it welcomes an agent. */
    volatile long welcomeDelayMillis;
    /** Each HostShutdown the controller received, with the number of the connection it came on. */
    final List<String> hostShutdowns = new CopyOnWriteArrayList<>();
    /** Between the agent and the controller: a path that, once frozen, swallows every byte (a hung controller). */
    Relay relay;
    ControllerLink link;

    /** An agent whose inventory takes {@code slowMillis} to build (libvirt busy starting VMs). */
    final class FakeAgent implements ControllerLink.Agent {
        volatile long slowMillis;
        volatile long policyMillis;
        final List<String> cleared = new CopyOnWriteArrayList<>();

        @Override
        public AgentMessage.Hello hello() {
            return new AgentMessage.Hello("h1", 1, ProtocolVersion.CURRENT, new HostInventory(2, 1024, 1024, List.of()), true);
        }

        @Override
        public AgentMessage.Heartbeat heartbeat(long sequence) {
            try {
                Thread.sleep(slowMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new AgentMessage.Heartbeat("h1", 1, sequence, new HostInventory(2, 1024, 1024, List.of()), true);
        }

        @Override
        public CompletableFuture<AgentMessage.CommandResult> execute(ControllerMessage.Command command) {
            return new CompletableFuture<>();
        }

        @Override
        public void applyPolicy(AgentPolicy policy) {
            try {
                Thread.sleep(policyMillis); // libvirt work on the link's worker
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void lostVms(List<String> vms) {}

        @Override
        public void shutdownCleared(String detail) {
            cleared.add(detail);
        }
    }

    @BeforeEach
    void startController() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().webSocketHandler(ws -> {
            connections.add(ws);
            int number = connections.size();
            ws.textMessageHandler(text -> {
                AgentMessage m = Json.read(text, AgentMessage.class);
                received.add(number + " " + m.getClass().getSimpleName());
                if (m instanceof AgentMessage.Hello) {
                    String welcome = Json.write(new ControllerMessage.Welcome("c1", List.of(),
                            new AgentPolicy(200, 4000, IsolationResponse.NONE)));
                    if (welcomeDelayMillis == 0) ws.writeTextMessage(welcome);
                    else vertx.setTimer(welcomeDelayMillis, t -> ws.writeTextMessage(welcome));
                } else if (m instanceof AgentMessage.Heartbeat) {
                    heartbeats.incrementAndGet();
                } else if (m instanceof AgentMessage.HostShutdown h) {
                    hostShutdowns.add(connections.size() + ": " + h.host() + " " + h.reason());
                }
            });
        }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        if (link != null) link.close();
        if (relay != null) relay.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    ControllerLink connect(FakeAgent agent) throws java.io.IOException {
        relay = new Relay(server.actualPort());
        link = new ControllerLink(vertx, List.of("ws://127.0.0.1:" + relay.port() + ProtocolVersion.AGENT_PATH),
                agent, FAILURE_TIMEOUT_MILLIS);
        link.start(200);
        await(link::isConnected, 5000);
        return link;
    }

    @Test
    void helloIsTheFirstMessageOnEveryConnectionAndNothingElseGoesOutBeforeWelcome() throws Exception {
        welcomeDelayMillis = 500;
        FakeAgent agent = new FakeAgent();
        relay = new Relay(server.actualPort());
        link = new ControllerLink(vertx, List.of("ws://127.0.0.1:" + relay.port() + ProtocolVersion.AGENT_PATH),
                agent, FAILURE_TIMEOUT_MILLIS);
        // libvirt's lifecycle events keep coming while the link connects (an agent restart with VMs changing state)
        Thread events = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                link.send(new AgentMessage.VmLifecycle("h1", "vm1", "resumed", "unpaused", io.vigil.protocol.VmPowerState.RUNNING));
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        events.start();
        try {
            link.start(200);
            await(link::isConnected, 5000);
            await(() -> received.contains("1 VmLifecycle"), 5000); // lifecycle events go out once welcomed
            // The connection drops (the controller closes it); the link dials again and says Hello again.
            connections.get(0).close();
            await(() -> connections.size() == 2 && received.contains("2 VmLifecycle"), 10_000);
        } finally {
            events.interrupt();
            events.join();
        }
        for (int c = 1; c <= 2; c++) {
            String prefix = c + " ";
            List<String> on = received.stream().filter(m -> m.startsWith(prefix)).toList();
            assertEquals(prefix + "Hello", on.get(0), "first message on connection " + c + ": " + on);
        }
    }

    @Test
    void heartbeatsGoOnWhileTheAgentIsBusyWithLibvirtOnTheLinksWorker() throws Exception {
        FakeAgent agent = new FakeAgent();
        connect(agent);
        agent.policyMillis = 3000; // the next policy takes libvirt 3 s to apply
        int before = heartbeats.get();
        connections.get(0).writeTextMessage(Json.write(new ControllerMessage.PolicyUpdate(
                new AgentPolicy(200, 5000, IsolationResponse.NONE))));
        Thread.sleep(2500);
        // Every 200 ms; before, none while the worker was busy (the heartbeat ran on it).
        assertTrue(heartbeats.get() - before >= 3, "heartbeats while the policy is applied: "
                + (heartbeats.get() - before) + " in 2.5 s");
    }

    @Test
    void aControllerThatAnswersNoPingIsDroppedAfterTheFailureTimeout() throws Exception {
        connect(new FakeAgent());
        relay.frozen = true;
        await(() -> !link.isConnected(), 4000);
        assertTrue(connections.size() >= 1);
    }

    @Test
    void anInventoryThatTakesLongerThanTheFailureTimeoutIsNoSilenceOfTheController() throws Exception {
        FakeAgent agent = new FakeAgent();
        connect(agent);
        agent.slowMillis = 3 * FAILURE_TIMEOUT_MILLIS / 2; // every tick now runs late, past the failure timeout
        Thread.sleep(7 * FAILURE_TIMEOUT_MILLIS);
        assertTrue(link.isConnected(), "the link stayed up");
        assertEquals(1, connections.size(), "and was never re-dialled");
        assertTrue(heartbeats.get() >= 3, "heartbeats kept flowing: " + heartbeats.get());
    }

    @Test
    void aHostShutdownIsAnnouncedToEveryControllerThatWelcomesTheAgentUntilOneClearsIt() throws Exception {
        FakeAgent agent = new FakeAgent();
        connect(agent);
        link.announceHostShutdown(new AgentMessage.HostShutdown("h1", "kernel update"));
        await(() -> hostShutdowns.size() == 1, 5000);
        connections.get(0).close(); // the controller goes away before answering
        await(() -> connections.size() == 2 && link.isConnected(), 5000);
        await(() -> hostShutdowns.size() == 2, 5000);
        assertEquals(List.of("1: h1 kernel update", "2: h1 kernel update"), hostShutdowns);

        connections.get(1).writeTextMessage(Json.write(new ControllerMessage.ShutdownCleared("moved vm1 to h2")));
        await(() -> agent.cleared.size() == 1, 5000);
        assertEquals(List.of("moved vm1 to h2"), agent.cleared);
        connections.get(1).writeTextMessage(Json.write(new ControllerMessage.ShutdownCleared("again")));
        connections.get(1).close();
        await(() -> connections.size() == 3 && link.isConnected(), 5000);
        int before = heartbeats.get();
        await(() -> heartbeats.get() > before, 5000);
        assertEquals(2, hostShutdowns.size(), "cleared: not announced again");
        assertEquals(List.of("moved vm1 to h2"), agent.cleared, "a clear nobody waits for is ignored");
    }

    /** A loopback TCP relay whose forwarding can be frozen while both connections stay open. */
    static final class Relay implements AutoCloseable {
        final java.net.ServerSocket listener = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress());
        final List<java.net.Socket> sockets = new CopyOnWriteArrayList<>();
        volatile boolean frozen;

        Relay(int target) throws java.io.IOException {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        java.net.Socket client = listener.accept();
                        java.net.Socket upstream = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), target);
                        sockets.add(client);
                        sockets.add(upstream);
                        pump(client, upstream);
                        pump(upstream, client);
                    }
                } catch (java.io.IOException closed) {
                    // listener closed
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        private void pump(java.net.Socket from, java.net.Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try {
                    int n;
                    while ((n = from.getInputStream().read(buf)) >= 0) {
                        if (!frozen) to.getOutputStream().write(buf, 0, n);
                    }
                } catch (java.io.IOException closed) {
                    // either side closed
                }
            });
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws java.io.IOException {
            listener.close();
            for (java.net.Socket s : sockets) s.close();
        }
    }

    static void await(java.util.function.BooleanSupplier condition, long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within " + millis + " ms");
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
