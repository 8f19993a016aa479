package io.vigil.controller.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.AgentMessage;
import io.vigil.protocol.ControllerMessage;
import io.vigil.protocol.HostInventory;
import io.vigil.protocol.Json;
import io.vigil.protocol.ProtocolVersion;
import io.vigil.protocol.VmPowerState;
import io.vigil.protocol.VmReport;
import io.vigil.protocol.storage.HostHeartbeat;
import io.vigil.protocol.storage.RecordFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The test plays a host agent over a real WebSocket: says Hello, heartbeats every second (network and shared
 * storage), and carries out the controller's commands on an imaginary hypervisor, answering with the command's id.
 *
 * <p>It connects to a test controller's agent port over mutual TLS, trusting that controller's CA. Given either of
 * the controller's ports it uses the agent port, with a certificate for its host issued by the controller's CA
 * ({@link TestController#agentCredentials}) unless told otherwise: {@link #withCredentials} (say, a revoked
 * certificate or one from a strange CA) or {@link #withoutCertificate}.
 */
public final class FakeAgent implements AutoCloseable {
    public final String host;
    private final Vertx vertx = Vertx.vertx();
    private final SharedStorage storage;
    private final long memoryMiB;
    private final Map<String, VmReport> vms = new ConcurrentHashMap<>();
    public final LinkedBlockingQueue<ControllerMessage> received = new LinkedBlockingQueue<>();
    public final List<AgentCommand> commands = new CopyOnWriteArrayList<>();
    private WebSocket ws;
    private long timer = -1;
    private long counter;
    public volatile boolean answerCommands = true;
    /** VMs whose StartVm it answers with a failure (libvirt refused it), until removed. */
    public final java.util.Set<String> refuseStarts = ConcurrentHashMap.newKeySet();
    private AgentCredentials credentials;
    private boolean withoutCertificate;

    public FakeAgent(String host, Path sharedStorage, long memoryMiB) {
        this.host = host;
        this.storage = new SharedStorage(sharedStorage);
        this.memoryMiB = memoryMiB;
    }

    /** Connects with these credentials (from now on) rather than a certificate issued for its host. */
    public FakeAgent withCredentials(AgentCredentials given) {
        this.credentials = given;
        this.withoutCertificate = false;
        return this;
    }

    /** Connects over TLS without a client certificate (from now on). */
    public FakeAgent withoutCertificate() {
        this.withoutCertificate = true;
        return this;
    }

    /** The credentials it connects with (issued on its first connection unless given); null without a certificate. */
    public AgentCredentials credentials() {
        return withoutCertificate ? null : credentials;
    }

    /**
     * Connects without saying anything: to the agent port of the test controller listening on {@code port} (its HTTP
     * or agent port), over mutual TLS. A failed handshake or a refused upgrade (401, 403) throws.
     */
    public FakeAgent connect(int port) throws Exception {
        TestController controller = TestController.at(port);
        WebSocketClientOptions options = new WebSocketClientOptions().setConnectTimeout(5000);
        int target = port;
        if (controller != null) {
            target = controller.agentPort();
            options.setSsl(true).setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(
                    io.vigil.protocol.tls.Pem.certificate(controller.controller.certificates().authority().certificate()))));
            if (!withoutCertificate) {
                if (credentials == null) credentials = controller.agentCredentials(host);
                options.setKeyCertOptions(new PemKeyCertOptions().setKeyValue(Buffer.buffer(credentials.keyPem()))
                        .setCertValue(Buffer.buffer(credentials.certificatePem())));
            }
        }
        WebSocketClient client = vertx.createWebSocketClient(options);
        ws = client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(target).setURI(ProtocolVersion.AGENT_PATH))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        ws.textMessageHandler(this::onText);
        return this;
    }

    /** Tells the controller the host is shutting down cleanly; it answers with ShutdownCleared once its VMs are dealt with. */
    public void shutDown(String reason) {
        sendRaw(Json.write(new AgentMessage.HostShutdown(host, reason)));
    }

    /** Connects, says Hello (protocol {@code version}) and starts heartbeating. */
    public FakeAgent join(int port, int version) throws Exception {
        connect(port);
        writeStorageHeartbeat();
        sendRaw(Json.write(new AgentMessage.Hello(host, 1, version, inventory(), true)));
        timer = vertx.setPeriodic(1000, id -> heartbeat());
        return this;
    }

    /**
     * Says Hello again on a new connection, as an agent that reconnects before its old connection timed out (the
     * controller closes the old one). Its VMs keep running.
     */
    public FakeAgent reconnect(int port) throws Exception {
        if (timer >= 0) vertx.cancelTimer(timer);
        return join(port, ProtocolVersion.CURRENT);
    }

    /** What the disk cache of {@code vm} holds and how much of it is dirty, reported from the next heartbeat on. */
    public void cache(String vm, long bytes, long dirtyBytes) {
        vms.computeIfPresent(vm, (k, v) -> new VmReport(v.name(), v.uuid(), v.state(), v.memoryMiB(), v.vcpus(),
                v.leaseGeneration(), bytes, dirtyBytes));
    }

    /**
     * How libvirt sees {@code vm} from the next heartbeat on: its power state, libvirt's reason for it and the
     * problem the agent could not fix (both may be null).
     */
    public void report(String vm, VmPowerState state, String stateReason, String problem) {
        vms.computeIfPresent(vm, (k, v) -> new VmReport(v.name(), v.uuid(), state, v.memoryMiB(), v.vcpus(),
                v.leaseGeneration(), v.cacheBytes(), v.cacheDirtyBytes(), v.cacheWriteBackMillis(), stateReason, problem));
    }

    /** Forwards a libvirt lifecycle event of {@code vm}, as the agent does when libvirt raises one. */
    public void lifecycle(String vm, String event, String detail, VmPowerState state) {
        sendRaw(Json.write(new AgentMessage.VmLifecycle(host, vm, event, detail, state)));
    }

    public void sendRaw(String text) {
        ws.writeTextMessage(text);
    }

    public boolean isClosed() {
        return ws.isClosed();
    }

    public ControllerMessage next(long seconds) throws InterruptedException {
        return received.poll(seconds, TimeUnit.SECONDS);
    }

    public <T extends ControllerMessage> T next(Class<T> type, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            ControllerMessage m = received.poll(50, TimeUnit.MILLISECONDS);
            if (type.isInstance(m)) return type.cast(m);
        }
        return null;
    }

    public Map<String, VmReport> vms() {
        return vms;
    }

    private HostInventory inventory() {
        long used = vms.values().stream().filter(v -> v.state().isActive()).mapToLong(VmReport::memoryMiB).sum();
        return new HostInventory(4, memoryMiB, memoryMiB - used, new ArrayList<>(vms.values()));
    }

    private void heartbeat() {
        writeStorageHeartbeat();
        sendRaw(Json.write(new AgentMessage.Heartbeat(host, 1, ++counter, inventory(), true)));
    }

    private void writeStorageHeartbeat() {
        try {
            RecordFiles.replace(storage.hostHeartbeat(host), new HostHeartbeat(host, 1, ++counter, 4000, System.currentTimeMillis()));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void onText(String text) {
        ControllerMessage m = Json.read(text, ControllerMessage.class);
        received.add(m);
        if (m instanceof ControllerMessage.Command c && answerCommands) carryOut(c.command());
    }

    private void carryOut(AgentCommand command) {
        commands.add(command);
        long generation = 0;
        if (command instanceof AgentCommand.StartVm s && refuseStarts.contains(s.vm())) {
            sendRaw(Json.write(new AgentMessage.CommandResult(host, command.id(), command.vm(), false,
                    "libvirt refused to start " + s.vm() + " (test)", 0)));
            return;
        } else if (command instanceof AgentCommand.StartVm s) {
            vms.put(s.vm(), new VmReport(s.vm(), "uuid-" + s.vm(), VmPowerState.RUNNING, 64, 1, s.generation()));
            generation = s.generation();
            sendRaw(Json.write(new AgentMessage.VmLifecycle(host, s.vm(), "started", "booted", VmPowerState.RUNNING)));
        } else if (command instanceof AgentCommand.StopVm || command instanceof AgentCommand.DestroyVm
                || command instanceof AgentCommand.SaveVm) { // a save stops the VM here; the target restores it
            vms.computeIfPresent(command.vm(), (k, v) -> new VmReport(v.name(), v.uuid(), VmPowerState.SHUTOFF, v.memoryMiB(), v.vcpus(), 0));
            sendRaw(Json.write(new AgentMessage.VmLifecycle(host, command.vm(), "stopped", "shutdown", VmPowerState.SHUTOFF)));
        } else if (command instanceof AgentCommand.UndefineVm) {
            vms.remove(command.vm());
        }
        sendRaw(Json.write(new AgentMessage.CommandResult(host, command.id(), command.vm(), true, null, generation)));
    }

    @Override
    public void close() throws Exception {
        if (timer >= 0) vertx.cancelTimer(timer);
        if (ws != null && !ws.isClosed()) ws.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
}
