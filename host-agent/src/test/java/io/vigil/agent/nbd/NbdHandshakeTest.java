package io.vigil.agent.nbd;

import static io.vigil.agent.nbd.NbdProtocol.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Option haggling as doc/proto.md specifies it, seen by a hand-written client. */
@Timeout(30)
class NbdHandshakeTest {
    private NbdTestServer test;
    private final MemoryDisk disk = new MemoryDisk(1 << 20, true);

    @BeforeEach
    void start() throws Exception {
        test = new NbdTestServer();
        test.server.addExport("vm1/vda", "system disk of vm1", disk);
        test.server.addExport("vm1/vdb", "", new MemoryDisk(4096, true));
    }

    @AfterEach
    void stop() throws Exception {
        test.close();
    }

    private NbdTestClient greeted() throws Exception {
        NbdTestClient client = NbdTestClient.connect(test.socket);
        assertEquals(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, client.greet(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES));
        return client;
    }

    @Test
    void listNamesEveryExport() throws Exception {
        try (NbdTestClient client = greeted()) {
            List<NbdTestClient.OptionReply> replies = client.option(OPT_LIST, new byte[0]);
            assertEquals(REP_ACK, replies.get(replies.size() - 1).type());
            Set<String> names = replies.stream().filter(r -> r.type() == REP_SERVER)
                    .map(r -> new String(r.data(), 4, ByteBuffer.wrap(r.data()).getInt(), StandardCharsets.UTF_8))
                    .collect(Collectors.toSet());
            assertEquals(Set.of("vm1/vda", "vm1/vdb"), names);
        }
    }

    @Test
    void infoAnswersWhatWasAskedAndGoEntersTransmission() throws Exception {
        try (NbdTestClient client = greeted()) {
            List<NbdTestClient.OptionReply> replies = client.option(OPT_INFO,
                    NbdTestClient.goData("vm1/vda", INFO_NAME, INFO_DESCRIPTION, INFO_BLOCK_SIZE));
            client.expectAck(replies);
            ByteBuffer export = info(replies, INFO_EXPORT);
            assertEquals(1 << 20, export.getLong());
            int flags = Short.toUnsignedInt(export.getShort());
            int wanted = FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA | FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES
                    | FLAG_CAN_MULTI_CONN;
            assertEquals(wanted, flags, "no SEND_DF without structured replies");
            assertEquals("vm1/vda", utf8(info(replies, INFO_NAME)));
            assertEquals("system disk of vm1", utf8(info(replies, INFO_DESCRIPTION)));
            ByteBuffer sizes = info(replies, INFO_BLOCK_SIZE);
            assertEquals(1, sizes.getInt());
            assertEquals(4096, sizes.getInt());
            assertEquals(32 << 20, sizes.getInt());

            client.expectAck(client.option(OPT_GO, NbdTestClient.goData("vm1/vda")));
            disk.fill("hello".getBytes(StandardCharsets.UTF_8));
            assertEquals("hello", new String(client.read(0, 5), StandardCharsets.UTF_8));
        }
    }

    @Test
    void unknownExportIsRefusedAndTheClientMayTryAgain() throws Exception {
        try (NbdTestClient client = greeted()) {
            List<NbdTestClient.OptionReply> replies = client.option(OPT_GO, NbdTestClient.goData("vm9/vda"));
            assertEquals(List.of(REP_ERR_UNKNOWN), replies.stream().map(NbdTestClient.OptionReply::type).toList());
            assertEquals(REP_ERR_UNKNOWN, last(client.option(OPT_INFO, NbdTestClient.goData(""))).type());
            client.expectAck(client.option(OPT_GO, NbdTestClient.goData("vm1/vdb")));
            assertEquals(4096, client.read(0, 4096).length);
        }
    }

    @Test
    void startTlsAndUnknownOptionsAreUnsupported() throws Exception {
        try (NbdTestClient client = greeted()) {
            assertEquals(REP_ERR_UNSUP, last(client.option(OPT_STARTTLS, new byte[0])).type());
            assertEquals(REP_ERR_INVALID, last(client.option(OPT_STARTTLS, new byte[3])).type());
            assertEquals(REP_ERR_UNSUP, last(client.option(99, new byte[10])).type());
            assertEquals(REP_ERR_UNSUP, last(client.option(11, new byte[0])).type(), "extended headers");
            client.expectAck(client.option(OPT_GO, NbdTestClient.goData("vm1/vda")));
        }
    }

    @Test
    void malformedOptionLengthsAreInvalid() throws Exception {
        try (NbdTestClient client = greeted()) {
            assertEquals(REP_ERR_INVALID, last(client.option(OPT_LIST, new byte[1])).type());
            assertEquals(REP_ERR_INVALID, last(client.option(OPT_STRUCTURED_REPLY, new byte[4])).type());
            assertEquals(REP_ERR_INVALID, last(client.option(OPT_GO, new byte[5])).type(), "shorter than 6");
            byte[] nameTooLong = ByteBuffer.allocate(10).putInt(100).array();
            assertEquals(REP_ERR_INVALID, last(client.option(OPT_GO, nameTooLong)).type());
            byte[] countWrong = ByteBuffer.allocate(4 + 7 + 2).putInt(7).put("vm1/vda".getBytes()).putShort((short) 3)
                    .array();
            assertEquals(REP_ERR_INVALID, last(client.option(OPT_INFO, countWrong)).type());
            byte[] queryTooLong = ByteBuffer.allocate(4 + 7 + 4 + 4).putInt(7).put("vm1/vda".getBytes()).putInt(1)
                    .putInt(50).array();
            assertEquals(REP_ERR_INVALID, last(client.option(OPT_LIST_META_CONTEXT, queryTooLong)).type());
            assertEquals(REP_ERR_TOO_BIG, last(client.option(OPT_GO, new byte[100_000])).type());
            client.expectAck(client.option(OPT_GO, NbdTestClient.goData("vm1/vda")));
        }
    }

    @Test
    void metaContextsNeedStructuredRepliesAndOfferBaseAllocation() throws Exception {
        try (NbdTestClient client = greeted()) {
            byte[] set = NbdTestClient.metaContextData("vm1/vda", "base:allocation");
            assertEquals(REP_ERR_INVALID, last(client.option(OPT_SET_META_CONTEXT, set)).type());
            client.expectAck(client.option(OPT_STRUCTURED_REPLY, new byte[0]));
            List<NbdTestClient.OptionReply> listed = client.option(OPT_LIST_META_CONTEXT,
                    NbdTestClient.metaContextData("vm1/vda"));
            assertEquals(List.of(REP_META_CONTEXT, REP_ACK), listed.stream().map(NbdTestClient.OptionReply::type).toList());
            assertEquals("base:allocation", new String(listed.get(0).data(), 4, listed.get(0).data().length - 4,
                    StandardCharsets.UTF_8));
            assertEquals(List.of(REP_ACK), client.option(OPT_LIST_META_CONTEXT,
                    NbdTestClient.metaContextData("vm1/vda", "qemu:dirty-bitmap:x")).stream()
                    .map(NbdTestClient.OptionReply::type).toList(), "unknown namespaces are ignored");
            assertEquals(REP_ERR_UNKNOWN, last(client.option(OPT_SET_META_CONTEXT,
                    NbdTestClient.metaContextData("nope", "base:allocation"))).type());
            List<NbdTestClient.OptionReply> selected = client.option(OPT_SET_META_CONTEXT, set);
            assertEquals(REP_META_CONTEXT, selected.get(0).type());
            int id = ByteBuffer.wrap(selected.get(0).data()).getInt();
            List<NbdTestClient.OptionReply> go = client.option(OPT_GO, NbdTestClient.goData("vm1/vda"));
            client.expectAck(go);
            int flags = Short.toUnsignedInt(info(go, INFO_EXPORT).getShort(8));
            assertEquals(FLAG_SEND_DF, flags & FLAG_SEND_DF);

            NbdTestClient.Reply status = client.call(0, CMD_BLOCK_STATUS, 0, 1 << 20, null);
            assertEquals(0, status.error());
            assertEquals(1, status.extents().size());
            assertArrayEquals(new long[] {1 << 20, 0}, status.extents().get(0));
            assertNotEquals(0, id);
        }
    }

    @Test
    void exportNameEntersTransmissionWithOrWithoutZeroes() throws Exception {
        try (NbdTestClient client = NbdTestClient.connect(test.socket)) {
            client.greet(FLAG_C_FIXED_NEWSTYLE);
            client.sendOption(OPT_EXPORT_NAME, "vm1/vdb".getBytes(StandardCharsets.UTF_8));
            ByteBuffer reply = client.readFully(8 + 2 + 124);
            assertEquals(4096, reply.getLong());
            assertEquals(0, reply.getShort() & FLAG_SEND_DF);
            assertEquals(4096, client.read(0, 4096).length);
        }
        try (NbdTestClient client = greeted()) {
            client.sendOption(OPT_EXPORT_NAME, "vm1/vdb".getBytes(StandardCharsets.UTF_8));
            assertEquals(4096, client.readFully(10).getLong());
            assertEquals(4096, client.read(0, 4096).length);
        }
    }

    @Test
    void unknownExportNameClosesTheConnection() throws Exception {
        try (NbdTestClient client = greeted()) {
            client.sendOption(OPT_EXPORT_NAME, "vm9/vda".getBytes(StandardCharsets.UTF_8));
            client.assertClosedBy(Duration.ofSeconds(5));
        }
    }

    @Test
    void abortIsAcknowledgedThenTheConnectionCloses() throws Exception {
        try (NbdTestClient client = greeted()) {
            assertEquals(REP_ACK, last(client.option(OPT_ABORT, new byte[0])).type());
            client.assertClosedBy(Duration.ofSeconds(5));
        }
    }

    @Test
    void unknownClientFlagsCloseTheConnection() throws Exception {
        try (NbdTestClient client = NbdTestClient.connect(test.socket)) {
            client.greet(0x80);
            client.assertClosedBy(Duration.ofSeconds(5));
        }
    }

    @Test
    void requestsBeforeTheHandshakeEndsCloseTheConnection() throws Exception {
        try (NbdTestClient client = greeted()) {
            client.request(0, CMD_READ, 1, 0, 512, null);
            client.assertClosedBy(Duration.ofSeconds(5));
        }
        try (NbdTestClient client = NbdTestClient.connect(test.socket)) { // garbage instead of the client flags
            client.readFully(18);
            client.writeRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.UTF_8));
            client.assertClosedBy(Duration.ofSeconds(5));
        }
    }

    private static NbdTestClient.OptionReply last(List<NbdTestClient.OptionReply> replies) {
        return replies.get(replies.size() - 1);
    }

    private static ByteBuffer info(List<NbdTestClient.OptionReply> replies, int type) {
        for (NbdTestClient.OptionReply reply : replies) {
            ByteBuffer data = ByteBuffer.wrap(reply.data());
            if (reply.type() == REP_INFO && data.getShort() == type) return data.slice();
        }
        throw new AssertionError("no NBD_REP_INFO of type " + type);
    }

    private static String utf8(ByteBuffer bytes) {
        return StandardCharsets.UTF_8.decode(bytes).toString();
    }
}
