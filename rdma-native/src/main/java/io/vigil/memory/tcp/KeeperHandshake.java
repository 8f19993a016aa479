package io.vigil.memory.tcp;

import io.vigil.memory.RemoteMemoryException;
import io.vigil.memory.RemoteMemoryException.Kind;
import io.vigil.memory.keeper.KeeperProtocol;
import io.vigil.memory.keeper.KeeperStatus;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The client's half of OPEN: the request, and the reply's body or the keeper's refusal as an exception. */
final class KeeperHandshake {
    private KeeperHandshake() {}

    static ByteBuffer request(int op, String region, String grant) {
        byte[] name = region == null ? new byte[0] : region.getBytes(StandardCharsets.UTF_8);
        byte[] token = grant == null ? new byte[0] : grant.getBytes(StandardCharsets.UTF_8);
        if (name.length > 0xffff || token.length > 0xffff) throw new IllegalArgumentException("region or grant too long");
        return ByteBuffer.allocate(KeeperProtocol.OPEN_REQUEST_BYTES + name.length + token.length)
                .putInt(KeeperProtocol.MAGIC).putShort((short) KeeperProtocol.VERSION).putShort((short) op)
                .putShort((short) name.length).putShort((short) token.length).put(name).put(token).flip();
    }

    /**
     * Sends OPEN and returns the OK reply's body ({@code bodyBytes} long). A refusal becomes a
     * {@link RemoteMemoryException} of the status's kind with the keeper's message; the keeper closing the connection
     * before answering (busy, going down) is UNREACHABLE.
     */
    static ByteBuffer open(KeeperChannel channel, int op, String region, String grant, int bodyBytes, long deadline)
            throws IOException {
        try {
            channel.writeFully(request(op, region, grant), deadline);
            ByteBuffer head = ByteBuffer.allocate(KeeperProtocol.OPEN_REPLY_BYTES);
            channel.readFully(head, deadline, Kind.UNREACHABLE);
            head.flip();
            if (head.getInt() != KeeperProtocol.MAGIC || head.getShort() != KeeperProtocol.VERSION)
                throw new RemoteMemoryException(Kind.PROTOCOL, channel.keeper() + " does not answer as a memory keeper");
            int code = Short.toUnsignedInt(head.getShort());
            int length = head.getInt();
            KeeperStatus status = KeeperStatus.of(code);
            if (status == null) throw new RemoteMemoryException(Kind.PROTOCOL, "memory keeper of " + channel.keeper()
                    + " answered unknown status " + code);
            if (status != KeeperStatus.OK) {
                if (length < 0 || length > KeeperProtocol.MAX_MESSAGE_BYTES)
                    throw new RemoteMemoryException(Kind.PROTOCOL, "memory keeper of " + channel.keeper() + " sent a "
                            + length + "-byte message");
                ByteBuffer text = ByteBuffer.allocate(length);
                channel.readFully(text, deadline, Kind.PROTOCOL);
                throw new RemoteMemoryException(status.kind(), "memory keeper of " + channel.keeper() + ": " + status
                        + " for region " + region + ": " + new String(text.array(), StandardCharsets.UTF_8));
            }
            if (length != bodyBytes) throw new RemoteMemoryException(Kind.PROTOCOL, "memory keeper of " + channel.keeper()
                    + " answered OPEN with " + length + " bytes, expected " + bodyBytes);
            ByteBuffer body = ByteBuffer.allocate(bodyBytes);
            channel.readFully(body, deadline, Kind.PROTOCOL);
            return body.flip();
        } catch (RemoteMemoryException e) {
            throw e;
        } catch (IOException e) { // reset by the keeper before it answered
            throw new RemoteMemoryException(Kind.UNREACHABLE, "memory keeper of " + channel.keeper() + ": " + e.getMessage(), e);
        }
    }
}
