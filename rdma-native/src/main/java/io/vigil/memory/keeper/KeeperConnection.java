package io.vigil.memory.keeper;

import io.vigil.memory.VerbsExporter;
import io.vigil.memory.VerbsTicket;
import io.vigil.protocol.memory.RegionGrant;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One peer's connection to the keeper, served by one thread in blocking mode, in two stages: the handshake (its OPEN
 * is read and its grant checked, in one of the keeper's handshake slots; a refusal is answered and the connection
 * closed at once), then, once the grant is accepted and a serving slot taken, the region is opened and its pipelined
 * READs answered in order. Every blocking step has a deadline that the keeper's reaper enforces by closing the
 * channels (which wakes the blocked thread), so a peer that stops sending or stops reading loses its connection and
 * nothing else.
 */
final class KeeperConnection implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(KeeperConnection.class);
    /** READs up to this size are copied into the reply buffer (several replies per write); larger ones use sendfile. */
    private static final int SMALL_READ = 64 << 10;
    private static final int OUT_BYTES = 256 << 10;
    private static final int IN_BYTES = 32 << 10;
    /** Bounds one sendfile call, so that a stall deadline measures progress rather than a whole 16 MiB read. */
    private static final int TRANSFER_CHUNK = 1 << 20;
    private static final long LINGER_NANOS = 2_000_000_000L;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10).asReadOnlyBuffer();

    /** How the keeper moves a connection between its stages; called on the connection's thread. */
    interface Stages {
        /** The handshake ended, its grant accepted or not; called once. */
        void handshakeEnded(KeeperConnection c);

        /** Takes a serving slot for a connection whose grant was accepted; false when every slot is taken. */
        boolean takeServingSlot();

        /** The connection ended; {@code served}: it held a serving slot. Called once, last. */
        void ended(KeeperConnection c, boolean served);
    }

    /** An OPEN whose grant {@link RegionAccess#admit} accepted. */
    private record Granted(int op, String region, RegionGrant grant) {}

    private final SocketChannel channel;
    private final InetAddress address;
    private final String peer;
    private final RegionAccess access;
    private final VerbsExporter verbs;
    private final KeeperLimits limits;
    private final Stages stages;
    private final LogThrottle turnedAway;
    /** Written by this connection's thread only; read by the reaper. */
    private volatile boolean handshaking = true;
    /** System.nanoTime() by which the current blocking step must end. */
    private volatile long deadline;
    private volatile ArenaRegion region;
    private volatile String abortReason;
    private long reads;
    private long bytes;

    /**
     * A connection whose handshake starts now, in a handshake slot the caller took for it.
     *
     * @param turnedAway decides which refusals are logged one by one, so that a flood of them is not
     */
    KeeperConnection(SocketChannel channel, InetAddress address, String peer, RegionAccess access, VerbsExporter verbs,
            KeeperLimits limits, LogThrottle turnedAway, Stages stages) {
        this.channel = channel;
        this.address = address;
        this.peer = peer;
        this.access = access;
        this.verbs = verbs;
        this.limits = limits;
        this.turnedAway = turnedAway;
        this.stages = stages;
        this.deadline = System.nanoTime() + limits.handshakeTimeout().toNanos(); // absolute: the whole OPEN counts
    }

    /** The peer's address, as the keeper's handshake limits count it. */
    InetAddress address() {
        return address;
    }

    /** Closes the connection if its current step is overdue; called by the keeper's reaper. */
    void expireIfOverdue(long nowNanos) {
        if (nowNanos - deadline > 0)
            abort(handshaking ? "no complete OPEN within the handshake deadline of " + limits.handshakeTimeout().toMillis()
                    + " ms" : "no progress before its deadline");
    }

    /** Closes both channels, waking this connection's thread from whatever it blocks in. */
    void abort(String reason) {
        if (abortReason == null) abortReason = reason;
        ArenaRegion r = region;
        if (r != null) closeQuietly(r.channel()); // a thread blocked in sendfile is registered with the file channel
        closeQuietly(channel);
    }

    @Override
    public void run() {
        boolean served = false;
        try {
            Granted granted = handshake();
            if (granted == null) return;
            if (!stages.takeServingSlot()) {
                if (turnedAway.allow(address.getHostAddress()))
                    log.warn("turned away {}: its grant is valid but all {} serving slots are taken", peer,
                            limits.maxConnections());
                refuseNow(new KeeperRefusal(KeeperStatus.BUSY, "memory keeper busy: it serves " + limits.maxConnections()
                        + " connections already"));
                return;
            }
            served = true;
            serve(granted);
        } catch (OpenRequest.NotAKeeperClient e) {
            if (turnedAway.allow(address.getHostAddress()))
                log.info("closed connection from {}: not a memory keeper client ({})", peer, e.getMessage());
        } catch (ClosedChannelException e) {
            if (abortReason != null && (served || turnedAway.allow(address.getHostAddress())))
                log.info("closed connection from {}: {}", peer, abortReason);
        } catch (IOException e) {
            log.debug("connection from {} ended: {}", peer, e.toString());
        } catch (RuntimeException e) {
            log.error("connection from {} failed", peer, e);
        } finally {
            ArenaRegion r = region;
            if (r != null) {
                closeQuietly(r.channel());
                log.info("{} closed region {}: {} reads, {} bytes", peer, r.name(), reads, bytes);
            }
            closeQuietly(channel);
            endHandshake();
            stages.ended(this, served);
        }
    }

    /**
     * Reads the OPEN and checks its grant. Returns the granted OPEN, having left the handshake stage; or null when the
     * OPEN was refused, after answering it and half-closing the connection.
     */
    private Granted handshake() throws IOException {
        OpenRequest request;
        try {
            request = OpenRequest.read(channel);
        } catch (KeeperRefusal e) {
            if (turnedAway.allow(address.getHostAddress())) log.info("bad OPEN from {}: {}", peer, printable(e.getMessage()));
            refuseNow(e);
            return null;
        }
        try {
            RegionGrant grant = access.admit(request.region(), request.grant());
            endHandshake();
            return new Granted(request.op(), request.region(), grant);
        } catch (KeeperRefusal e) {
            if (turnedAway.allow(address.getHostAddress()))
                log.warn("refused {} region {}: {} ({})", peer, printable(request.region()), e.status(), printable(e.getMessage()));
            refuseNow(e);
            return null;
        }
    }

    private void endHandshake() {
        if (!handshaking) return;
        handshaking = false;
        stages.handshakeEnded(this);
    }

    /** Opens the granted region and answers its OPEN, then its READs (op 1) or hands out a verbs ticket (op 2). */
    private void serve(Granted granted) throws IOException {
        try {
            if (granted.op() == KeeperProtocol.OP_OPEN_VERBS) {
                answerVerbs(granted);
                return;
            }
            ArenaRegion r = access.open(granted.region(), granted.grant());
            region = r;
            if (abortReason != null) throw new ClosedChannelException(); // reaped while opening
            ByteBuffer reply = openReply(KeeperStatus.OK, KeeperProtocol.OPEN_TCP_BODY_BYTES)
                    .putLong(r.size()).putInt(limits.maxReadBytes()).flip();
            writeFully(reply);
            log.info("{} opened region {} ({} bytes) for {}", peer, r.name(), r.size(), r.grant().grantee());
            serveReads(r);
        } catch (KeeperRefusal e) {
            log.warn("refused {} region {}: {} ({})", peer, printable(granted.region()), e.status(), printable(e.getMessage()));
            refuseAndClose(e);
        }
    }

    private void answerVerbs(Granted granted) throws IOException, KeeperRefusal {
        if (verbs == null) throw new KeeperRefusal(KeeperStatus.NO_VERBS, "this keeper serves no RDMA; read over TCP");
        ArenaRegion r = access.open(granted.region(), granted.grant()); // that the arena exists
        closeQuietly(r.channel());
        VerbsTicket ticket;
        try {
            ticket = verbs.export(r.name(), r.file());
        } catch (IOException | RuntimeException e) {
            throw new KeeperRefusal(KeeperStatus.KEEPER_ERROR, "cannot export " + r.name() + " for RDMA: " + e.getMessage());
        }
        ByteBuffer reply = openReply(KeeperStatus.OK, KeeperProtocol.OPEN_VERBS_BODY_BYTES)
                .putLong(ticket.address()).putInt(ticket.rkey()).putLong(ticket.size()).put(ticket.ticket()).flip();
        writeFully(reply);
        log.info("{} got an RDMA ticket for region {} ({} bytes) for {}", peer, r.name(), ticket.size(),
                r.grant().grantee());
        lingeringClose();
    }

    private void serveReads(ArenaRegion r) throws IOException {
        ByteBuffer in = ByteBuffer.allocateDirect(IN_BYTES).flip();
        ByteBuffer out = ByteBuffer.allocateDirect(OUT_BYTES);
        while (true) {
            while (in.remaining() >= KeeperProtocol.READ_REQUEST_BYTES) {
                long id = in.getLong();
                long offset = in.getLong();
                long length = Integer.toUnsignedLong(in.getInt());
                if (!answerRead(r, out, id, offset, length)) return;
            }
            flush(out); // before waiting for more requests, so that no reply waits on the peer's next request
            in.compact();
            deadline = System.nanoTime() + limits.idleTimeout().toNanos();
            int n = channel.read(in);
            in.flip();
            if (n < 0) return;
        }
    }

    /** Answers one READ; false when it was refused and the connection is to end. */
    private boolean answerRead(ArenaRegion r, ByteBuffer out, long id, long offset, long length) throws IOException {
        if (length > limits.maxReadBytes()) {
            failRead(out, id, KeeperStatus.BAD_REQUEST, "read of " + length + " bytes is over this keeper's limit of "
                    + limits.maxReadBytes());
            return false;
        }
        if (offset < 0 || offset > r.size() || length > r.size() - offset) {
            failRead(out, id, KeeperStatus.OUT_OF_RANGE, "read of " + length + " bytes at " + Long.toUnsignedString(offset)
                    + " is outside region " + r.name() + " (" + r.size() + " bytes)");
            return false;
        }
        int len = (int) length;
        if (len <= SMALL_READ) {
            if (out.remaining() < KeeperProtocol.READ_REPLY_BYTES + len) flush(out);
            putReadReply(out, id, KeeperStatus.OK, len);
            copy(r.channel(), offset, len, out);
        } else {
            putReadReply(out, id, KeeperStatus.OK, len);
            flush(out);
            transfer(r.channel(), offset, len, out);
        }
        reads++;
        bytes += len;
        return true;
    }

    /** Sends {@code len} bytes of the file from {@code offset} straight from the page cache (sendfile). */
    private void transfer(FileChannel file, long offset, int len, ByteBuffer out) throws IOException {
        long pos = offset;
        long left = len;
        while (left > 0) {
            deadline = System.nanoTime() + limits.stallTimeout().toNanos();
            long n = file.transferTo(pos, Math.min(left, TRANSFER_CHUNK), channel);
            if (n <= 0) break; // the file ended before the region did: it shrank since OPEN
            pos += n;
            left -= n;
        }
        while (left > 0) { // what sendfile did not send, through the buffer (which reads past the end as zeros)
            int k = (int) Math.min(left, out.capacity());
            copy(file, pos, k, out);
            flush(out);
            pos += k;
            left -= k;
        }
    }

    /**
     * Appends {@code len} bytes of the file from {@code offset} to {@code out}. Bytes past the file's current end
     * (an arena that shrank after OPEN) read as zero: the region's size is fixed at OPEN, and truncated frames are
     * no longer part of the dirty table.
     */
    private static void copy(FileChannel file, long offset, int len, ByteBuffer out) throws IOException {
        int start = out.position();
        int limit = out.limit();
        out.limit(start + len);
        try {
            while (out.hasRemaining()) {
                if (file.read(out, offset + (out.position() - start)) < 0) break;
            }
            while (out.hasRemaining()) out.put(ZEROS.duplicate().limit(Math.min(out.remaining(), ZEROS.capacity())));
        } finally {
            out.limit(limit);
        }
    }

    private void failRead(ByteBuffer out, long id, KeeperStatus status, String message) throws IOException {
        log.warn("refused a read of {} on region {}: {} ({})", peer, region.name(), status, message);
        byte[] text = message(message);
        if (out.remaining() < KeeperProtocol.READ_REPLY_BYTES + text.length) flush(out);
        putReadReply(out, id, status, text.length);
        out.put(text);
        flush(out);
        lingeringClose();
    }

    private void refuseAndClose(KeeperRefusal refusal) throws IOException {
        byte[] text = message(refusal.getMessage());
        writeFully(openReply(refusal.status(), text.length).put(text).flip());
        lingeringClose();
    }

    /**
     * Answers a refusal at the handshake and ends the connection at once, without {@link #lingeringClose}: a peer
     * without a grant, or one turned away BUSY, gives its slot back now. A correct client sends nothing after its OPEN
     * before the reply, so there is nothing unread to turn the close into a reset; what a peer sent anyway and is
     * already here is discarded, without waiting for more.
     */
    private void refuseNow(KeeperRefusal refusal) throws IOException {
        byte[] text = message(refusal.getMessage());
        writeFully(openReply(refusal.status(), text.length).put(text).flip());
        channel.shutdownOutput();
        channel.configureBlocking(false);
        ByteBuffer sink = ByteBuffer.allocate(4096);
        for (int i = 0; i < 16 && channel.read(sink.clear()) > 0; i++) {
            // discard
        }
    }

    /**
     * Ends the connection after a last reply so that the peer gets to read it: closing at once with the peer's
     * pipelined requests unread would send a reset, which may discard the reply before the peer reads it.
     */
    private void lingeringClose() throws IOException {
        channel.shutdownOutput();
        deadline = System.nanoTime() + Math.min(LINGER_NANOS, limits.stallTimeout().toNanos());
        ByteBuffer sink = ByteBuffer.allocate(4096);
        while (channel.read(sink.clear()) >= 0) {
            // discard until the peer closes, or the reaper does
        }
    }

    /** A peer's text as it may go into the log: one line, no control characters, bounded. */
    static String printable(String text) {
        StringBuilder b = new StringBuilder();
        text.codePoints().limit(200).forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return text.length() > 200 ? b + "..." : b.toString();
    }

    private static ByteBuffer openReply(KeeperStatus status, int bodyBytes) {
        return ByteBuffer.allocate(KeeperProtocol.OPEN_REPLY_BYTES + bodyBytes).putInt(KeeperProtocol.MAGIC)
                .putShort((short) KeeperProtocol.VERSION).putShort((short) status.code()).putInt(bodyBytes);
    }

    private static void putReadReply(ByteBuffer out, long id, KeeperStatus status, int length) {
        out.putLong(id).putShort((short) status.code()).putShort((short) 0).putInt(length);
    }

    private static byte[] message(String message) {
        byte[] text = String.valueOf(message).getBytes(StandardCharsets.UTF_8);
        return text.length <= KeeperProtocol.MAX_MESSAGE_BYTES ? text : java.util.Arrays.copyOf(text, KeeperProtocol.MAX_MESSAGE_BYTES);
    }

    private void flush(ByteBuffer out) throws IOException {
        out.flip();
        writeFully(out);
        out.clear();
    }

    /** Writes all of {@code buf}; after the handshake, each write may wait the stall timeout for the peer. */
    private void writeFully(ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            if (!handshaking) deadline = System.nanoTime() + limits.stallTimeout().toNanos();
            channel.write(buf);
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing
        }
    }
}
