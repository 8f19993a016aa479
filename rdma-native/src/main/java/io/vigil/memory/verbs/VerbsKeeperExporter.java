package io.vigil.memory.verbs;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.vigil.memory.VerbsExporter;
import io.vigil.memory.VerbsTicket;
import io.vigil.protocol.memory.Regions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory keeper's RDMA side. Listens on a connection manager port; {@link #export} maps an arena file read-only,
 * registers it for remote reads and issues a one-time ticket for it. A connect request whose private data starts
 * with an outstanding, unexpired ticket is accepted (a queue pair is created for it, able to serve RDMA READs of
 * that registration); any other is rejected with the reason. A registration is released when its connection ends,
 * when its ticket expires unused, or when the connection outlives {@code maxConnectionAge} (a reader whose host died
 * sends no disconnect).
 *
 * <p>One thread handles connection manager events; {@link #export} may be called from any thread.
 */
public final class VerbsKeeperExporter implements VerbsExporter {
    public static final Duration TICKET_LIFETIME = Duration.ofSeconds(30);
    public static final Duration MAX_CONNECTION_AGE = Duration.ofMinutes(10);

    private static final Logger log = LoggerFactory.getLogger(VerbsKeeperExporter.class);
    private static final Duration EVENT_WAIT = Duration.ofMillis(200);
    private static final int BACKLOG = 16;
    /** Keeper queue pairs post nothing, so their shared completion queue never fills; providers want one anyway. */
    private static final int CQ_ENTRIES = 16;

    /** An admitted reader: its connection id, what it may read, and since when. */
    private record Connection(Pointer id, ArenaRegistration registration, long admittedAtMillis) {}

    private final CmChannel channel;
    private final Pointer verbs;
    private final Pointer pd;
    private final Pointer cq;
    private final int port;
    private final long maxConnectionAgeMillis;
    private final Teardown teardown;
    private final TicketBook<ArenaRegistration> tickets;
    private final Map<Long, Connection> connections = new HashMap<>(); // the event thread's alone while it runs
    private final Thread events;
    private volatile boolean running = true;
    private boolean closed;

    private VerbsKeeperExporter(CmChannel channel, Pointer verbs, Pointer pd, Pointer cq, int port,
            Duration ticketLifetime, Duration maxConnectionAge, Teardown teardown) {
        this.channel = channel;
        this.verbs = verbs;
        this.pd = pd;
        this.cq = cq;
        this.port = port;
        this.maxConnectionAgeMillis = maxConnectionAge.toMillis();
        this.teardown = teardown;
        this.tickets = new TicketBook<>(ticketLifetime, System::currentTimeMillis, new SecureRandom());
        this.events = new Thread(this::handleEvents, "verbs-keeper-" + port);
        this.events.setDaemon(true);
    }

    /**
     * Listens for verbs connections on {@code address} (the address of this host's RDMA interface; not a wildcard,
     * since registrations belong to one device) and {@code port} (0: any). Empty, after logging one line saying why,
     * when this host cannot serve RDMA reads; the keeper then serves tcp only.
     */
    public static Optional<VerbsKeeperExporter> start(String address, int port) {
        return start(address, port, TICKET_LIFETIME, MAX_CONNECTION_AGE);
    }

    public static Optional<VerbsKeeperExporter> start(String address, int port, Duration ticketLifetime,
            Duration maxConnectionAge) {
        Optional<String> unavailable = RdmaDevices.unavailableReason();
        if (unavailable.isPresent()) {
            log.info("RDMA reads not served, {}; the memory keeper serves its arenas over tcp only", unavailable.get());
            return Optional.empty();
        }
        try {
            return Optional.of(listen(address, port, ticketLifetime, maxConnectionAge));
        } catch (IOException e) {
            log.warn("RDMA reads not served, cannot listen on {} port {}: {}; the memory keeper serves its arenas "
                    + "over tcp only", address, port, e.getMessage());
            return Optional.empty();
        }
    }

    private static VerbsKeeperExporter listen(String address, int port, Duration ticketLifetime,
            Duration maxConnectionAge) throws IOException {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0-65535: " + port);
        Teardown teardown = new Teardown();
        boolean listening = false;
        try {
            CmChannel channel = CmChannel.open();
            teardown.push(channel::close);
            Pointer id = channel.createId();
            teardown.push(() -> RdmaCm.rdma_destroy_id(id));
            InetSocketAddress bind = new InetSocketAddress(InetAddress.getByName(address), port);
            try (Memory sockaddr = NativeStructs.sockaddr(bind)) {
                if (RdmaCm.rdma_bind_addr(id, sockaddr) != 0) throw new IOException(Libc.lastError("rdma_bind_addr"));
            }
            Pointer verbs = id.getPointer(VerbsLayout.CM_ID_VERBS);
            if (verbs == null)
                throw new IOException(address + " is not an address of an RDMA device; bind the keeper to its RDMA "
                        + "interface's address");
            Pointer pd = Ibverbs.ibv_alloc_pd(verbs);
            if (pd == null) throw new IOException(Libc.lastError("ibv_alloc_pd"));
            teardown.push(() -> Ibverbs.ibv_dealloc_pd(pd));
            Pointer cq = Ibverbs.ibv_create_cq(verbs, CQ_ENTRIES, null, null, 0);
            if (cq == null) throw new IOException(Libc.lastError("ibv_create_cq"));
            teardown.push(() -> Ibverbs.ibv_destroy_cq(cq));
            if (RdmaCm.rdma_listen(id, BACKLOG) != 0) throw new IOException(Libc.lastError("rdma_listen"));
            int boundPort = NativeStructs.hostOrder(RdmaCm.rdma_get_src_port(id));

            VerbsKeeperExporter exporter = new VerbsKeeperExporter(channel, verbs, pd, cq, boundPort, ticketLifetime,
                    maxConnectionAge, teardown);
            exporter.events.start();
            listening = true;
            log.info("memory keeper serves RDMA reads on {} port {}", address, boundPort);
            return exporter;
        } finally {
            if (!listening) teardown.close();
        }
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public VerbsTicket export(String region, Path arenaFile) throws IOException {
        Regions.check(region);
        synchronized (this) {
            if (closed) throw new IllegalStateException("the verbs exporter is closed");
            ArenaRegistration registration = ArenaRegistration.register(pd, region, arenaFile);
            byte[] ticket = tickets.issue(registration);
            log.debug("registered {} for RDMA reads ({} bytes)", region, registration.size());
            return new VerbsTicket(registration.address(), registration.rkey(), registration.size(), ticket);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        running = false;
        try {
            events.join(EVENT_WAIT.multipliedBy(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (events.isAlive()) { // never free what the event thread may still touch
            log.error("the verbs event thread did not stop; leaving its RDMA resources in place");
            return;
        }
        for (Connection connection : List.copyOf(connections.values())) end(connection.id(), "the keeper closed");
        release(tickets.drain(), "the keeper closed");
        teardown.close();
        log.info("memory keeper stopped serving RDMA reads on port {}", port);
    }

    private void handleEvents() {
        while (running) {
            try {
                Optional<CmEvent> event = channel.next(EVENT_WAIT);
                release(tickets.expire(), "its ticket expired unused");
                disconnectOld();
                event.ifPresent(this::handle);
            } catch (IOException | RuntimeException e) {
                log.error("handling RDMA connection events failed", e);
                sleep(EVENT_WAIT);
            }
        }
    }

    private void handle(CmEvent event) {
        switch (event.type()) {
            case VerbsLayout.RDMA_CM_EVENT_CONNECT_REQUEST -> admit(event);
            case VerbsLayout.RDMA_CM_EVENT_ESTABLISHED -> log.debug("RDMA reader connected");
            case VerbsLayout.RDMA_CM_EVENT_DISCONNECTED, VerbsLayout.RDMA_CM_EVENT_CONNECT_ERROR,
                    VerbsLayout.RDMA_CM_EVENT_UNREACHABLE, VerbsLayout.RDMA_CM_EVENT_REJECTED,
                    VerbsLayout.RDMA_CM_EVENT_DEVICE_REMOVAL -> {
                if (connections.containsKey(Pointer.nativeValue(event.id()))) end(event.id(), event.name());
                else log.warn("RDMA connection manager reports {} outside any reader's connection", event.name());
            }
            default -> log.debug("RDMA connection manager event {}", event.name());
        }
    }

    private void admit(CmEvent request) {
        Pointer id = request.id();
        TicketBook.Redemption<ArenaRegistration> redemption = tickets.redeem(request.privateData());
        if (!redemption.admitted()) {
            redemption.item().ifPresent(ArenaRegistration::close);
            TicketRefusal refusal = redemption.refusal().orElseThrow();
            log.info("refused an RDMA reader: {}", refusal.reason());
            reject(id, refusal);
            return;
        }
        ArenaRegistration registration = redemption.item().orElseThrow();
        try {
            if (!verbs.equals(id.getPointer(VerbsLayout.CM_ID_VERBS)))
                throw new IOException("the request arrived on another RDMA device than the registration's");
            try (Memory attr = NativeStructs.qpInitAttr(cq, 1)) {
                if (RdmaCm.rdma_create_qp(id, pd, attr) != 0) throw new IOException(Libc.lastError("rdma_create_qp"));
            }
            try (Memory param = NativeStructs.acceptParam()) {
                if (RdmaCm.rdma_accept(id, param) != 0) {
                    String error = Libc.lastError("rdma_accept");
                    RdmaCm.rdma_destroy_qp(id);
                    throw new IOException(error);
                }
            }
        } catch (IOException e) {
            log.warn("could not admit an RDMA reader of {}: {}", registration.region(), e.getMessage());
            registration.close();
            reject(id, TicketRefusal.FAILED);
            return;
        }
        connections.put(Pointer.nativeValue(id), new Connection(id, registration, System.currentTimeMillis()));
        log.info("admitted an RDMA reader of {} ({} bytes)", registration.region(), registration.size());
    }

    private static void reject(Pointer id, TicketRefusal refusal) {
        byte[] reason = refusal.privateData();
        try (Memory data = NativeStructs.bytes(reason)) {
            if (RdmaCm.rdma_reject(id, data, (byte) reason.length) != 0)
                log.warn("{}", Libc.lastError("rdma_reject"));
        }
        RdmaCm.rdma_destroy_id(id);
    }

    /** Disconnects readers connected for too long and releases what they held. */
    private void disconnectOld() {
        long now = System.currentTimeMillis();
        for (Connection connection : List.copyOf(connections.values())) {
            if (now - connection.admittedAtMillis() > maxConnectionAgeMillis) {
                log.warn("RDMA reader of {} connected for over {} s; disconnecting it",
                        connection.registration().region(), maxConnectionAgeMillis / 1000);
                end(connection.id(), "connected for too long");
            }
        }
    }

    private void end(Pointer id, String why) {
        Connection connection = connections.remove(Pointer.nativeValue(id));
        if (connection == null) return;
        RdmaCm.rdma_disconnect(id); // fails harmlessly when the reader disconnected first
        RdmaCm.rdma_destroy_qp(id);
        RdmaCm.rdma_destroy_id(id);
        connection.registration().close();
        log.info("RDMA reader of {} gone ({}); its registration is released", connection.registration().region(),
                why);
    }

    private static void release(List<ArenaRegistration> registrations, String why) {
        for (ArenaRegistration registration : registrations) {
            registration.close();
            log.info("released the RDMA registration of {}: {}", registration.region(), why);
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
