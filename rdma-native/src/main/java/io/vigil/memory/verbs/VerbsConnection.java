package io.vigil.memory.verbs;

import static io.vigil.memory.RemoteMemoryException.Kind.REFUSED;
import static io.vigil.memory.RemoteMemoryException.Kind.UNREACHABLE;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.vigil.memory.RemoteMemoryException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reader's end of one verbs connection to a memory keeper: a connection manager id connected with a ticket, and
 * the protection domain, completion queue, queue pair and registered bounce buffer its reads use. One per opened
 * region; closing it disconnects, which lets the keeper release the region's registration.
 */
final class VerbsConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VerbsConnection.class);
    /** IB CM reject reason "invalid service ID" and iWARP's -ECONNREFUSED: nothing listens on that port. */
    private static final int REJECT_NO_LISTENER_IB = 8;
    private static final int REJECT_NO_LISTENER_IWARP = -111;

    private final InetSocketAddress keeper;
    private final Pointer qp;
    private final Pointer cq;
    private final RegisteredBuffer bounce;
    private final int sendDepth;
    private final Teardown teardown;
    private boolean closed;

    private VerbsConnection(InetSocketAddress keeper, Pointer qp, Pointer cq, RegisteredBuffer bounce, int sendDepth,
            Teardown teardown) {
        this.keeper = keeper;
        this.qp = qp;
        this.cq = cq;
        this.bounce = bounce;
        this.sendDepth = sendDepth;
        this.teardown = teardown;
    }

    /**
     * Connects to the keeper's connection manager port presenting {@code ticket}. UNREACHABLE when no connection is
     * made within {@code timeout} (no route, nothing listening, no answer), REFUSED when the keeper rejects the ticket.
     */
    static VerbsConnection connect(InetSocketAddress keeper, byte[] ticket, VerbsSettings settings, Duration timeout)
            throws RemoteMemoryException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Teardown teardown = new Teardown();
        boolean connected = false;
        try {
            if (keeper.isUnresolved()) throw new IOException("cannot resolve " + keeper.getHostString());
            CmChannel channel = CmChannel.open();
            teardown.push(channel::close);
            Pointer id = channel.createId();
            teardown.push(() -> RdmaCm.rdma_destroy_id(id));

            try (Memory address = NativeStructs.sockaddr(keeper)) {
                check(RdmaCm.rdma_resolve_addr(id, null, address, cmTimeoutMillis(deadline)), "rdma_resolve_addr");
            }
            await(channel, VerbsLayout.RDMA_CM_EVENT_ADDR_RESOLVED, deadline, keeper, "resolving the address");
            check(RdmaCm.rdma_resolve_route(id, cmTimeoutMillis(deadline)), "rdma_resolve_route");
            await(channel, VerbsLayout.RDMA_CM_EVENT_ROUTE_RESOLVED, deadline, keeper, "resolving the route");

            // Resolution bound the id to the local device that reaches the keeper.
            Pointer verbs = id.getPointer(VerbsLayout.CM_ID_VERBS);
            Pointer pd = Ibverbs.ibv_alloc_pd(verbs);
            if (pd == null) throw new IOException(Libc.lastError("ibv_alloc_pd"));
            teardown.push(() -> Ibverbs.ibv_dealloc_pd(pd));
            // The bounce buffer is released after the queue pair (teardown runs backwards), so that no request still
            // in flight after a failure can land in memory that was unmapped.
            NativeMapping bounceMemory = NativeMapping.anonymous(settings.bounceBytes());
            teardown.push(bounceMemory::close);
            Pointer mr = Ibverbs.ibv_reg_mr(pd, bounceMemory.address(), bounceMemory.length(),
                    VerbsLayout.IBV_ACCESS_LOCAL_WRITE);
            if (mr == null) throw new IOException(Libc.lastError("ibv_reg_mr of the bounce buffer"));
            teardown.push(() -> Ibverbs.ibv_dereg_mr(mr));
            Pointer cq = Ibverbs.ibv_create_cq(verbs, settings.window() + 1, null, null, 0);
            if (cq == null) throw new IOException(Libc.lastError("ibv_create_cq"));
            teardown.push(() -> Ibverbs.ibv_destroy_cq(cq));
            int sendDepth;
            try (Memory attr = NativeStructs.qpInitAttr(cq, settings.window())) {
                check(RdmaCm.rdma_create_qp(id, pd, attr), "rdma_create_qp");
                sendDepth = NativeStructs.grantedSendDepth(attr);
            }
            teardown.push(() -> RdmaCm.rdma_destroy_qp(id));
            Pointer qp = id.getPointer(VerbsLayout.CM_ID_QP);

            try (Memory privateData = NativeStructs.bytes(ticket);
                    Memory param = NativeStructs.connectParam(privateData)) {
                check(RdmaCm.rdma_connect(id, param), "rdma_connect");
            }
            await(channel, VerbsLayout.RDMA_CM_EVENT_ESTABLISHED, deadline, keeper, "connecting");
            teardown.push(() -> RdmaCm.rdma_disconnect(id)); // runs first on close

            log.debug("verbs connection to {} established (queue pair {}, send depth {})", keeper,
                    qp.getInt(VerbsLayout.QP_NUM), sendDepth);
            VerbsConnection connection = new VerbsConnection(keeper, qp, cq,
                    new RegisteredBuffer(bounceMemory.address(), (int) bounceMemory.length(),
                            mr.getInt(VerbsLayout.MR_LKEY)), sendDepth, teardown);
            connected = true;
            return connection;
        } catch (RemoteMemoryException e) {
            throw e;
        } catch (IOException e) {
            throw new RemoteMemoryException(UNREACHABLE,
                    "no verbs connection to the memory keeper at " + keeper + ": " + e.getMessage(), e);
        } finally {
            if (!connected) teardown.close();
        }
    }

    /** A reader of {@code region} over this connection. */
    RdmaReadPipeline pipeline(RegionKey region, VerbsSettings settings) {
        return new RdmaReadPipeline(qp, cq, bounce, region, Math.min(settings.window(), sendDepth),
                settings.maxMessageBytes(), settings.stallTimeout());
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        teardown.close();
        log.debug("verbs connection to {} closed", keeper);
    }

    private static CmEvent await(CmChannel channel, int expected, long deadline, InetSocketAddress keeper,
            String step) throws IOException {
        while (true) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0)
                throw new RemoteMemoryException(UNREACHABLE,
                        "no answer from the memory keeper at " + keeper + " in time while " + step);
            Optional<CmEvent> next = channel.next(Duration.ofNanos(remaining));
            if (next.isEmpty()) continue;
            CmEvent event = next.get();
            if (event.type() == expected && event.status() == 0) return event;
            if (event.type() == VerbsLayout.RDMA_CM_EVENT_REJECTED) throw rejected(event, keeper);
            throw new RemoteMemoryException(UNREACHABLE,
                    step + " to the memory keeper at " + keeper + " failed: " + event.name());
        }
    }

    private static RemoteMemoryException rejected(CmEvent event, InetSocketAddress keeper) {
        Optional<TicketRefusal> refusal = TicketRefusal.fromPrivateData(event.privateData());
        if (refusal.isPresent())
            return new RemoteMemoryException(REFUSED,
                    "the memory keeper at " + keeper + " refused the verbs ticket: " + refusal.get().reason());
        if (event.status() == REJECT_NO_LISTENER_IB || event.status() == REJECT_NO_LISTENER_IWARP)
            return new RemoteMemoryException(UNREACHABLE,
                    "nothing listens for verbs connections at " + keeper + " (" + event.name() + ")");
        return new RemoteMemoryException(REFUSED,
                "the memory keeper at " + keeper + " rejected the verbs connection (" + event.name() + ")");
    }

    private static void check(int rc, String call) throws IOException {
        if (rc != 0) throw new IOException(Libc.lastError(call));
    }

    /** A resolution step's own timeout: what is left of the deadline, at least 1 ms. */
    private static int cmTimeoutMillis(long deadline) {
        long millis = (deadline - System.nanoTime()) / 1_000_000;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, millis));
    }
}
