package io.vigil.controller.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of a writer of the durable store at random instants (seeded, printed): after every kill the store opens,
 * every record reads whole (no torn or corrupt record), and every revision the writer saw acknowledged is there.
 */
class StoreCrashConsistencyTest {
    @TempDir
    Path dir;

    @Test
    void aWriterKilledAtAnyInstantLeavesTheOldOrTheNewRecordNeverATornOne() throws Exception {
        long seed = Long.getLong("vigil.seed", System.nanoTime());
        System.err.println("StoreCrashConsistencyTest seed " + seed + " (replay with -Dvigil.seed=" + seed + ")");
        Random random = new Random(seed);
        Map<String, Long> acked = new HashMap<>();
        for (int run = 0; run < 8; run++) {
            Process writer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                    StoreWriterMain.class.getName(), dir.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8))) {
                // Let it write for a random while (at least a few records), then kill it mid-stride.
                int records = 20 + random.nextInt(300);
                String line;
                int seen = 0;
                while (seen < records && (line = out.readLine()) != null) {
                    String[] f = line.split(" ");
                    acked.merge(f[1], Long.parseLong(f[2]), Math::max);
                    seen++;
                }
                Thread.sleep(random.nextInt(15));
                // SIGKILL from outside: Process.destroy would also close our end of its stdout.
                new ProcessBuilder("kill", "-KILL", Long.toString(writer.pid())).start().waitFor();
                writer.waitFor(10, TimeUnit.SECONDS);
                while ((line = out.readLine()) != null) { // acknowledged before the kill landed
                    String[] f = line.split(" ");
                    acked.merge(f[1], Long.parseLong(f[2]), Math::max);
                }
            }
            StateDirectory reopened = StateDirectory.open(dir, "checker", System::currentTimeMillis);
            var all = reopened.readAll("crash");
            assertEquals(java.util.List.of(), all.corrupt(), "run " + run + ": no torn or corrupt record");
            for (var e : acked.entrySet()) {
                StoredRecord r = all.records().get(e.getKey());
                assertTrue(r != null && r.revision() >= e.getValue(),
                        "run " + run + ": " + e.getKey() + " acknowledged at revision " + e.getValue() + ", storage has " + r);
                assertEquals(6000, r.value().get("padding").asText().length());
            }
            // The next writer continues from what is on storage.
            for (var e : all.records().entrySet()) acked.put(e.getKey(), e.getValue().revision());
            // Stray temporary files of a killed write are the only leftovers, and they are never read as records.
            try (var walk = Files.walk(dir.resolve("state/crash"))) {
                assertTrue(walk.filter(Files::isRegularFile).allMatch(p -> p.getFileName().toString().endsWith(".rec")
                        || p.getFileName().toString().endsWith(".tmp")));
            }
        }
    }
}
