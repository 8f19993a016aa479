package io.vigil.agent.nbd;

import io.vigil.agent.disk.BlockDevice;
import io.vigil.agent.disk.FileImage;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Serves one export until killed, for measuring the server with fio against qemu-nbd and nbdkit:
 * {@code NbdServeMain SOCKET EXPORT (IMAGE | mem:MiB | mem-slow:MiB) [WORKERS]}. {@code mem:} is a disk in memory
 * whose try... calls succeed (the fast path, like cache hits); {@code mem-slow:} sends everything to the workers.
 */
public final class NbdServeMain {
    public static void main(String[] args) throws Exception {
        String source = args[2];
        int workers = args.length > 3 ? Integer.parseInt(args[3]) : 16;
        BlockDevice device;
        if (source.startsWith("mem:")) device = new MemoryDisk(Integer.parseInt(source.substring(4)) << 20, true);
        else if (source.startsWith("mem-slow:")) device = new MemoryDisk(Integer.parseInt(source.substring(9)) << 20, false);
        else device = FileImage.open(Path.of(source));
        NbdServer server = NbdServer.start(Path.of(args[0]), workers);
        server.addExport(args[1], "benchmark export", device);
        System.out.println("serving " + args[1] + " on " + args[0]);
        new CountDownLatch(1).await();
    }
}
