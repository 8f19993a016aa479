package io.vigil.agent.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes one connection's replies: the reader's batch of inline replies directly, and workers' replies from a queue
 * on its own thread, so a worker never blocks on a client that does not read. The lock keeps replies whole.
 */
final class ReplyWriter {
    /** A worker's reply: {@code bytes} to send, the pooled buffer holding them (or null), the in-flight bytes. */
    record Reply(ByteBuffer bytes, ByteBuffer pooled, long requestBytes) {}

    private static final Reply STOP = new Reply(ByteBuffer.allocate(0), null, 0);
    private static final int BATCH = 64;

    private final SocketChannel channel;
    private final BufferPool pool;
    private final InFlight inFlight;
    private final ReentrantLock lock = new ReentrantLock();
    private final BlockingQueue<Reply> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean broken;

    ReplyWriter(SocketChannel channel, BufferPool pool, InFlight inFlight, String threadName) {
        this.channel = channel;
        this.pool = pool;
        this.inFlight = inFlight;
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Sends {@code bytes} now, on the caller's thread. */
    void send(ByteBuffer bytes) throws IOException {
        lock.lock();
        try {
            if (broken) throw new IOException("the connection can no longer be written to");
            while (bytes.hasRemaining()) channel.write(bytes);
        } catch (IOException e) {
            broken = true;
            throw e;
        } finally {
            lock.unlock();
        }
    }

    void enqueue(Reply reply) {
        queue.add(reply);
    }

    /** Sends what is queued, then ends the thread; false if it is still blocked after the timeout. */
    boolean stop(long timeoutMillis) throws InterruptedException {
        queue.add(STOP);
        thread.join(timeoutMillis);
        return !thread.isAlive();
    }

    void join() throws InterruptedException {
        thread.join();
    }

    private void run() {
        List<Reply> batch = new ArrayList<>(BATCH);
        ByteBuffer[] gather = new ByteBuffer[BATCH];
        boolean stopping = false;
        while (!stopping) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                return;
            }
            queue.drainTo(batch, BATCH - 1);
            int n = 0;
            for (Reply reply : batch) {
                if (reply == STOP) stopping = true;
                else gather[n++] = reply.bytes();
            }
            write(gather, n);
            for (Reply reply : batch) {
                if (reply == STOP) continue;
                if (reply.pooled() != null) pool.give(reply.pooled());
                inFlight.release(reply.requestBytes());
            }
            Arrays.fill(gather, 0, n, null);
            batch.clear();
        }
    }

    private void write(ByteBuffer[] gather, int n) {
        if (n == 0 || broken) return;
        lock.lock();
        try {
            long left = 0;
            for (int i = 0; i < n; i++) left += gather[i].remaining();
            while (left > 0) left -= channel.write(gather, 0, n);
        } catch (IOException e) {
            broken = true; // the reader sees the socket fail too, and ends the connection
        } finally {
            lock.unlock();
        }
    }
}
