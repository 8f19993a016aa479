package io.vigil.controller.store;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.file.Path;

/**
 * A child process for {@link StoreCrashConsistencyTest}: writes revision after revision of a few keys (each value
 * padded to several kilobytes, so a write spans several pages) and prints {@code acked <key> <revision>} after each
 * write returns, until it is killed.
 */
public final class StoreWriterMain {
    public static void main(String[] args) throws Exception {
        StateDirectory d = StateDirectory.open(Path.of(args[0]), "writer", System::currentTimeMillis);
        String padding = "x".repeat(6000);
        long[] revisions = new long[4];
        for (int k = 0; k < revisions.length; k++)
            revisions[k] = d.read("crash", "key-" + k).map(StoredRecord::revision).orElse(0L);
        for (int i = 0; ; i++) {
            int k = i % revisions.length;
            var value = JsonNodeFactory.instance.objectNode().put("i", i).put("padding", padding);
            if (!d.write("crash", "key-" + k, revisions[k], value)) throw new IllegalStateException("lost a race alone");
            revisions[k]++;
            System.out.println("acked key-" + k + " " + revisions[k]);
            System.out.flush();
        }
    }
}
