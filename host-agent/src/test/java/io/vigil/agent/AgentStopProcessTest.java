package io.vigil.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.ServerWebSocket;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.AgentPolicy;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.IsolationResponse;
import io.vigil.protocol.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the agent program tells a clean host shutdown from a restart when it gets SIGTERM: a real agent JVM (libvirt's
 * test driver) against a small WebSocket server playing the controller, stopped with a plain SIGTERM, and with
 * {@code scripts/vigil host-shutdown}.
 */
class AgentStopProcessTest {
    @TempDir Path dir;
    Vertx vertx;
    HttpServer server;
    final List<AgentMessage> fromAgent = new CopyOnWriteArrayList<>();
    volatile ServerWebSocket agentSocket;
    Process agent;

    @BeforeEach
    void controller() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().webSocketHandler(ws -> {
            agentSocket = ws;
            ws.textMessageHandler(text -> {
                AgentMessage m = Json.read(text, AgentMessage.class);
                fromAgent.add(m);
                if (m instanceof AgentMessage.Hello) {
                    ws.writeTextMessage(Json.write(new ControllerMessage.Welcome("c-test", List.of(),
                            new AgentPolicy(300, 4000, IsolationResponse.NONE))));
                }
            });
        }).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        Files.createDirectories(dir.resolve("shared"));
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) agent.destroyForcibly();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private void startAgent() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), AgentMain.class.getName())
                .redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("VIGIL_AGENT_"));
        pb.environment().put("VIGIL_AGENT_HOST", "p1");
        pb.environment().put("VIGIL_AGENT_CONTROLLERS", "ws://127.0.0.1:" + server.actualPort() + "/agent/v1");
        pb.environment().put("VIGIL_AGENT_LIBVIRT_URI", "test:///default");
        pb.environment().put("VIGIL_AGENT_SHARED_STORAGE", dir.resolve("shared").toString());
        pb.environment().put("VIGIL_AGENT_STATE_DIR", dir.resolve("state").toString());
        pb.environment().put("VIGIL_AGENT_CACHE_DIR", dir.resolve("cache").toString());
        pb.environment().put("VIGIL_AGENT_HOST_SHUTDOWN_TIMEOUT_SECONDS", "60");
        agent = pb.start();
        await(() -> fromAgent.stream().anyMatch(m -> m instanceof AgentMessage.Heartbeat), 30_000, "the agent's first heartbeat");
        await(() -> Files.exists(dir.resolve("state/agent.pid")), 5000, "agent.pid");
        assertEquals(Long.toString(agent.pid()), Files.readString(dir.resolve("state/agent.pid")).strip());
    }

    private boolean announced() {
        return fromAgent.stream().anyMatch(m -> m instanceof AgentMessage.HostShutdown);
    }

    @Test
    void aPlainSigtermIsAnAgentRestart() throws Exception {
        startAgent();
        long start = System.nanoTime();
        agent.destroy(); // SIGTERM
        assertTrue(agent.waitFor(15, TimeUnit.SECONDS), "stopped at once");
        assertTrue((System.nanoTime() - start) / 1_000_000 < 10_000);
        assertFalse(announced(), "no HostShutdown for a restart");
        assertTrue(Files.readString(dir.resolve("agent.log")).contains("VMs are left running"));
        assertFalse(Files.exists(dir.resolve("state/agent.pid")));
    }

    @Test
    void vigilHostShutdownStopsTheAgentOnlyOnceTheControllerClearedTheHost() throws Exception {
        Path vigil = Path.of(System.getProperty("user.dir")).resolve("../scripts/vigil").normalize();
        assumeTrue(Files.isRegularFile(vigil), "scripts/vigil is not beside this module");
        startAgent();
        Process cli = new ProcessBuilder("bash", vigil.toString(), "host-shutdown", "--state-dir",
                dir.resolve("state").toString(), "--reason", "firmware update")
                .redirectErrorStream(true).redirectOutput(dir.resolve("cli.log").toFile()).start();
        await(this::announced, 15_000, "HostShutdown");
        assertEquals(new AgentMessage.HostShutdown("p1", "firmware update"),
                fromAgent.stream().filter(m -> m instanceof AgentMessage.HostShutdown).findFirst().orElseThrow());
        assertFalse(Files.exists(dir.resolve("state/host-shutdown")), "the request is consumed");
        Thread.sleep(1000);
        assertTrue(agent.isAlive(), "the agent waits for the controller");
        assertTrue(cli.isAlive(), "and so does the command");
        int seen = fromAgent.size();
        await(() -> fromAgent.subList(seen, fromAgent.size()).stream().anyMatch(m -> m instanceof AgentMessage.Heartbeat),
                5000, "heartbeats while waiting");

        agentSocket.writeTextMessage(Json.write(new ControllerMessage.ShutdownCleared("no VMs to move")));
        assertTrue(agent.waitFor(15, TimeUnit.SECONDS), "stopped once cleared");
        assertTrue(cli.waitFor(10, TimeUnit.SECONDS), "the command returns when the agent is gone");
        assertEquals(0, cli.exitValue(), Files.readString(dir.resolve("cli.log")));
        String log = Files.readString(dir.resolve("agent.log"));
        assertTrue(log.contains("the controller cleared this host: no VMs to move"), log);
        assertTrue(log.contains("stopping for the host's shutdown"), log);
        assertFalse(Files.exists(dir.resolve("state/agent.pid")));
    }

    private static void await(BooleanSupplier condition, long millis, String what) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("no " + what + " within " + millis + " ms");
            Thread.sleep(50);
        }
    }
}
