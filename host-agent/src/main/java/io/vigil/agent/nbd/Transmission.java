package io.vigil.agent.nbd;

import static io.vigil.agent.nbd.NbdProtocol.*;

import io.vigil.agent.disk.BlockDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transmission phase of one connection, on its reader thread: reads requests in large chunks, serves what the
 * device can do without waiting inline into one output buffer, sends that buffer with one write before blocking on
 * the socket again, and hands the rest to the workers.
 */
final class Transmission {
    private static final Logger log = LoggerFactory.getLogger(Transmission.class);

    enum End { DISCONNECT, CLIENT_CLOSED, CLOSING }

    private static final int IN_BYTES = 1 << 20;
    private static final int OUT_BYTES = 1 << 20;

    private record Refusal(int error, String reason) {}

    private final SocketChannel channel;
    private final Session session;
    private final BlockDevice device;
    private final long size;
    private final int minimumBlock;
    private final boolean structured;
    private final ReplyWriter replies;
    private final InFlight inFlight;
    private final BufferPool pool;
    private final Executor workers;
    private final BooleanSupplier closing;
    private final ByteBuffer in = ByteBuffer.allocateDirect(IN_BYTES);
    private final ByteBuffer out = ByteBuffer.allocateDirect(OUT_BYTES);
    /** Views handed to the device, so the fast path allocates nothing: a write's payload, a read's data. */
    private final ByteBuffer payloadView = in.duplicate();
    private final ByteBuffer dataView = out.duplicate();
    private boolean refusalLogged;

    Transmission(SocketChannel channel, Session session, ReplyWriter replies, InFlight inFlight, BufferPool pool,
                 Executor workers, BooleanSupplier closing) {
        this.channel = channel;
        this.session = session;
        this.device = session.export().device();
        this.size = device.size();
        this.minimumBlock = Math.max(1, device.minimumBlockSize());
        this.structured = session.structuredReplies();
        this.replies = replies;
        this.inFlight = inFlight;
        this.pool = pool;
        this.workers = workers;
        this.closing = closing;
    }

    End run() throws IOException, ProtocolViolation, InterruptedException {
        in.limit(0);
        while (true) {
            End end = serveBuffered();
            sendInlineReplies();
            if (end != null) return end;
            if (closing.getAsBoolean()) return End.CLOSING;
            in.compact();
            int n = channel.read(in);
            in.flip();
            if (n < 0) {
                if (closing.getAsBoolean()) return End.CLOSING;
                if (in.hasRemaining()) throw new ProtocolViolation("connection dropped in the middle of a request");
                return End.CLIENT_CLOSED;
            }
        }
    }

    /** Serves every complete request in the input buffer; an end if the connection should end. */
    private End serveBuffered() throws IOException, ProtocolViolation, InterruptedException {
        while (in.remaining() >= REQUEST_BYTES) {
            if (closing.getAsBoolean()) return End.CLOSING;
            int at = in.position();
            int magic = in.getInt(at);
            if (magic != REQUEST_MAGIC) throw new ProtocolViolation(String.format("bad request magic 0x%08x", magic));
            int flags = Short.toUnsignedInt(in.getShort(at + 4));
            int type = Short.toUnsignedInt(in.getShort(at + 6));
            long cookie = in.getLong(at + 8);
            long offset = in.getLong(at + 16);
            long length = Integer.toUnsignedLong(in.getInt(at + 24));
            if (type == CMD_WRITE) {
                if (!write(at, flags, cookie, offset, length)) return null;
                continue;
            }
            in.position(at + REQUEST_BYTES);
            switch (type) {
                case CMD_READ -> read(flags, cookie, offset, length);
                case CMD_DISC -> {
                    return End.DISCONNECT;
                }
                case CMD_FLUSH, CMD_TRIM, CMD_WRITE_ZEROES, CMD_BLOCK_STATUS -> {
                    Refusal refusal = check(type, flags, offset, length);
                    if (refusal != null) refuse(cookie, refusal);
                    else submit(type, flags, cookie, offset, length, null);
                }
                default -> refuse(cookie, new Refusal(EINVAL, "unknown command " + type));
            }
        }
        return null;
    }

    private void read(int flags, long cookie, long offset, long length) throws IOException, InterruptedException {
        Refusal refusal = check(CMD_READ, flags, offset, length);
        if (refusal != null) {
            refuse(cookie, refusal);
            return;
        }
        int header = Replies.readHeaderBytes(structured);
        int bytes = header + (int) length;
        if (bytes <= out.capacity()) {
            if (out.remaining() < bytes) sendInlineReplies();
            int start = out.position();
            dataView.limit(start + bytes).position(start + header);
            boolean done;
            try {
                done = device.tryRead(offset, dataView);
            } catch (IOException | RuntimeException e) {
                refuse(cookie, new Refusal(EIO, String.valueOf(e.getMessage())));
                return;
            }
            if (done) {
                Replies.readHeader(out, structured, cookie, offset, (int) length);
                out.position(start + bytes);
                return;
            }
        }
        submit(CMD_READ, flags, cookie, offset, length, null);
    }

    /** A write at {@code at}; false if its payload has not all arrived yet (and fits the input buffer). */
    private boolean write(int at, int flags, long cookie, long offset, long length)
            throws IOException, ProtocolViolation, InterruptedException {
        if (length > MAX_PAYLOAD) {
            in.position(at + REQUEST_BYTES);
            refuse(cookie, new Refusal(EINVAL, "write of " + length + " bytes, over the maximum payload"));
            sendInlineReplies();
            throw new ProtocolViolation("write payload of " + length + " bytes, over the maximum " + MAX_PAYLOAD);
        }
        int payloadAt = at + REQUEST_BYTES;
        int payloadEnd = payloadAt + (int) length;
        Refusal refusal = check(CMD_WRITE, flags, offset, length);
        if (payloadEnd > in.limit()) {
            if (REQUEST_BYTES + length <= in.capacity()) return false;
            in.position(payloadAt);
            largeWrite(flags, cookie, offset, (int) length, refusal);
            return true;
        }
        in.position(payloadEnd);
        if (refusal != null) {
            refuse(cookie, refusal);
            return true;
        }
        payloadView.limit(payloadEnd).position(payloadAt);
        try {
            if (device.tryWrite(offset, payloadView, (flags & CMD_FLAG_FUA) != 0)) {
                if (out.remaining() < SIMPLE_REPLY_BYTES) sendInlineReplies();
                Replies.simple(out, 0, cookie);
                return true;
            }
        } catch (IOException | RuntimeException e) {
            refuse(cookie, new Refusal(EIO, String.valueOf(e.getMessage())));
            return true;
        }
        if (!inFlight.tryAcquire(length)) {
            sendInlineReplies();
            if (!inFlight.acquire(length)) return true; // closing: the request goes unanswered with the connection
        }
        // The input buffer is reused once we return, so the worker gets its own copy.
        ByteBuffer payload = pool.take((int) length);
        payloadView.limit(payloadEnd).position(payloadAt);
        payload.put(payloadView).flip();
        execute(new DeviceJob(session, pool, inFlight, replies, CMD_WRITE, flags, cookie, offset, length, payload));
        return true;
    }

    /** A write larger than the input buffer: its payload is read straight into a buffer of its own. */
    private void largeWrite(int flags, long cookie, long offset, int length, Refusal refusal)
            throws IOException, ProtocolViolation, InterruptedException {
        sendInlineReplies(); // we are about to block on the socket
        if (refusal != null) {
            discardPayload(length);
            refuse(cookie, refusal);
            return;
        }
        if (!inFlight.acquire(length)) return;
        ByteBuffer payload = pool.take(length);
        payload.limit(length);
        payload.put(in);
        while (payload.hasRemaining()) {
            if (channel.read(payload) < 0) {
                pool.give(payload);
                inFlight.deviceDone();
                inFlight.release(length);
                throw new ProtocolViolation("connection dropped in the middle of a write payload");
            }
        }
        execute(new DeviceJob(session, pool, inFlight, replies, CMD_WRITE, flags, cookie, offset, length,
                payload.flip()));
    }

    /** Skips a refused write's payload; everything in the input buffer is part of it. */
    private void discardPayload(long length) throws IOException, ProtocolViolation {
        long left = length - in.remaining();
        in.position(in.limit());
        while (left > 0) {
            in.clear();
            int n = channel.read(in);
            in.flip();
            if (n < 0) throw new ProtocolViolation("connection dropped in the middle of a write payload");
            int skipped = (int) Math.min(left, in.remaining());
            in.position(skipped);
            left -= skipped;
        }
    }

    private void submit(int type, int flags, long cookie, long offset, long length, ByteBuffer payload)
            throws IOException, InterruptedException {
        long bytes = type == CMD_READ ? length : 0;
        if (!inFlight.tryAcquire(bytes)) {
            sendInlineReplies(); // the client may be waiting for these before it reads our other replies
            if (!inFlight.acquire(bytes)) return;
        }
        execute(new DeviceJob(session, pool, inFlight, replies, type, flags, cookie, offset, length, payload));
    }

    private void execute(DeviceJob job) {
        try {
            workers.execute(job);
        } catch (RejectedExecutionException e) { // the server is shutting down
            job.abandon();
        }
    }

    private Refusal check(int type, int flags, long offset, long length) {
        int allowed = switch (type) {
            case CMD_READ -> CMD_FLAG_FUA | CMD_FLAG_DF;
            case CMD_WRITE, CMD_FLUSH, CMD_TRIM -> CMD_FLAG_FUA;
            case CMD_WRITE_ZEROES -> CMD_FLAG_FUA | CMD_FLAG_NO_HOLE;
            case CMD_BLOCK_STATUS -> CMD_FLAG_REQ_ONE;
            default -> 0;
        };
        if ((flags & ~allowed) != 0) {
            return new Refusal(EINVAL, String.format("flags 0x%x not supported on command %d", flags, type));
        }
        if (type == CMD_FLUSH) return null;
        if (type == CMD_BLOCK_STATUS && session.allocationContext() == 0) {
            return new Refusal(EINVAL, "block status without a selected metadata context");
        }
        if (length == 0) return new Refusal(EINVAL, "zero length");
        if ((type == CMD_READ || type == CMD_WRITE) && length > MAX_PAYLOAD) {
            return new Refusal(EINVAL, length + " bytes, over the maximum payload of " + MAX_PAYLOAD);
        }
        if (offset < 0 || offset > size - length) {
            boolean writes = type == CMD_WRITE || type == CMD_WRITE_ZEROES;
            return new Refusal(writes ? ENOSPC : EINVAL, "beyond the end of the export (" + size + " bytes)");
        }
        if (minimumBlock > 1 && (offset % minimumBlock != 0 || length % minimumBlock != 0)) {
            return new Refusal(EINVAL, "not aligned to the minimum block size " + minimumBlock);
        }
        return null;
    }

    private void refuse(long cookie, Refusal refusal) throws IOException {
        if (!refusalLogged && refusal.error() != EIO) {
            refusalLogged = true; // once per connection: a confused client repeats itself
            log.info("NBD client on export {} sent an invalid request: {}", session.export().name(), refusal.reason());
        }
        if (out.remaining() < Replies.MAX_ERROR_BYTES) sendInlineReplies();
        Replies.error(out, structured, cookie, refusal.error(), refusal.reason());
    }

    private void sendInlineReplies() throws IOException {
        if (out.position() == 0) return;
        out.flip();
        replies.send(out);
        out.clear();
    }
}
