package io.vigil.memory.tcp;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteMemoryException.Kind;
import io.vigil.memory.RemoteRead;
import io.vigil.memory.RemoteRegion;
import io.vigil.memory.keeper.KeeperProtocol;
import io.vigil.memory.keeper.KeeperStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A region opened over TCP. Reads are pipelined: requests go out ahead, up to a window, while replies are read
 * (large ones straight into the caller's direct buffers, small ones through one staging buffer).
 */
final class TcpRegion implements RemoteRegion {
    /** The window: enough requests in flight to keep a 10 GbE link busy, little enough not to flood the keeper. */
    static final int MAX_IN_FLIGHT_REQUESTS = 1024;
    static final long MAX_IN_FLIGHT_BYTES = 64L << 20;
    /** Reply bodies at least this large are read from the socket straight into a direct destination. */
    private static final int DIRECT_READ_BYTES = 64 << 10;
    private static final int STAGING_BYTES = 256 << 10;

    private final KeeperChannel channel;
    private final String name;
    private final long size;
    private final int maxRead;
    private final long ioTimeoutNanos;
    private final Consumer<TcpRegion> onClose;
    private final ByteBuffer requests = ByteBuffer.allocateDirect(MAX_IN_FLIGHT_REQUESTS * KeeperProtocol.READ_REQUEST_BYTES);
    private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING_BYTES).flip();
    /** The reply header being collected. */
    private final ByteBuffer head = ByteBuffer.allocateDirect(KeeperProtocol.READ_REPLY_BYTES);
    private final ByteBuffer[] scatter = new ByteBuffer[2];
    private long nextId;
    private String brokenBy;
    private volatile boolean closed;

    /** One request: a piece of a {@link RemoteRead} no longer than the keeper's largest READ. */
    private record Piece(long offset, ByteBuffer dst) {}

    TcpRegion(KeeperChannel channel, String name, long size, int maxRead, long ioTimeoutNanos, Consumer<TcpRegion> onClose) {
        this.channel = channel;
        this.name = name;
        this.size = size;
        this.maxRead = maxRead;
        this.ioTimeoutNanos = ioTimeoutNanos;
        this.onClose = onClose;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(List<RemoteRead> reads) throws IOException {
        if (closed) throw new RemoteMemoryException(Kind.PROTOCOL, "region " + name + " is closed");
        if (brokenBy != null) throw new RemoteMemoryException(Kind.PROTOCOL, "region " + name + " failed earlier: " + brokenBy);
        List<Piece> pieces = split(reads); // refuses reads out of range before anything is sent
        try {
            pipeline(pieces);
        } catch (RemoteMemoryException e) {
            fail(e);
            throw e;
        } catch (IOException e) { // reset, or closed under us
            fail(e);
            throw new RemoteMemoryException(Kind.PROTOCOL, "reading region " + name + " from the memory keeper of "
                    + channel.keeper() + " failed: " + e.getMessage(), e);
        } catch (java.nio.channels.ClosedSelectorException e) { // closed by TcpRemoteMemory.close() meanwhile
            fail(e);
            throw new RemoteMemoryException(Kind.PROTOCOL, "region " + name + " was closed while reading", e);
        } catch (RuntimeException e) {
            fail(e);
            throw e;
        }
        for (RemoteRead r : reads) r.dst().position(r.dst().limit());
    }

    /** Replies after a failure would no longer match requests: the connection is done. */
    private void fail(Exception e) {
        brokenBy = String.valueOf(e.getMessage());
        close();
    }

    private List<Piece> split(List<RemoteRead> reads) throws RemoteMemoryException {
        List<Piece> pieces = new ArrayList<>(reads.size());
        for (RemoteRead r : reads) {
            ByteBuffer dst = r.dst();
            int length = dst.remaining();
            if (r.offset() > size || length > size - r.offset())
                throw new RemoteMemoryException(Kind.OUT_OF_RANGE, "read of " + length + " bytes at " + r.offset()
                        + " is outside region " + name + " (" + size + " bytes)");
            for (int done = 0; done < length; done += maxRead) {
                int n = Math.min(maxRead, length - done);
                pieces.add(new Piece(r.offset() + done, dst.slice(dst.position() + done, n)));
            }
        }
        return pieces;
    }

    private void pipeline(List<Piece> pieces) throws IOException {
        final long firstId = nextId;
        int sent = 0;
        int received = 0;
        long inFlightBytes = 0;
        boolean inBody = false;
        long deadline = System.nanoTime() + ioTimeoutNanos;
        requests.clear();
        head.clear();
        while (received < pieces.size()) {
            boolean progress = false;
            while (sent < pieces.size() && sent - received < MAX_IN_FLIGHT_REQUESTS && requests.remaining() >= KeeperProtocol.READ_REQUEST_BYTES) {
                Piece p = pieces.get(sent);
                if (inFlightBytes > 0 && inFlightBytes + p.dst().remaining() > MAX_IN_FLIGHT_BYTES) break;
                requests.putLong(firstId + sent).putLong(p.offset()).putInt(p.dst().remaining());
                inFlightBytes += p.dst().remaining();
                sent++;
            }
            if (requests.position() > 0) {
                requests.flip();
                progress |= channel.write(requests) > 0;
                requests.compact();
            }
            // Take every reply already staged, then read once more from the socket.
            while (received < pieces.size()) {
                ByteBuffer dst = pieces.get(received).dst();
                if (!inBody) {
                    move(staging, head);
                    if (head.hasRemaining()) break;
                    replyHeader(firstId + received, dst, staging);
                    inBody = true;
                }
                move(staging, dst);
                if (dst.hasRemaining()) break;
                inBody = false;
                inFlightBytes -= dst.limit();
                received++;
                progress = true;
            }
            if (received == pieces.size()) break;
            long n;
            ByteBuffer dst = pieces.get(received).dst();
            if (!staging.hasRemaining() && dst.isDirect() && dst.remaining() >= DIRECT_READ_BYTES) {
                // Large bodies go from the socket straight into place, never past their end: dst is exactly as long.
                if (inBody) {
                    n = channel.read(dst);
                } else {
                    int before = dst.position();
                    scatter[0] = head;
                    scatter[1] = dst;
                    n = channel.read(scatter);
                    if (!head.hasRemaining()) {
                        replyHeader(firstId + received, dst, dst.duplicate().flip().position(before));
                        inBody = true;
                    }
                }
            } else {
                staging.compact();
                n = channel.read(staging);
                staging.flip();
            }
            if (n < 0) throw new RemoteMemoryException(Kind.PROTOCOL, "memory keeper of " + channel.keeper()
                    + " closed the connection with " + (pieces.size() - received) + " reads of " + name + " unanswered");
            if (n > 0 || progress) {
                deadline = System.nanoTime() + ioTimeoutNanos;
            } else if (!channel.await(requests.position() > 0, deadline)) {
                throw new RemoteMemoryException(Kind.UNREACHABLE, "memory keeper of " + channel.keeper() + " stopped answering reads of "
                        + name + " for " + ioTimeoutNanos / 1_000_000 + " ms");
            }
        }
        nextId = firstId + pieces.size();
    }

    /** Moves as many bytes as fit from {@code src} (read mode) into {@code dst}. */
    private static void move(ByteBuffer src, ByteBuffer dst) {
        int k = Math.min(src.remaining(), dst.remaining());
        if (k == 0) return;
        dst.put(src.duplicate().limit(src.position() + k));
        src.position(src.position() + k);
    }

    /**
     * Checks the reply header collected in {@code head} against the read it answers ({@code dst}, whose limit is the
     * length asked for), and clears {@code head}. A refusal becomes an exception carrying the keeper's message, of
     * which {@code following} holds the bytes already received after the header.
     */
    private void replyHeader(long expectedId, ByteBuffer dst, ByteBuffer following) throws IOException {
        head.flip();
        long id = head.getLong();
        int code = Short.toUnsignedInt(head.getShort());
        head.getShort(); // reserved
        int length = head.getInt();
        head.clear();
        if (id != expectedId) throw new RemoteMemoryException(Kind.PROTOCOL, "memory keeper of " + channel.keeper()
                + " answered read " + id + ", expected " + expectedId);
        KeeperStatus status = KeeperStatus.of(code);
        if (status == KeeperStatus.OK) {
            if (length != dst.limit()) throw new RemoteMemoryException(Kind.PROTOCOL, "memory keeper of "
                    + channel.keeper() + " answered " + length + " bytes for a read of " + dst.limit());
            return;
        }
        if (status == null) throw new RemoteMemoryException(Kind.PROTOCOL, "memory keeper of " + channel.keeper()
                + " answered unknown status " + code);
        if (length < 0 || length > KeeperProtocol.MAX_MESSAGE_BYTES) throw new RemoteMemoryException(Kind.PROTOCOL,
                "memory keeper of " + channel.keeper() + " sent a " + length + "-byte message");
        ByteBuffer text = ByteBuffer.allocate(length);
        move(following, text);
        channel.readFully(text, System.nanoTime() + ioTimeoutNanos, Kind.PROTOCOL);
        throw new RemoteMemoryException(status.kind(), "memory keeper of " + channel.keeper() + ": " + status + " reading "
                + name + ": " + new String(text.array(), StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        channel.close();
        onClose.accept(this);
    }
}
