package io.vigil.controller;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.Router;
import io.vigil.controller.agents.AgentGateway;
import io.vigil.controller.agents.AgentRelay;
import io.vigil.controller.agents.EnrollmentEndpoint;
import io.vigil.controller.api.RestApi;
import io.vigil.controller.audit.AuditLog;
import io.vigil.controller.auth.ApiTokens;
import io.vigil.controller.auth.Users;
import io.vigil.controller.config.ControllerConfig;
import io.vigil.controller.ha.ClusterPolicy;
import io.vigil.controller.ha.HaInput;
import io.vigil.controller.libvirt.DomainXmlValidator;
import io.vigil.controller.pki.AgentCertificates;
import io.vigil.controller.pki.AgentEvents;
import io.vigil.controller.pki.CertificateAuthority;
import io.vigil.controller.pki.Enrollment;
import io.vigil.controller.pki.JoinTokens;
import io.vigil.controller.pki.ServerIdentity;
import io.vigil.controller.runtime.HaLoop;
import io.vigil.controller.runtime.MoveRequests;
import io.vigil.controller.runtime.StorageWatcher;
import io.vigil.controller.store.ClusterStore;
import io.vigil.controller.store.DurableLog;
import io.vigil.controller.leader.LeaderLease;
import io.vigil.protocol.storage.LeaderLeaseFiles;
import io.vigil.protocol.storage.SharedStorage;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running controller: its Hazelcast member (the cluster store), the cluster's certificate authority with the
 * agent certificates and join tokens, the HA loop with its storage watcher, the HTTPS server of the REST API, the TLS
 * server of the agent port (enrollment and the agent gateway, mutual TLS), and the relay between the gateway and the
 * leader's loop. {@link #start} wires them; {@link #close} stops them in reverse order.
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
    private HttpServer agentServer;
    /** What the agent port presents (a certificate from the cluster CA), and what the REST port does (null: plain HTTP). */
    private ServerIdentity agentIdentity;
    private ServerIdentity restIdentity;
    private CertificateAuthority authority;
    private AgentCertificates certificates;
    private JoinTokens joinTokens;
    private AgentEvents agentEvents;
    private final AtomicReference<ClusterPolicy> policy = new AtomicReference<>();
    private LeaderLease leaderLease;
    private DurableLog<io.vigil.controller.audit.AuditEntry> auditLog;
    private java.util.concurrent.ScheduledExecutorService resync;
    private final java.util.Set<java.nio.file.Path> reportedCorrupt = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /**
     * The leader lease's timeout: a new leader takes over within about this long (plus one renewal interval) of the
     * old one dying or freezing; a cleanly stopped leader hands over at once.
     */
    public static final long LEADER_LEASE_TIMEOUT_MILLIS = 5_000;
    /** How often every member makes its caches equal to storage again: the bound on a split's stale reads. */
    public static final long RESYNC_SECONDS = 10;

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
        // The operator's certificate and key first: a wrong file stops the start before this member joins the cluster.
        if (config.tlsCertificateFile() != null) {
            restIdentity = ServerIdentity.fromFiles(java.nio.file.Path.of(config.tlsCertificateFile()),
                    java.nio.file.Path.of(config.tlsKeyFile()));
        }
        store = ClusterStore.start(config);
        SharedStorage shared = new SharedStorage(config.sharedStoragePath());
        leaderLease = new LeaderLease(new LeaderLeaseFiles(shared), config.name(),
                store.hazelcast().getCluster().getLocalMember().getUuid().toString(), LEADER_LEASE_TIMEOUT_MILLIS,
                System::nanoTime, System::currentTimeMillis);
        store.leadBy(leaderLease::isLeader);
        policy.set(store.initPolicy(config.initialPolicy()));
        authority = CertificateAuthority.adopt(store.maps(), config.stateDirPath());
        certificates = new AgentCertificates(store.maps(), authority, config.stateDirPath()).start();
        joinTokens = new JoinTokens(store.maps(), authority, System::currentTimeMillis);
        agentEvents = new AgentEvents(store::appendEvent, System::currentTimeMillis);
        validator = new DomainXmlValidator();
        vertx = Vertx.vertx();
        // Agent reports reach the leader's loop wherever the agent is connected; the loop's messages reach the agent
        // wherever it is connected. The relay is set before the HTTP server listens, so before any report.
        gateway = new AgentGateway(config.name(), store.hazelcast().getCluster().getLocalMember().getUuid().toString(),
                store::controllerAgentUrls, () -> policy.get().agentPolicy(), r -> relay.report(r), certificates, agentEvents);
        certificates.onRevoked(gateway::revoked);
        relay = new AgentRelay(store.hazelcast(), store.maps().sealing(), store::isLocalLeader, gateway, (connection, input) ->
                loop.submitFromAgent(connection, input));
        loop = new HaLoop(store, relay, config.initialPolicy(), leaderLease::epoch);
        relay.start();
        store.onSpecChanged(spec -> loop.submit(new HaInput.VmSpecChanged(spec)));
        store.onPolicyChanged(p -> {
            policy.set(p);
            loop.submit(new HaInput.PolicyChanged(p));
        });
        // Operator requests reach the leader's loop from the REST API of any member: rules and maintenance as stored
        // intents (a new leader reads them), moves as durable requests the leader takes off once acted on.
        store.onRulesChanged(loop::submitRulesChanged);
        store.onMaintenanceRequested(r -> loop.submit(new HaInput.MaintenanceRequested(r.host(), r.enabled())));
        moves = new MoveRequests(store.maps());
        loop.takeMovesFrom(moves);
        moves.start(loop::submit);
        tokens = new ApiTokens(store.maps());
        tokens.registerBootstrap(config.adminTokenPath(), System.currentTimeMillis());
        log.info("bootstrap admin token in {}", config.adminTokenPath());
        users = new Users(store.maps());
        auditLog = new DurableLog<>(shared.controlPlaneDir().resolve("logs").resolve("audit"), config.name(),
                io.vigil.controller.audit.AuditEntry.class, io.vigil.controller.audit.AuditEntry::sequence,
                AuditLog.DEFAULT_MAX_ENTRIES);
        audit = new AuditLog(store.hazelcast(), auditLog, AuditLog.DEFAULT_MAX_ENTRIES);
        Router router = await(RestApi.router(vertx, store, validator, gateway, moves, tokens, users, audit, config.name(),
                new io.vigil.controller.api.AgentCertificateResource(certificates, joinTokens, agentEvents)));
        agentIdentity = ServerIdentity.issuedBy(authority, config.name(),
                ServerIdentity.controllerNames(config.httpHost(), hostOf(config.advertisedAgentUrl())));
        // The REST API (and the dashboard) only: agents connect to the agent port.
        server = await(vertx.createHttpServer(restServerOptions())
                .invalidRequestHandler(RestApi::invalidRequest)
                .requestHandler(RestApi.entrance(router))
                .listen());
        agentServer = await(vertx.createHttpServer(agentServerOptions())
                .webSocketHandshakeHandler(gateway::handshake)
                .webSocketHandler(gateway::accept)
                .requestHandler(EnrollmentEndpoint.router(vertx, new Enrollment(joinTokens, certificates, agentEvents)))
                .listen());
        watcher = new StorageWatcher(shared, loop::submit, () -> policy.get().leaseTimeoutSeconds() * 1000L);
        loop.start();
        watcher.start(HaLoop.TICK_MILLIS);
        // Leadership changes reach the loop at its next tick (it checks the lease on every input); a new leader's
        // first step reloads the state from storage. Anti-entropy: every member compares the caches with storage
        // every RESYNC_SECONDS, so a cache that missed writes (the other side of a split wrote them) is right again
        // within that bound, and a split that heals unnoticed cannot leave it wrong.
        leaderLease.onChange(() -> loop.submit(new HaInput.Tick()));
        store.onMerged(loop::republish);
        leaderLease.start();
        resync = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vigil-resync");
            t.setDaemon(true);
            return t;
        });
        resync.scheduleWithFixedDelay(() -> {
            resyncFromStorage();
            loop.republish(); // the leader's view over whatever a merge brought back
        }, RESYNC_SECONDS, RESYNC_SECONDS, TimeUnit.SECONDS);
        log.info("controller {} listening on {} (agents: {}, leader: {}); cluster CA fingerprint (SHA-256) {}",
                config.name(), restBaseUrl(), agentUrl(), store.isLocalLeader(), authority.fingerprint());
    }

    /**
     * Makes the caches equal to storage; a corrupt record found there (left out, logged at once by the store) also
     * becomes an event, once per file and member, so the operator sees it on the dashboard and in {@code GET /events}.
     */
    private void resyncFromStorage() {
        try {
            for (var corrupt : store.maps().resyncAll()) {
                if (!reportedCorrupt.add(corrupt.file())) continue;
                store.appendEvent(new io.vigil.controller.ha.ClusterEvent(0, System.currentTimeMillis(), "store-record-corrupt",
                        null, null, "storage", "corrupt record " + corrupt.file() + " (" + corrupt.reason() + ") is left out; "
                        + "every other record is served. Restore the file from a backup, or remove it to fall back to the "
                        + "previous revision", java.util.Map.of("file", corrupt.file().toString())));
            }
        } catch (RuntimeException e) {
            log.warn("could not compare the caches with storage: {}", e.toString());
        }
    }

    /**
     * The REST port (API and dashboard): HTTPS, TLS 1.3 or 1.2, with the operator's certificate when the configuration
     * names one, else the cluster CA's certificate for this controller (the agent port's). No client certificate: the
     * API authenticates with bearer tokens. Plain HTTP only when {@code plainHttp: true} says so; a plain-HTTP request
     * to the HTTPS port gets no answer (the TLS layer closes the connection).
     */
    private HttpServerOptions restServerOptions() {
        HttpServerOptions options = new HttpServerOptions().setHost(config.httpHost()).setPort(config.httpPort())
                .setMaxInitialLineLength(RestApi.MAX_REQUEST_LINE).setMaxHeaderSize(RestApi.MAX_HEADER_BYTES);
        if (config.plainHttp()) {
            if (isLoopback(config.httpHost())) {
                log.info("REST API and dashboard on plain HTTP (plainHttp: true), loopback only");
            } else {
                log.warn("REST API and dashboard on plain HTTP (plainHttp: true) at {}: API tokens and passwords cross the "
                        + "network unencrypted; remove plainHttp to serve HTTPS", config.httpHost());
            }
            return options;
        }
        if (restIdentity == null) restIdentity = agentIdentity;
        log.info("REST API and dashboard on HTTPS with the certificate {} ({})",
                restIdentity.certificate().getSubjectX500Principal().getName(), restIdentity.source());
        return options.setSsl(true).setKeyCertOptions(keyCert(restIdentity))
                .setEnabledSecureTransportProtocols(ServerIdentity.PROTOCOLS).setSslHandshakeTimeout(10);
    }

    /**
     * The agent port: TLS 1.3 or 1.2 with a server certificate from the cluster's CA (sent with the CA, so that an
     * enrolling agent can pin the CA by its fingerprint), a client certificate requested but not required (enrollment
     * has none yet; the gateway refuses a WebSocket without one) and verified against the CA when given.
     */
    private HttpServerOptions agentServerOptions() {
        return new HttpServerOptions()
                .setHost(config.httpHost()).setPort(config.agentPort())
                .setSsl(true)
                .setKeyCertOptions(keyCert(agentIdentity))
                .setTrustOptions(new PemTrustOptions().addCertValue(Buffer.buffer(authority.certificatePem())))
                .setClientAuth(ClientAuth.REQUEST)
                .setEnabledSecureTransportProtocols(ServerIdentity.PROTOCOLS)
                .setSslHandshakeTimeout(10)
                .setMaxWebSocketFrameSize(1024 * 1024).setMaxWebSocketMessageSize(8 * 1024 * 1024);
    }

    private static PemKeyCertOptions keyCert(ServerIdentity identity) {
        return new PemKeyCertOptions().setKeyValue(Buffer.buffer(identity.keyPem())).setCertValue(Buffer.buffer(identity.chainPem()));
    }

    /** The host of {@code url}, without the brackets of an IPv6 literal; null when it has none. */
    private static String hostOf(String url) {
        String host = URI.create(url).getHost();
        return host != null && host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }

    private static boolean isLoopback(String host) {
        try {
            return java.net.InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    public int httpPort() {
        return server.actualPort();
    }

    /** The certificate the REST port presents (the leaf of its chain), or null when it serves plain HTTP. */
    public java.security.cert.X509Certificate restCertificate() {
        return restIdentity == null ? null : restIdentity.certificate();
    }

    public String restBaseUrl() {
        return config.restBaseUrl(httpPort());
    }

    /** The agent port (TLS: enrollment and the agent WebSocket), as it listens (an ephemeral 0 resolved). */
    public int agentPort() {
        return agentServer.actualPort();
    }

    /** The URL agents dial; with an ephemeral port (0) the actual agent port is filled in. */
    public String agentUrl() {
        return config.advertisedAgentUrl().replace(":0/", ":" + agentPort() + "/");
    }

    /** The cluster's agent certificates: the CA, issue (tests issue credentials directly), list, revoke. */
    public AgentCertificates certificates() {
        return certificates;
    }

    public JoinTokens joinTokens() {
        return joinTokens;
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

    public LeaderLease leaderLease() {
        return leaderLease;
    }

    public AuditLog audit() {
        return audit;
    }

    public AgentGateway gateway() {
        return gateway;
    }

    @Override
    public void close() {
        if (resync != null) resync.shutdownNow();
        // First: another controller may take over at once, instead of after a lease timeout.
        if (leaderLease != null) leaderLease.close();
        if (watcher != null) watcher.close();
        if (gateway != null) gateway.closeAll();
        if (agentServer != null) quietly(() -> await(agentServer.close()));
        if (server != null) quietly(() -> await(server.close()));
        if (relay != null) relay.close();
        if (loop != null) loop.close();
        if (vertx != null) quietly(() -> await(vertx.close()));
        if (validator != null) validator.close();
        if (auditLog != null) auditLog.close();
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
