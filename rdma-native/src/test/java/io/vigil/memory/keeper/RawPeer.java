package io.vigil.memory.keeper;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A peer speaking the keeper protocol byte by byte, so that tests can send what no well-behaved client would. */
final class RawPeer implements AutoCloseable {
    record OpenReply(int magic, int version, int status, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    record ReadReply(long id, int status, byte[] body) {}

    final Socket socket = new Socket();
    final DataOutputStream out;
    final DataInputStream in;

    RawPeer(int port) throws IOException {
        this("127.0.0.1", port);
    }

    /** A peer connecting from {@code from}, a loopback address (any of 127.0.0.0/8) the keeper counts separately. */
    RawPeer(String from, int port) throws IOException {
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        socket.setSoTimeout(5000);
        out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream())); // one write per flush
        in = new DataInputStream(socket.getInputStream());
    }

    void sendOpen(int version, int op, String region, String grant) throws IOException {
        byte[] r = region.getBytes(StandardCharsets.UTF_8);
        byte[] g = grant.getBytes(StandardCharsets.UTF_8);
        out.writeInt(KeeperProtocol.MAGIC);
        out.writeShort(version);
        out.writeShort(op);
        out.writeShort(r.length);
        out.writeShort(g.length);
        out.write(r);
        out.write(g);
        out.flush();
    }

    OpenReply open(String region, String grant) throws IOException {
        sendOpen(KeeperProtocol.VERSION, KeeperProtocol.OP_OPEN_TCP, region, grant);
        return readOpenReply();
    }

    OpenReply readOpenReply() throws IOException {
        int magic = in.readInt();
        int version = in.readUnsignedShort();
        int status = in.readUnsignedShort();
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        return new OpenReply(magic, version, status, body);
    }

    /** An OPEN and a READ in one write, as a peer that does not wait for the OPEN's reply sends them. */
    void sendOpenAndRead(String region, String grant, long id, long offset, long length) throws IOException {
        byte[] r = region.getBytes(StandardCharsets.UTF_8);
        byte[] g = grant.getBytes(StandardCharsets.UTF_8);
        out.writeInt(KeeperProtocol.MAGIC);
        out.writeShort(KeeperProtocol.VERSION);
        out.writeShort(KeeperProtocol.OP_OPEN_TCP);
        out.writeShort(r.length);
        out.writeShort(g.length);
        out.write(r);
        out.write(g);
        sendRead(id, offset, length);
    }

    void sendRead(long id, long offset, long length) throws IOException {
        out.writeLong(id);
        out.writeLong(offset);
        out.writeInt((int) length);
        out.flush();
    }

    ReadReply readReply() throws IOException {
        long id = in.readLong();
        int status = in.readUnsignedShort();
        in.readUnsignedShort();
        byte[] body = new byte[in.readInt()];
        in.readFully(body);
        return new ReadReply(id, status, body);
    }

    /** Whether the keeper closes the connection (after whatever it still sends) within the socket timeout. */
    boolean closedByKeeper() throws IOException {
        return bytesUntilClosed() >= 0;
    }

    /** How many bytes the keeper sends before it closes the connection; -1 if it does not close it in time. */
    long bytesUntilClosed() throws IOException {
        byte[] sink = new byte[8192];
        long total = 0;
        try {
            for (int n; (n = in.read(sink)) >= 0; ) total += n;
            return total;
        } catch (SocketTimeoutException e) {
            return -1;
        } catch (SocketException e) { // reset: closed too
            return total;
        }
    }

    /** Reads exactly {@code n} bytes; false when the keeper closed the connection first. */
    boolean readsBytes(int n) throws IOException {
        try {
            in.readFully(new byte[n]);
            return true;
        } catch (EOFException | SocketException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
