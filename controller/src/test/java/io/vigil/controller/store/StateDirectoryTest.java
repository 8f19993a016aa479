package io.vigil.controller.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDirectoryTest {
    @TempDir
    Path dir;

    private static ObjectNode value(int n) {
        return JsonNodeFactory.instance.objectNode().put("n", n);
    }

    @Test
    void ofTwoWritersOfOneRevisionExactlyOneWins() throws IOException {
        StateDirectory a = StateDirectory.open(dir, "c1", () -> 1);
        StateDirectory b = StateDirectory.open(dir, "c2", () -> 2);
        assertTrue(a.write("users", "alice", 0, value(1)));
        assertFalse(b.write("users", "alice", 0, value(2)), "revision 1 exists: the second writer must read again");
        assertEquals(1, b.read("users", "alice").orElseThrow().value().get("n").asInt());
        assertTrue(b.write("users", "alice", 1, value(2)));
        StoredRecord r = a.read("users", "alice").orElseThrow();
        assertEquals(2, r.revision());
        assertEquals("c2", r.writer());
    }

    @Test
    void aDeletionIsARevisionSoAStaleWriterCannotBringTheRecordBack() throws IOException {
        StateDirectory d = StateDirectory.open(dir, "c1", () -> 1);
        assertTrue(d.write("vm-specs", "vm1", 0, value(1)));
        assertTrue(d.write("vm-specs", "vm1", 1, null));
        assertFalse(d.write("vm-specs", "vm1", 1, value(9)), "a writer that read revision 1 lost the race to the deletion");
        assertTrue(d.read("vm-specs", "vm1").orElseThrow().deleted());
        assertTrue(d.readAll("vm-specs").records().get("vm1").deleted());
    }

    @Test
    void onlyTheNewestTwoRevisionsStayOnStorage() throws IOException {
        StateDirectory d = StateDirectory.open(dir, "c1", () -> 1);
        for (int i = 0; i < 10; i++) assertTrue(d.write("policy", "current", i, value(i)));
        try (Stream<Path> files = Files.list(dir.resolve("state/policy/current"))) {
            assertEquals(List.of("0000000000000009.rec", "0000000000000010.rec"),
                    files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList());
        }
    }

    @Test
    void oddKeysNeverEscapeTheirDirectoryAndComeBackAsTheyWere() throws IOException {
        StateDirectory d = StateDirectory.open(dir, "c1", () -> 1);
        List<String> keys = List.of("../../etc/passwd", "a/b", ".", "..", ".hidden", "%2F", "x y", "ünï", "CON", "a\u0000b",
                "-", "_");
        int n = 0;
        for (String k : keys) assertTrue(d.write("users", k, 0, value(n++)), k);
        var all = d.readAll("users");
        assertEquals(keys.size(), all.records().size());
        for (String k : keys) assertTrue(all.records().containsKey(k), k);
        try (Stream<Path> walk = Files.walk(dir)) {
            assertTrue(walk.allMatch(p -> p.normalize().startsWith(dir)));
        }
        try (Stream<Path> entries = Files.list(dir.resolve("state/users"))) {
            assertTrue(entries.noneMatch(p -> p.getFileName().toString().startsWith(".")));
        }
        assertThrows(IllegalArgumentException.class, () -> d.write("users", "", 0, value(1)));
    }

    @Test
    void aCorruptRecordIsReportedByNameAndEveryOtherRecordIsServed() throws IOException {
        StateDirectory d = StateDirectory.open(dir, "c1", () -> 1);
        assertTrue(d.write("rules", "good", 0, value(1)));
        assertTrue(d.write("rules", "bad", 0, value(2)));
        Path bad = dir.resolve("state/rules/bad/0000000000000001.rec");
        String text = Files.readString(bad);
        Files.writeString(bad, text.replace("\"n\":2", "\"n\":3")); // a flipped byte: the checksum no longer matches
        var all = d.readAll("rules");
        assertEquals(List.of("good"), List.copyOf(all.records().keySet()));
        assertEquals(1, all.corrupt().size());
        assertEquals(bad, all.corrupt().get(0).file());
        assertTrue(d.corruptRecords().containsKey(bad));
        // A record copied under another key's name is not believed either.
        Files.createDirectories(dir.resolve("state/rules/other"));
        Files.copy(dir.resolve("state/rules/good/0000000000000001.rec"), dir.resolve("state/rules/other/0000000000000001.rec"));
        assertEquals(2, d.readAll("rules").corrupt().size());
    }

    @Test
    void aDirectoryOfAnotherFormatIsRefused() throws IOException {
        Files.writeString(dir.resolve("FORMAT"), "vigil-control-plane 3\n");
        IOException e = assertThrows(IOException.class, () -> StateDirectory.open(dir, "c1", () -> 1));
        assertTrue(e.getMessage().contains("vigil-control-plane 3"), e.getMessage());
    }
}
