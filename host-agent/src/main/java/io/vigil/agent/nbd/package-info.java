/**
 * The agent's NBD server: it serves each VM disk ({@link io.vigil.agent.disk.BlockDevice}) as a named export on a
 * UNIX domain socket, for QEMU and for tools (qemu-img, nbdcopy, nbdinfo) on the same host.
 *
 * <p>It owns the protocol (doc/proto.md of the NBD project): the fixed newstyle handshake and its options, the
 * transmission phase with simple and structured replies and {@code base:allocation} block status, and the defence
 * against broken or hostile clients (a protocol violation ends that one connection, never the server, never the
 * disk). It does not own the disks: their owner adds and removes exports and closes devices afterwards.
 *
 * <h2>Threads</h2>
 * Each connection has a reader thread that negotiates, then reads requests in large chunks and serves those the
 * device can complete at once ({@code tryRead}/{@code tryWrite}) inline, sending all their replies with one write
 * before it blocks on the socket again. Everything else goes to the server's fixed worker pool; workers never touch
 * the socket, they queue their replies for the connection's reply writer thread, so a client that stops reading
 * stalls only its own connection. A connection stops reading while it has too many requests or bytes in flight.
 */
package io.vigil.agent.nbd;
