package io.vigil.e2e;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A minimal NBD client for end-to-end tests and benchmarks (fixed newstyle handshake, NBD_OPT_GO, simple replies, one
 * request at a time): a writer that knows exactly which writes the server acknowledged, and a reader to check them.
 */
public final class NbdClient implements AutoCloseable {
    private static final long IHAVEOPT = 0x49484156454F5054L;
    private static final long OPT_REPLY_MAGIC = 0x3e889045565a9L;
    private static final int OPT_GO = 7, REP_ACK = 1, REP_INFO = 3, INFO_EXPORT = 0;
    private static final int REQUEST_MAGIC = 0x25609513, SIMPLE_REPLY_MAGIC = 0x67446698;
    private static final short CMD_READ = 0, CMD_WRITE = 1, CMD_DISC = 2, CMD_FLUSH = 3;

    private final SocketChannel channel;
    private final DataInputStream in;
    private final long size;
    private long handle;

    private NbdClient(SocketChannel channel, DataInputStream in, long size) {
        this.channel = channel;
        this.in = in;
        this.size = size;
    }

    /** Connects to {@code export} on the UNIX socket {@code socket}. */
    public static NbdClient open(Path socket, String export) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(socket));
            DataInputStream in = new DataInputStream(Channels.newInputStream(ch));
            byte[] magic = new byte[16];
            in.readFully(magic);
            if (!new String(magic, StandardCharsets.US_ASCII).equals("NBDMAGICIHAVEOPT"))
                throw new IOException("not an NBD newstyle server");
            in.readUnsignedShort(); // handshake flags
            write(ch, ByteBuffer.allocate(4).putInt(0, 3)); // fixed newstyle, no zeroes
            byte[] name = export.getBytes(StandardCharsets.UTF_8);
            ByteBuffer go = ByteBuffer.allocate(16 + 4 + name.length + 2);
            go.putLong(IHAVEOPT).putInt(OPT_GO).putInt(4 + name.length + 2).putInt(name.length).put(name).putShort((short) 0);
            write(ch, go.flip());
            long size = -1;
            while (true) {
                if (in.readLong() != OPT_REPLY_MAGIC) throw new IOException("bad option reply magic");
                in.readInt();
                int type = in.readInt();
                byte[] data = new byte[in.readInt()];
                in.readFully(data);
                if (type < 0) throw new IOException("export " + export + " refused: " + new String(data, StandardCharsets.UTF_8).trim() + " (reply " + Integer.toHexString(type) + ")");
                if (type == REP_INFO && data.length >= 10 && ByteBuffer.wrap(data).getShort(0) == INFO_EXPORT)
                    size = ByteBuffer.wrap(data).getLong(2);
                if (type == REP_ACK) break;
            }
            if (size < 0) throw new IOException("the server did not say the export's size");
            return new NbdClient(ch, in, size);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public long size() {
        return size;
    }

    /** Writes {@code data} at {@code offset}; returns once the server acknowledged it (throws if it reported an error). */
    public void write(long offset, byte[] data) throws IOException {
        request(CMD_WRITE, offset, data.length, data);
        reply(null);
    }

    public byte[] read(long offset, int length) throws IOException {
        request(CMD_READ, offset, length, null);
        byte[] out = new byte[length];
        reply(out);
        return out;
    }

    public void flush() throws IOException {
        request(CMD_FLUSH, 0, 0, null);
        reply(null);
    }

    private void request(short type, long offset, int length, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + (data == null ? 0 : data.length));
        b.putInt(REQUEST_MAGIC).putShort((short) 0).putShort(type).putLong(++handle).putLong(offset).putInt(length);
        if (data != null) b.put(data);
        write(channel, b.flip());
    }

    private void reply(byte[] into) throws IOException {
        if (in.readInt() != SIMPLE_REPLY_MAGIC) throw new IOException("bad reply magic");
        int error = in.readInt();
        if (in.readLong() != handle) throw new IOException("reply to another request");
        if (error != 0) throw new IOException("NBD error " + error);
        if (into != null) in.readFully(into);
    }

    private static void write(SocketChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    @Override
    public void close() throws IOException {
        try {
            request(CMD_DISC, 0, 0, null);
        } catch (IOException ignored) {
            // the server may be gone already
        } finally {
            channel.close();
        }
    }
}
