package io.vigil.agent.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A small NBD client for tests, able to send anything, including what a correct client never would. Requests may be
 * sent from one thread while replies are read on another.
 */
final class NbdTestClient implements AutoCloseable {
    record OptionReply(int option, int type, byte[] data) {
        boolean isError() {
            return type < 0;
        }
    }

    /** A whole reply: data for reads, (length, flags) pairs for block status, a message for structured errors. */
    record Reply(long cookie, int error, byte[] data, List<long[]> extents, String message) {}

    final SocketChannel channel;
    private boolean structured;
    private final Map<Long, Integer> pendingReads = new ConcurrentHashMap<>();
    private final Map<Long, Reply> partial = new HashMap<>();

    private NbdTestClient(SocketChannel channel) {
        this.channel = channel;
    }

    static NbdTestClient connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return new NbdTestClient(channel);
    }

    /** Connects, negotiates structured replies (if asked) and base:allocation, and enters transmission. */
    static NbdTestClient open(Path socket, String export, boolean structured) throws IOException {
        NbdTestClient client = connect(socket);
        client.greet(NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES);
        if (structured) {
            client.expectAck(client.option(NbdProtocol.OPT_STRUCTURED_REPLY, new byte[0]));
            client.expectAck(client.option(NbdProtocol.OPT_SET_META_CONTEXT, metaContextData(export, "base:allocation")));
        }
        client.expectAck(client.option(NbdProtocol.OPT_GO, goData(export)));
        return client;
    }

    /** Reads the greeting and answers it with {@code clientFlags}. */
    int greet(int clientFlags) throws IOException {
        ByteBuffer greeting = readFully(18);
        assertEquals(NbdProtocol.NBDMAGIC, greeting.getLong());
        assertEquals(NbdProtocol.IHAVEOPT, greeting.getLong());
        int handshakeFlags = Short.toUnsignedInt(greeting.getShort());
        write(ByteBuffer.allocate(4).putInt(clientFlags).flip());
        return handshakeFlags;
    }

    void sendOption(int option, byte[] data) throws IOException {
        write(ByteBuffer.allocate(16 + data.length).putLong(NbdProtocol.IHAVEOPT).putInt(option).putInt(data.length)
                .put(data).flip());
    }

    OptionReply readOptionReply() throws IOException {
        ByteBuffer header = readFully(20);
        assertEquals(NbdProtocol.OPTION_REPLY_MAGIC, header.getLong());
        int option = header.getInt();
        int type = header.getInt();
        byte[] data = new byte[header.getInt()];
        readFully(data.length).get(data);
        return new OptionReply(option, type, data);
    }

    /** Sends an option and reads its replies up to the final one (ACK or an error). */
    List<OptionReply> option(int option, byte[] data) throws IOException {
        sendOption(option, data);
        List<OptionReply> replies = new ArrayList<>();
        while (true) {
            OptionReply reply = readOptionReply();
            assertEquals(option, reply.option());
            replies.add(reply);
            if (reply.type() == NbdProtocol.REP_ACK || reply.isError()) return replies;
        }
    }

    void expectAck(List<OptionReply> replies) {
        OptionReply last = replies.get(replies.size() - 1);
        if (last.type() != NbdProtocol.REP_ACK) {
            fail("expected ACK, got " + Integer.toHexString(last.type()) + ": "
                    + new String(last.data(), StandardCharsets.UTF_8));
        }
        if (last.option() == NbdProtocol.OPT_STRUCTURED_REPLY) structured = true;
    }

    static byte[] goData(String export, int... infos) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(4 + name.length + 2 + 2 * infos.length).putInt(name.length).put(name)
                .putShort((short) infos.length);
        for (int info : infos) data.putShort((short) info);
        return data.array();
    }

    static byte[] metaContextData(String export, String... queries) {
        int length = 4 + export.length() + 4;
        for (String query : queries) length += 4 + query.length();
        ByteBuffer data = ByteBuffer.allocate(length).putInt(export.length()).put(export.getBytes(StandardCharsets.UTF_8))
                .putInt(queries.length);
        for (String query : queries) data.putInt(query.length()).put(query.getBytes(StandardCharsets.UTF_8));
        return data.array();
    }

    void request(int flags, int type, long cookie, long offset, long length, byte[] payload) throws IOException {
        if (type == NbdProtocol.CMD_READ) pendingReads.put(cookie, (int) length);
        ByteBuffer request = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        request.putInt(NbdProtocol.REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie)
                .putLong(offset).putInt((int) length);
        if (payload != null) request.put(payload);
        write(request.flip());
    }

    Reply readReply() throws IOException {
        while (true) {
            int magic = readFully(4).getInt();
            if (magic == NbdProtocol.SIMPLE_REPLY_MAGIC) {
                ByteBuffer rest = readFully(12);
                int error = rest.getInt();
                long cookie = rest.getLong();
                Integer readLength = pendingReads.remove(cookie);
                byte[] data = null;
                if (readLength != null && error == 0) {
                    data = new byte[readLength];
                    readFully(readLength).get(data);
                }
                return new Reply(cookie, error, data, null, null);
            }
            assertEquals(NbdProtocol.STRUCTURED_REPLY_MAGIC, magic, "reply magic");
            ByteBuffer header = readFully(16);
            int flags = Short.toUnsignedInt(header.getShort());
            int type = Short.toUnsignedInt(header.getShort());
            long cookie = header.getLong();
            ByteBuffer payload = readFully(header.getInt());
            Reply so = partial.getOrDefault(cookie, new Reply(cookie, 0, null, null, null));
            switch (type) {
                case NbdProtocol.REPLY_TYPE_OFFSET_DATA -> {
                    payload.getLong();
                    byte[] data = new byte[payload.remaining()];
                    payload.get(data);
                    so = new Reply(cookie, so.error(), data, so.extents(), so.message());
                }
                case NbdProtocol.REPLY_TYPE_BLOCK_STATUS -> {
                    payload.getInt();
                    List<long[]> extents = new ArrayList<>();
                    while (payload.hasRemaining()) {
                        extents.add(new long[] {Integer.toUnsignedLong(payload.getInt()), payload.getInt()});
                    }
                    so = new Reply(cookie, so.error(), so.data(), extents, so.message());
                }
                case NbdProtocol.REPLY_TYPE_ERROR -> {
                    int error = payload.getInt();
                    byte[] message = new byte[payload.getShort()];
                    payload.get(message);
                    so = new Reply(cookie, error, so.data(), so.extents(), new String(message, StandardCharsets.UTF_8));
                }
                case NbdProtocol.REPLY_TYPE_NONE -> {}
                default -> fail("unexpected chunk type " + type);
            }
            if ((flags & NbdProtocol.REPLY_FLAG_DONE) != 0) {
                partial.remove(cookie);
                pendingReads.remove(cookie);
                return so;
            }
            partial.put(cookie, so);
        }
    }

    /** A read, waiting for its reply; fails on an error. */
    byte[] read(long offset, int length) throws IOException {
        request(0, NbdProtocol.CMD_READ, 1, offset, length, null);
        Reply reply = readReply();
        assertEquals(0, reply.error(), "read error " + reply.message());
        return reply.data();
    }

    void write(long offset, byte[] data) throws IOException {
        request(0, NbdProtocol.CMD_WRITE, 2, offset, data.length, data);
        assertEquals(0, readReply().error());
    }

    /** Sends a request and returns its reply. */
    Reply call(int flags, int type, long offset, long length, byte[] payload) throws IOException {
        request(flags, type, 7, offset, length, payload);
        return readReply();
    }

    void write(ByteBuffer bytes) throws IOException {
        synchronized (channel) {
            while (bytes.hasRemaining()) channel.write(bytes);
        }
    }

    void writeRaw(byte[] bytes) throws IOException {
        write(ByteBuffer.wrap(bytes));
    }

    ByteBuffer readFully(int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) throw new EOFException("the server closed the connection");
        }
        return buffer.flip();
    }

    /** Asserts the server closes the connection within the timeout, discarding anything it still sends. */
    void assertClosedBy(Duration timeout) throws Exception {
        FutureTask<Boolean> eof = new FutureTask<>(() -> {
            ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
            try {
                while (channel.read(sink.clear()) >= 0) {
                    // discard
                }
            } catch (IOException e) {
                // a reset is a close too
            }
            return true;
        });
        Thread reader = new Thread(eof, "test-eof-reader");
        reader.start();
        try {
            eof.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            channel.close();
            fail("the server did not close the connection within " + timeout);
        } catch (ExecutionException e) {
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
