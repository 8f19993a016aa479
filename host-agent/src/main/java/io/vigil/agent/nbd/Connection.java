package io.vigil.agent.nbd;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One client connection, from the handshake to the close, on its own reader thread. */
final class Connection {
    private static final Logger log = LoggerFactory.getLogger(Connection.class);
    private static final int MAX_IN_FLIGHT_REQUESTS = 256;
    private static final long MAX_IN_FLIGHT_BYTES = 64L << 20;
    /** How long a closing connection waits for its reader or writer to notice before the socket is closed under it. */
    private static final long GRACE_MILLIS = 2000;

    private final long id;
    private final SocketChannel channel;
    private final Exports exports;
    private final BufferPool pool;
    private final Executor workers;
    private final Consumer<Connection> onEnd;
    private final InFlight inFlight = new InFlight(MAX_IN_FLIGHT_REQUESTS, MAX_IN_FLIGHT_BYTES);
    private final Thread reader;
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile boolean closing;
    private volatile Export export;

    Connection(long id, SocketChannel channel, Exports exports, BufferPool pool, Executor workers,
               Consumer<Connection> onEnd) {
        this.id = id;
        this.channel = channel;
        this.exports = exports;
        this.pool = pool;
        this.workers = workers;
        this.onEnd = onEnd;
        this.reader = new Thread(this::serve, "nbd-" + id);
        reader.setDaemon(true);
    }

    void start() {
        reader.start();
    }

    /**
     * Closes the connection from outside: it stops reading requests, the device calls in flight finish, the socket
     * closes. Returns when all of that is done.
     */
    void close() {
        closing = true;
        inFlight.close();
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            // Already closed.
        }
        boolean interrupted = false;
        while (true) {
            try {
                if (!ended.await(GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
                    closeChannel(); // the reader is stuck writing to a client that does not read
                    ended.await();
                }
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    private void serve() {
        log.debug("NBD connection {} opened", id);
        ReplyWriter writer = null;
        String end = "closed by the server";
        try {
            Optional<Session> session = new Handshake(channel, exports, this).negotiate();
            if (session.isEmpty()) {
                end = "handshake aborted by the client";
                return;
            }
            export = session.get().export();
            log.debug("NBD connection {} serves export {}", id, export.name());
            writer = new ReplyWriter(channel, pool, inFlight, "nbd-" + id + "-replies");
            writer.start();
            Transmission.End ending = new Transmission(channel, session.get(), writer, inFlight, pool, workers,
                    () -> closing).run();
            end = switch (ending) {
                case DISCONNECT -> "disconnected by the client";
                case CLIENT_CLOSED -> "closed by the client";
                case CLOSING -> "closed by the server";
            };
        } catch (ProtocolViolation e) {
            end = "protocol violation: " + e.getMessage();
            log.info("NBD connection {}{} closed: {}", id, exportLabel(), e.getMessage());
        } catch (IOException e) {
            end = closing ? "closed by the server" : "I/O error: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            end = "server error: " + e;
            log.warn("NBD connection {}{} failed", id, exportLabel(), e);
        } finally {
            finish(writer);
            log.debug("NBD connection {}{} ended: {}", id, exportLabel(), end);
        }
    }

    /** Device calls end before the socket closes, so once a connection has ended its export's device is free. */
    private void finish(ReplyWriter writer) {
        inFlight.close();
        inFlight.awaitDevicesIdle();
        try {
            if (writer != null && !writer.stop(GRACE_MILLIS)) {
                closeChannel();
                writer.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeChannel();
        if (export != null) exports.detach(export, this);
        onEnd.accept(this);
        ended.countDown();
    }

    private void closeChannel() {
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("NBD connection {}: closing the socket failed", id, e);
        }
    }

    private String exportLabel() {
        Export current = export;
        return current == null ? "" : " (export " + current.name() + ")";
    }
}
