package io.vigil.agent.nbd;

import static io.vigil.agent.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/** The fixed newstyle handshake of one connection: greeting, then options until the client picks an export. */
final class Handshake {
    /** Our options carry a name and a few queries; anything longer is skipped and refused. */
    private static final int MAX_OPTION_BYTES = 64 * 1024;
    /** Past this, skipping is no longer worth it: the client is not talking NBD. */
    private static final long MAX_SKIPPED_OPTION_BYTES = 16L << 20;
    private static final int ALLOCATION_CONTEXT_ID = 1;

    private final SocketChannel channel;
    private final Exports exports;
    private final Connection connection;
    private boolean noZeroes;
    private boolean structuredReplies;
    /** The export {@code base:allocation} was selected for by the last NBD_OPT_SET_META_CONTEXT, or null. */
    private String allocationSelectedFor;

    Handshake(SocketChannel channel, Exports exports, Connection connection) {
        this.channel = channel;
        this.exports = exports;
        this.connection = connection;
    }

    /** The session agreed on, attached to its export; empty if the client ended the handshake. */
    Optional<Session> negotiate() throws IOException, ProtocolViolation {
        write(ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(IHAVEOPT)
                .putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip());
        int clientFlags = readFully(4).getInt();
        if ((clientFlags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) != 0) {
            throw new ProtocolViolation(String.format("unknown client flags 0x%x", clientFlags));
        }
        noZeroes = (clientFlags & FLAG_C_NO_ZEROES) != 0;
        while (true) {
            ByteBuffer header = readFully(16);
            long magic = header.getLong();
            if (magic != IHAVEOPT) throw new ProtocolViolation(String.format("expected an option, got 0x%x", magic));
            int option = header.getInt();
            long length = Integer.toUnsignedLong(header.getInt());
            if (length > MAX_OPTION_BYTES) {
                if (length > MAX_SKIPPED_OPTION_BYTES) throw new ProtocolViolation("option " + option + " of " + length + " bytes");
                skip(length);
                reply(option, REP_ERR_TOO_BIG, "option data over " + MAX_OPTION_BYTES + " bytes");
                continue;
            }
            ByteBuffer data = readFully((int) length);
            switch (option) {
                case OPT_EXPORT_NAME -> {
                    return Optional.of(exportName(data));
                }
                case OPT_ABORT -> {
                    try {
                        reply(option, REP_ACK, null);
                    } catch (IOException e) {
                        // The client may close without reading the acknowledgement, as the protocol allows.
                    }
                    return Optional.empty();
                }
                case OPT_LIST -> list(data);
                case OPT_STARTTLS -> {
                    if (data.hasRemaining()) reply(option, REP_ERR_INVALID, "STARTTLS carries no data");
                    else reply(option, REP_ERR_UNSUP, "TLS is not offered on a local socket");
                }
                case OPT_INFO, OPT_GO -> {
                    Optional<Session> session = infoOrGo(option, data);
                    if (session.isPresent()) return session;
                }
                case OPT_STRUCTURED_REPLY -> {
                    if (data.hasRemaining()) {
                        reply(option, REP_ERR_INVALID, "STRUCTURED_REPLY carries no data");
                    } else {
                        structuredReplies = true;
                        reply(option, REP_ACK, null);
                    }
                }
                case OPT_LIST_META_CONTEXT, OPT_SET_META_CONTEXT -> metaContext(option, data);
                default -> reply(option, REP_ERR_UNSUP, "option " + option + " is not supported");
            }
        }
    }

    private Session exportName(ByteBuffer data) throws IOException, ProtocolViolation {
        String name = string(data, data.remaining());
        Optional<Export> export = exports.find(name);
        if (export.isEmpty() || !exports.attach(export.get(), connection)) {
            throw new ProtocolViolation("unknown export " + name + " in NBD_OPT_EXPORT_NAME");
        }
        int flags = transmissionFlags();
        ByteBuffer reply = ByteBuffer.allocate(10 + (noZeroes ? 0 : 124));
        reply.putLong(export.get().device().size()).putShort((short) flags).position(reply.capacity());
        write(reply.flip());
        return session(export.get(), flags);
    }

    private void list(ByteBuffer data) throws IOException {
        if (data.hasRemaining()) {
            reply(OPT_LIST, REP_ERR_INVALID, "LIST carries no data");
            return;
        }
        for (Export export : exports.list()) {
            byte[] name = utf8(export.name());
            reply(OPT_LIST, REP_SERVER, ByteBuffer.allocate(4 + name.length).putInt(name.length).put(name).flip());
        }
        reply(OPT_LIST, REP_ACK, null);
    }

    private Optional<Session> infoOrGo(int option, ByteBuffer data) throws IOException {
        if (data.remaining() < 6) return invalid(option, "INFO/GO data shorter than 6 bytes");
        long nameLength = Integer.toUnsignedLong(data.getInt());
        if (nameLength > data.remaining() - 2) return invalid(option, "export name longer than the option");
        String name = string(data, (int) nameLength);
        int count = Short.toUnsignedInt(data.getShort());
        if (data.remaining() != 2 * count) return invalid(option, "information request count does not match the length");
        Set<Integer> wanted = new HashSet<>();
        for (int i = 0; i < count; i++) wanted.add(Short.toUnsignedInt(data.getShort()));

        Optional<Export> found = exports.find(name);
        if (found.isEmpty()) {
            reply(option, REP_ERR_UNKNOWN, "no export named " + name);
            return Optional.empty();
        }
        Export export = found.get();
        int flags = transmissionFlags();
        reply(option, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT)
                .putLong(export.device().size()).putShort((short) flags).flip());
        if (wanted.contains(INFO_NAME)) reply(option, REP_INFO, info(INFO_NAME, export.name()));
        if (wanted.contains(INFO_DESCRIPTION) && !export.description().isEmpty()) {
            reply(option, REP_INFO, info(INFO_DESCRIPTION, export.description()));
        }
        int minimum = Math.max(1, export.device().minimumBlockSize());
        int preferred = Math.max(Math.max(512, minimum), export.device().preferredBlockSize());
        reply(option, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE)
                .putInt(minimum).putInt(preferred).putInt(Math.max(preferred, MAX_PAYLOAD)).flip());
        if (option == OPT_INFO) {
            reply(option, REP_ACK, null);
            return Optional.empty();
        }
        if (!exports.attach(export, connection)) {
            reply(option, REP_ERR_UNKNOWN, "export " + name + " has just been removed");
            return Optional.empty();
        }
        reply(option, REP_ACK, null);
        return Optional.of(session(export, flags));
    }

    private void metaContext(int option, ByteBuffer data) throws IOException {
        if (option == OPT_SET_META_CONTEXT) allocationSelectedFor = null; // replaced even when the request fails
        if (data.remaining() < 8) {
            invalid(option, "meta context data shorter than 8 bytes");
            return;
        }
        long nameLength = Integer.toUnsignedLong(data.getInt());
        if (nameLength > data.remaining() - 4) {
            invalid(option, "export name longer than the option");
            return;
        }
        String name = string(data, (int) nameLength);
        long count = Integer.toUnsignedLong(data.getInt());
        boolean allocationQueried = count == 0 && option == OPT_LIST_META_CONTEXT;
        for (long i = 0; i < count; i++) {
            if (data.remaining() < 4) {
                invalid(option, "fewer queries than counted");
                return;
            }
            long queryLength = Integer.toUnsignedLong(data.getInt());
            if (queryLength > data.remaining()) {
                invalid(option, "query longer than the option");
                return;
            }
            String query = string(data, (int) queryLength);
            allocationQueried |= query.equals(BASE_ALLOCATION)
                    || (option == OPT_LIST_META_CONTEXT && query.equals("base:"));
        }
        if (data.hasRemaining()) {
            invalid(option, "bytes after the last query");
            return;
        }
        if (option == OPT_SET_META_CONTEXT && !structuredReplies) {
            invalid(option, "SET_META_CONTEXT before STRUCTURED_REPLY");
            return;
        }
        if (exports.find(name).isEmpty()) {
            reply(option, REP_ERR_UNKNOWN, "no export named " + name);
            return;
        }
        if (allocationQueried) {
            byte[] context = utf8(BASE_ALLOCATION);
            int id = option == OPT_SET_META_CONTEXT ? ALLOCATION_CONTEXT_ID : 0;
            reply(option, REP_META_CONTEXT, ByteBuffer.allocate(4 + context.length).putInt(id).put(context).flip());
            if (option == OPT_SET_META_CONTEXT) allocationSelectedFor = name;
        }
        reply(option, REP_ACK, null);
    }

    private int transmissionFlags() {
        int flags = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES
                | FLAG_CAN_MULTI_CONN;
        // Reads are always answered in one chunk, so "don't fragment" costs nothing, but it needs structured replies.
        return structuredReplies ? flags | FLAG_SEND_DF : flags;
    }

    private Session session(Export export, int flags) {
        boolean allocation = structuredReplies && export.name().equals(allocationSelectedFor);
        return new Session(export, structuredReplies, allocation ? ALLOCATION_CONTEXT_ID : 0, flags);
    }

    private Optional<Session> invalid(int option, String reason) throws IOException {
        reply(option, REP_ERR_INVALID, reason);
        return Optional.empty();
    }

    private static ByteBuffer info(int type, String value) {
        byte[] bytes = utf8(value);
        return ByteBuffer.allocate(2 + bytes.length).putShort((short) type).put(bytes).flip();
    }

    /** An option reply; errors carry a message for a person, as the protocol allows. */
    private void reply(int option, int type, Object data) throws IOException {
        ByteBuffer payload = data instanceof ByteBuffer bytes ? bytes
                : data instanceof String message ? ByteBuffer.wrap(utf8(message)) : ByteBuffer.allocate(0);
        ByteBuffer header = ByteBuffer.allocate(20).putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type)
                .putInt(payload.remaining()).flip();
        write(header);
        write(payload);
    }

    private void write(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) channel.write(bytes);
    }

    private ByteBuffer readFully(int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) throw new EOFException("the client closed the connection during the handshake");
        }
        return buffer.flip();
    }

    private void skip(long length) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate(64 * 1024);
        for (long left = length; left > 0; ) {
            scratch.clear().limit((int) Math.min(left, scratch.capacity()));
            int n = channel.read(scratch);
            if (n < 0) throw new EOFException("the client closed the connection during the handshake");
            left -= n;
        }
    }

    private static String string(ByteBuffer data, int length) {
        byte[] bytes = new byte[length];
        data.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
    }
}
