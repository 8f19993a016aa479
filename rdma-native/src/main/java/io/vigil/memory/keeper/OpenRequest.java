package io.vigil.memory.keeper;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** A peer's OPEN: which region, for which transport, on which grant. */
record OpenRequest(int op, String region, String grant) {

    /** A peer that is not speaking this protocol at all: answered by closing the connection. */
    static final class NotAKeeperClient extends IOException {
        NotAKeeperClient(String message) {
            super(message);
        }
    }

    /**
     * Reads an OPEN from a blocking channel. Bad magic throws {@link NotAKeeperClient}; a well-framed request the
     * keeper cannot take (version, op, lengths, encoding) throws BAD_REQUEST, lengths being checked before anything
     * they announce is read.
     */
    static OpenRequest read(ReadableByteChannel in) throws IOException, KeeperRefusal {
        ByteBuffer head = readFully(in, KeeperProtocol.OPEN_REQUEST_BYTES);
        if (head.getInt() != KeeperProtocol.MAGIC) throw new NotAKeeperClient("bad magic");
        int version = Short.toUnsignedInt(head.getShort());
        int op = Short.toUnsignedInt(head.getShort());
        int regionBytes = Short.toUnsignedInt(head.getShort());
        int grantBytes = Short.toUnsignedInt(head.getShort());
        if (version != KeeperProtocol.VERSION)
            throw new KeeperRefusal(KeeperStatus.BAD_REQUEST, "unsupported protocol version " + version
                    + " (this keeper speaks " + KeeperProtocol.VERSION + ")");
        if (op != KeeperProtocol.OP_OPEN_TCP && op != KeeperProtocol.OP_OPEN_VERBS)
            throw new KeeperRefusal(KeeperStatus.BAD_REQUEST, "unknown op " + op);
        if (regionBytes > KeeperProtocol.MAX_REGION_BYTES)
            throw new KeeperRefusal(KeeperStatus.BAD_REQUEST, "region name longer than " + KeeperProtocol.MAX_REGION_BYTES + " bytes");
        if (grantBytes > KeeperProtocol.MAX_GRANT_BYTES)
            throw new KeeperRefusal(KeeperStatus.BAD_REQUEST, "grant longer than " + KeeperProtocol.MAX_GRANT_BYTES + " bytes");
        ByteBuffer body = readFully(in, regionBytes + grantBytes);
        String region = utf8(body.limit(regionBytes));
        String grant = utf8(body.limit(regionBytes + grantBytes).position(regionBytes));
        return new OpenRequest(op, region, grant);
    }

    private static String utf8(ByteBuffer bytes) throws KeeperRefusal {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new KeeperRefusal(KeeperStatus.BAD_REQUEST, "region or grant is not UTF-8");
        }
    }

    private static ByteBuffer readFully(ReadableByteChannel in, int bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(bytes);
        while (buf.hasRemaining()) {
            if (in.read(buf) < 0) throw new EOFException("peer closed during OPEN");
        }
        return buf.flip();
    }
}
