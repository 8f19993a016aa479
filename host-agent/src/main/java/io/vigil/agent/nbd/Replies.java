package io.vigil.agent.nbd;

import static io.vigil.agent.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Encodes transmission replies at a buffer's position: simple replies and structured reply chunks. */
final class Replies {
    private Replies() {}

    /** Longest error message sent; the protocol allows more, but nobody reads a paragraph in a log. */
    static final int MAX_MESSAGE = 200;
    static final int MAX_ERROR_BYTES = CHUNK_HEADER_BYTES + 6 + MAX_MESSAGE;

    static void simple(ByteBuffer to, int error, long cookie) {
        to.putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
    }

    static int readHeaderBytes(boolean structured) {
        return structured ? READ_CHUNK_BYTES : SIMPLE_REPLY_BYTES;
    }

    /** What goes before a read's data: a simple reply, or an OFFSET_DATA chunk that is the whole reply. */
    static void readHeader(ByteBuffer to, boolean structured, long cookie, long offset, int length) {
        if (!structured) {
            simple(to, 0, cookie);
            return;
        }
        chunkHeader(to, REPLY_TYPE_OFFSET_DATA, cookie, 8 + length);
        to.putLong(offset);
    }

    /** An error: an ERROR chunk with a message if structured replies are on, else a simple reply. */
    static void error(ByteBuffer to, boolean structured, long cookie, int error, String message) {
        if (!structured) {
            simple(to, error, cookie);
            return;
        }
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, MAX_MESSAGE);
        chunkHeader(to, REPLY_TYPE_ERROR, cookie, 6 + length);
        to.putInt(error).putShort((short) length).put(text, 0, length);
    }

    static ByteBuffer error(boolean structured, long cookie, int error, String message) {
        ByteBuffer reply = ByteBuffer.allocate(MAX_ERROR_BYTES);
        error(reply, structured, cookie, error, message);
        return reply.flip();
    }

    static ByteBuffer success(long cookie) {
        ByteBuffer reply = ByteBuffer.allocate(SIMPLE_REPLY_BYTES);
        simple(reply, 0, cookie);
        return reply.flip();
    }

    /** A BLOCK_STATUS chunk for one context, from descriptor lengths and {@code base:allocation} flags. */
    static ByteBuffer blockStatus(long cookie, int context, long[] lengths, int[] flags, int count) {
        ByteBuffer reply = ByteBuffer.allocate(CHUNK_HEADER_BYTES + 4 + 8 * count);
        chunkHeader(reply, REPLY_TYPE_BLOCK_STATUS, cookie, 4 + 8 * count);
        reply.putInt(context);
        for (int i = 0; i < count; i++) reply.putInt((int) lengths[i]).putInt(flags[i]);
        return reply.flip();
    }

    /** The header of a chunk that is the last of its reply, as all of ours are. */
    private static void chunkHeader(ByteBuffer to, int type, long cookie, int length) {
        to.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE).putShort((short) type).putLong(cookie)
                .putInt(length);
    }
}
