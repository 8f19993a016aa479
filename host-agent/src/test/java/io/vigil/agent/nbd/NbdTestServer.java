package io.vigil.agent.nbd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** A server on a short socket path (sun_path is 108 bytes; JUnit's temp dirs can be longer), removed on close. */
final class NbdTestServer implements AutoCloseable {
    final Path dir;
    final Path socket;
    final NbdServer server;

    NbdTestServer(int workers) throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "vnbd-");
        socket = dir.resolve("s");
        server = NbdServer.start(socket, workers);
    }

    NbdTestServer() throws IOException {
        this(4);
    }

    /** The URI nbdinfo, nbdcopy and qemu take for an export on this socket. */
    String uri(String export) {
        return "nbd+unix:///" + export + "?socket=" + socket;
    }

    @Override
    public void close() throws IOException {
        server.close();
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(path);
        }
    }
}
