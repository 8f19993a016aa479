package io.vigil.memory.tcp;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteMemoryException.Kind;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * A client's connection to a memory keeper, non-blocking: the client writes its requests ahead while it reads
 * replies, which a blocking socket could only do with a second thread, and every wait has a deadline.
 */
final class KeeperChannel implements AutoCloseable {
    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final String keeper;

    private KeeperChannel(SocketChannel channel, Selector selector, String keeper) throws IOException {
        this.channel = channel;
        this.selector = selector;
        this.keeper = keeper;
        this.key = channel.register(selector, 0);
    }

    /** Connects by {@code deadline} (System.nanoTime()); UNREACHABLE when it cannot. */
    static KeeperChannel connect(InetSocketAddress address, String keeper, long deadline) throws RemoteMemoryException {
        if (address.isUnresolved())
            throw new RemoteMemoryException(Kind.UNREACHABLE, "memory keeper of " + keeper + ": cannot resolve " + address.getHostString());
        SocketChannel channel = null;
        Selector selector = null;
        try {
            channel = SocketChannel.open();
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true); // requests are batched by hand
            selector = Selector.open();
            KeeperChannel kc = new KeeperChannel(channel, selector, keeper);
            if (!channel.connect(address)) {
                kc.key.interestOps(SelectionKey.OP_CONNECT);
                while (!channel.finishConnect()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) throw new RemoteMemoryException(Kind.UNREACHABLE, "memory keeper of " + keeper + " at "
                            + address + ": no connection within the timeout");
                    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                    selector.selectedKeys().clear();
                }
            }
            return kc;
        } catch (RemoteMemoryException e) {
            closeQuietly(channel, selector);
            throw e;
        } catch (IOException e) {
            closeQuietly(channel, selector);
            throw new RemoteMemoryException(Kind.UNREACHABLE, "memory keeper of " + keeper + " at " + address + ": " + e.getMessage(), e);
        }
    }

    String keeper() {
        return keeper;
    }

    /** Reads what is there without waiting; -1 at the end of the stream. */
    int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    /** Scatters what is there without waiting; -1 at the end of the stream. */
    long read(ByteBuffer[] dsts) throws IOException {
        return channel.read(dsts);
    }

    /** Writes what the socket takes without waiting. */
    int write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    /** Waits until the channel may be read (or written, if {@code write}); false when {@code deadline} passed first. */
    boolean await(boolean write, long deadline) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) return false;
        key.interestOps(SelectionKey.OP_READ | (write ? SelectionKey.OP_WRITE : 0));
        int ready = selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        selector.selectedKeys().clear();
        return ready > 0 || deadline - System.nanoTime() > 0;
    }

    /** Writes all of {@code src} by {@code deadline}; UNREACHABLE when the keeper does not take it in time. */
    void writeFully(ByteBuffer src, long deadline) throws IOException {
        while (src.hasRemaining()) {
            if (channel.write(src) == 0 && !await(true, deadline))
                throw new RemoteMemoryException(Kind.UNREACHABLE, "memory keeper of " + keeper + " stopped taking requests");
        }
    }

    /**
     * Fills {@code dst} by {@code deadline}: UNREACHABLE when the keeper does not answer in time, {@code eofKind}
     * when it closes the connection first.
     */
    void readFully(ByteBuffer dst, long deadline, Kind eofKind) throws IOException {
        while (dst.hasRemaining()) {
            int n = channel.read(dst);
            if (n < 0) throw new RemoteMemoryException(eofKind, "memory keeper of " + keeper + " closed the connection");
            if (n == 0 && !await(false, deadline))
                throw new RemoteMemoryException(Kind.UNREACHABLE, "memory keeper of " + keeper + " did not answer in time");
        }
    }

    @Override
    public void close() {
        closeQuietly(channel, selector);
    }

    private static void closeQuietly(AutoCloseable... closeables) {
        for (AutoCloseable c : closeables) {
            if (c == null) continue;
            try {
                c.close();
            } catch (Exception e) {
                // closing anyway
            }
        }
    }
}
