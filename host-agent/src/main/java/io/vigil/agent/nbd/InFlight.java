package io.vigil.agent.nbd;

/**
 * The requests of one connection handed to workers and not yet answered: the cap that bounds a connection's memory
 * (the reader stops reading while over it), and what closing waits for.
 */
final class InFlight {
    private final int maxRequests;
    private final long maxBytes;
    private int requests;
    private long bytes;
    /** Requests whose device call has not returned yet; a subset of {@link #requests}. */
    private int running;
    private boolean closed;

    InFlight(int maxRequests, long maxBytes) {
        this.maxRequests = maxRequests;
        this.maxBytes = maxBytes;
    }

    synchronized boolean tryAcquire(long requestBytes) {
        if (closed || full(requestBytes)) return false;
        take(requestBytes);
        return true;
    }

    /** Waits for room; false if the connection is closing. */
    synchronized boolean acquire(long requestBytes) throws InterruptedException {
        while (!closed && full(requestBytes)) wait();
        if (closed) return false;
        take(requestBytes);
        return true;
    }

    synchronized void deviceDone() {
        running--;
        if (running == 0) notifyAll();
    }

    synchronized void release(long requestBytes) {
        requests--;
        bytes -= requestBytes;
        notifyAll();
    }

    /** Refuses new requests and wakes a reader waiting for room. */
    synchronized void close() {
        closed = true;
        notifyAll();
    }

    /** Waits, uninterruptibly, until no device call of this connection is running: they are short, and must end. */
    synchronized void awaitDevicesIdle() {
        boolean interrupted = false;
        while (running > 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    private boolean full(long requestBytes) {
        // One request always fits, however large, so the largest legal request cannot wedge the connection.
        return requests > 0 && (requests >= maxRequests || bytes + requestBytes > maxBytes);
    }

    private void take(long requestBytes) {
        requests++;
        running++;
        bytes += requestBytes;
    }
}
