package io.vigil.controller;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vigil.controller.agents.AgentGateway;
import io.vigil.controller.agents.AgentRelay;
import io.vigil.controller.api.RestApi;
import io.vigil.controller.audit.AuditLog;
import io.vigil.controller.auth.ApiTokens;
import io.vigil.controller.auth.Users;
import io.vigil.controller.config.ControllerConfig;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.HaInput;
import io.vigil.controller.libvirt.DomainXmlValidator;
import io.vigil.controller.runtime.HaLoop;
import io.vigil.controller.runtime.MoveRequests;
import io.vigil.controller.runtime.StorageWatcher;
import io.vigil.controller.store.ClusterStore;
import io.vigil.protocol.storage.SharedStorage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running controller: its Hazelcast member (the cluster store), the HA loop with its storage watcher, the HTTP
 * server carrying both the REST API and the agent gateway, and the relay between the gateway and the leader's loop.
 * {@link #start} wires them; {@link #close} stops them in reverse order.
 */
public final class Controller implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Controller.class);

    private final ControllerConfig config;
    private ClusterStore store;
    private Vertx vertx;
    private DomainXmlValidator validator;
    private HaLoop loop;
    private StorageWatcher watcher;
    private AgentGateway gateway;
    private AgentRelay relay;
    private MoveRequests moves;
    private HttpServer server;
    private ApiTokens tokens;
    private Users users;
    private AuditLog audit;
    private final AtomicReference<ClusterPolicy> policy = new AtomicReference<>();

    private Controller(ControllerConfig config) {
        this.config = config;
    }

    /** Starts a controller and returns once its HTTP server listens; on failure everything started is stopped. */
    public static Controller start(ControllerConfig config) throws Exception {
        Controller c = new Controller(config);
        try {
            c.startAll();
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    private void startAll() throws Exception {
        store = ClusterStore.start(config);
        policy.set(store.initPolicy(config.initialPolicy()));
        validator = new DomainXmlValidator();
        vertx = Vertx.vertx();
        // Agent reports reach the leader's loop wherever the agent is connected; the loop's messages reach the agent
        // wherever it is connected. The relay is set before the HTTP server listens, so before any report.
        gateway = new AgentGateway(config.name(), store.hazelcast().getCluster().getLocalMember().getUuid().toString(),
                store::controllerAgentUrls, () -> policy.get().agentPolicy(), r -> relay.report(r));
        relay = new AgentRelay(store.hazelcast(), store::isLocalLeader, gateway, (connection, input) ->
                loop.submitFromAgent(connection, input));
        loop = new HaLoop(store, relay, config.initialPolicy());
        relay.start();
        store.onSpecChanged(spec -> loop.submit(new HaInput.VmSpecChanged(spec)));
        store.onPolicyChanged(p -> {
            policy.set(p);
            loop.submit(new HaInput.PolicyChanged(p));
        });
        // Operator requests reach the leader's loop from the REST API of any member: rules and maintenance as stored
        // intents (a new leader reads them), moves as one-off orders over a topic.
        store.onRulesChanged(loop::submitRulesChanged);
        store.onMaintenanceRequested(r -> loop.submit(new HaInput.MaintenanceRequested(r.host(), r.enabled())));
        moves = new MoveRequests(store.hazelcast(), loop::submit);
        moves.start();
        tokens = new ApiTokens(store.hazelcast());
        tokens.registerBootstrap(config.adminTokenPath(), System.currentTimeMillis());
        log.info("bootstrap admin token in {}", config.adminTokenPath());
        users = new Users(store.hazelcast());
        audit = new AuditLog(store.hazelcast(), AuditLog.DEFAULT_MAX_ENTRIES);
        Router router = await(RestApi.router(vertx, store, validator, gateway, moves, tokens, users, audit, config.name()));
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.httpHost()).setPort(config.httpPort())
                .setMaxWebSocketFrameSize(1024 * 1024).setMaxWebSocketMessageSize(8 * 1024 * 1024);
        server = await(vertx.createHttpServer(options)
                .webSocketHandshakeHandler(gateway::handshake)
                .webSocketHandler(gateway::accept)
                .requestHandler(router)
                .listen());
        watcher = new StorageWatcher(new SharedStorage(config.sharedStoragePath()), loop::submit,
                () -> policy.get().leaseTimeoutSeconds() * 1000L);
        loop.start();
        watcher.start(HaLoop.TICK_MILLIS);
        log.info("controller {} listening on {} (agents: {}, leader: {})", config.name(), restBaseUrl(),
                agentUrl(), store.isLocalLeader());
    }

    public int httpPort() {
        return server.actualPort();
    }

    public String restBaseUrl() {
        return config.restBaseUrl(httpPort());
    }

    /** The URL agents dial; with an ephemeral port (0) the actual port is filled in. */
    public String agentUrl() {
        return config.advertisedAgentUrl().replace(":0/", ":" + httpPort() + "/");
    }

    public ControllerConfig config() {
        return config;
    }

    public ClusterStore store() {
        return store;
    }

    public ApiTokens tokens() {
        return tokens;
    }

    public Users users() {
        return users;
    }

    public AuditLog audit() {
        return audit;
    }

    public AgentGateway gateway() {
        return gateway;
    }

    @Override
    public void close() {
        if (watcher != null) watcher.close();
        if (gateway != null) gateway.closeAll();
        if (server != null) quietly(() -> await(server.close()));
        if (relay != null) relay.close();
        if (moves != null) moves.close();
        if (loop != null) loop.close();
        if (vertx != null) quietly(() -> await(vertx.close()));
        if (validator != null) validator.close();
        if (store != null) quietly(store::close);
        log.info("controller {} stopped", config.name());
    }

    private interface Action {
        void run() throws Exception;
    }

    private static void quietly(Action a) {
        try {
            a.run();
        } catch (Exception e) {
            log.warn("during shutdown: {}", e.toString());
        }
    }

    private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception ex) throw ex;
            throw e;
        }
    }
}
