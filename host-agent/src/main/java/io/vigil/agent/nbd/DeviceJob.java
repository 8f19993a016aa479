package io.vigil.agent.nbd;

import static io.vigil.agent.nbd.NbdProtocol.*;

import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.Extent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request that may wait for the device, run on a worker: it calls the blocking device method and queues the
 * reply for the connection's writer. {@code payload}: a write's data, in a pooled buffer this job gives back.
 */
final class DeviceJob implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(DeviceJob.class);
    /** Enough descriptors for any sensible map; the protocol lets the client ask again from where we stopped. */
    private static final int MAX_DESCRIPTORS = 1 << 16;

    private final Session session;
    private final BufferPool pool;
    private final InFlight inFlight;
    private final ReplyWriter replies;
    private final int type;
    private final int flags;
    private final long cookie;
    private final long offset;
    private final long length;
    private final ByteBuffer payload;

    DeviceJob(Session session, BufferPool pool, InFlight inFlight, ReplyWriter replies,
              int type, int flags, long cookie, long offset, long length, ByteBuffer payload) {
        this.session = session;
        this.pool = pool;
        this.inFlight = inFlight;
        this.replies = replies;
        this.type = type;
        this.flags = flags;
        this.cookie = cookie;
        this.offset = offset;
        this.length = length;
        this.payload = payload;
    }

    /** The bytes this request holds while in flight, for the connection's cap. */
    long bytes() {
        return type == CMD_READ || type == CMD_WRITE ? length : 0;
    }

    /** Undoes the admission of a job that will never run. */
    void abandon() {
        if (payload != null) pool.give(payload);
        inFlight.deviceDone();
        inFlight.release(bytes());
    }

    @Override
    public void run() {
        BlockDevice device = session.export().device();
        boolean fua = (flags & CMD_FLAG_FUA) != 0;
        ByteBuffer reply;
        ByteBuffer pooled = null;
        try {
            switch (type) {
                case CMD_READ -> {
                    pooled = pool.take((int) length);
                    reply = read(device, pooled);
                }
                case CMD_WRITE -> {
                    device.write(offset, payload, fua);
                    reply = Replies.success(cookie);
                }
                case CMD_FLUSH -> {
                    device.flush();
                    reply = Replies.success(cookie);
                }
                case CMD_TRIM -> {
                    device.trim(offset, length);
                    if (fua) device.flush();
                    reply = Replies.success(cookie);
                }
                case CMD_WRITE_ZEROES -> {
                    device.writeZeroes(offset, length, (flags & CMD_FLAG_NO_HOLE) == 0, fua);
                    reply = Replies.success(cookie);
                }
                case CMD_BLOCK_STATUS -> reply = blockStatus(device.allocation(offset, length));
                default -> throw new IllegalStateException("no job for command " + type);
            }
        } catch (IOException | RuntimeException e) {
            log.warn("export {}: command {} at {} for {} bytes failed", session.export().name(), type, offset, length, e);
            if (pooled != null) pool.give(pooled);
            pooled = null;
            reply = Replies.error(session.structuredReplies(), cookie, errorCode(e), String.valueOf(e.getMessage()));
        } finally {
            if (payload != null) pool.give(payload);
            inFlight.deviceDone();
        }
        replies.enqueue(new ReplyWriter.Reply(reply, pooled, bytes()));
    }

    private ByteBuffer read(BlockDevice device, ByteBuffer buffer) throws IOException {
        int header = Replies.readHeaderBytes(session.structuredReplies());
        int end = BufferPool.HEADROOM + (int) length;
        buffer.limit(end).position(BufferPool.HEADROOM);
        device.read(offset, buffer);
        buffer.position(BufferPool.HEADROOM - header);
        Replies.readHeader(buffer, session.structuredReplies(), cookie, offset, (int) length);
        return buffer.limit(end).position(BufferPool.HEADROOM - header);
    }

    private ByteBuffer blockStatus(List<Extent> extents) {
        long wanted = length;
        int max = (flags & CMD_FLAG_REQ_ONE) != 0 ? 1 : Math.min(MAX_DESCRIPTORS, Math.max(1, extents.size()));
        long[] lengths = new long[max];
        int[] states = new int[max];
        int count = 0;
        long covered = 0;
        for (Extent extent : extents) {
            if (covered >= wanted) break;
            long runLength = Math.min(extent.length(), wanted - covered);
            int state = (extent.hole() ? STATE_HOLE : 0) | (extent.zero() ? STATE_ZERO : 0);
            if (count > 0 && states[count - 1] == state) {
                lengths[count - 1] += runLength; // the client may not care, but fewer descriptors are cheaper
            } else if (count == max) {
                break;
            } else {
                lengths[count] = runLength;
                states[count++] = state;
            }
            covered += runLength;
        }
        if (count == 0) { // a device that reports nothing: data, which is always a safe answer
            lengths[0] = wanted;
            count = 1;
        }
        return Replies.blockStatus(cookie, session.allocationContext(), lengths, states, count);
    }

    private static int errorCode(Exception e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("No space left") || message.contains("quota") ? ENOSPC : EIO;
    }
}
