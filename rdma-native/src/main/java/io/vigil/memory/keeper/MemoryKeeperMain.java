package io.vigil.memory.keeper;

import io.vigil.memory.VerbsExporter;
import io.vigil.memory.verbs.VerbsKeeperExporter;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory keeper program: {@code MemoryKeeperMain --host NAME --arenas DIR --state DIR [--listen ADDR:PORT]
 * [--advertise ADDR] [--rdma auto|off]}. Serves until SIGTERM. Exits with status 2 on bad arguments, 1 when it cannot start.
 */
public final class MemoryKeeperMain {
    public static final int DEFAULT_PORT = 7470;

    /** The parsed command line. */
    record Args(String host, Path arenas, Path state, InetSocketAddress listen, String advertise, boolean rdma) {}

    private MemoryKeeperMain() {}

    public static void main(String[] argv) {
        Args args;
        try {
            args = parse(argv);
        } catch (IllegalArgumentException e) {
            fail(2, e.getMessage() + "\n\n" + usage());
            return;
        }
        if (args == null) {
            System.out.print(usage());
            return;
        }
        Logger log = LoggerFactory.getLogger(MemoryKeeperMain.class);
        MemoryKeeper keeper;
        MemoryKeeperEndpoint endpoint;
        try {
            MemoryKeeperFiles.ensureDirectory(args.arenas());
            String key = MemoryKeeperFiles.loadOrCreateGrantKey(args.state());
            String advertise = args.advertise() != null ? args.advertise() : advertisedAddress(args.listen());
            // RDMA READ where this host has a device (one log line and TCP only where it has none); the connection
            // manager listens on the port after the TCP one, on the advertised (the RDMA interface's) address.
            VerbsExporter verbs = !args.rdma() ? null : VerbsKeeperExporter.start(advertise,
                    args.listen().getPort() == 0 ? 0 : args.listen().getPort() + 1).orElse(null);
            keeper = new MemoryKeeper(args.host(), args.arenas(), key, args.listen(), verbs);
            keeper.start();
            endpoint = keeper.endpoint(advertise);
            MemoryKeeperFiles.writeEndpoint(args.state(), endpoint);
        } catch (IOException | RuntimeException e) {
            log.error("memory keeper of {} cannot start: {}", args.host(), e.getMessage(), e);
            fail(1, "memory keeper cannot start: " + e.getMessage());
            return;
        }
        log.info("memory keeper of {} serves the arenas in {} on {} (advertised as {}:{}; endpoint in {})", args.host(),
                args.arenas(), keeper.address(), endpoint.address(), endpoint.tcpPort(),
                args.state().resolve(MemoryKeeperFiles.ENDPOINT_FILE));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                keeper.close();
                // a stopped keeper serves nothing: the agent should not report its endpoint any more
                MemoryKeeperFiles.removeEndpoint(args.state(), endpoint);
                log.info("memory keeper of {} stopped", args.host());
            } catch (IOException e) {
                log.warn("cannot remove {}: {}", MemoryKeeperFiles.ENDPOINT_FILE, e.toString());
            } finally {
                stopped.countDown();
            }
        }, "keeper-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The arguments, or null for --help; {@link IllegalArgumentException} naming what is wrong. */
    static Args parse(String[] argv) {
        String host = null;
        String arenas = null;
        String state = null;
        String listen = "0.0.0.0:" + DEFAULT_PORT;
        String advertise = null;
        String rdma = "auto";
        for (int i = 0; i < argv.length; i++) {
            String arg = argv[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            if (arg.equals("--help") || arg.equals("-h")) return null;
            if (value == null && !arg.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + arg + "'");
            if (value == null) {
                if (i + 1 >= argv.length) throw new IllegalArgumentException(arg + " needs a value");
                value = argv[++i];
            }
            switch (arg) {
                case "--host" -> host = value;
                case "--arenas" -> arenas = value;
                case "--state" -> state = value;
                case "--listen" -> listen = value;
                case "--advertise" -> advertise = value;
                case "--rdma" -> rdma = value;
                default -> throw new IllegalArgumentException("unknown argument '" + arg + "'");
            }
        }
        if (host == null || host.isBlank()) throw new IllegalArgumentException("--host is required");
        if (arenas == null) throw new IllegalArgumentException("--arenas is required");
        if (state == null) throw new IllegalArgumentException("--state is required");
        if (advertise != null && advertise.isBlank()) throw new IllegalArgumentException("--advertise must not be empty");
        if (!rdma.equals("auto") && !rdma.equals("off")) throw new IllegalArgumentException("--rdma must be auto or off, not '" + rdma + "'");
        return new Args(host, Path.of(arenas), Path.of(state), listenAddress(listen), advertise, rdma.equals("auto"));
    }

    /** {@code ADDR:PORT}, {@code [IPv6]:PORT} or {@code :PORT} (all addresses). */
    static InetSocketAddress listenAddress(String text) {
        int colon = text.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("--listen must be ADDR:PORT, not '" + text + "'");
        String addr = text.substring(0, colon);
        if (addr.startsWith("[") && addr.endsWith("]")) addr = addr.substring(1, addr.length() - 1);
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen port must be a number, not '" + text.substring(colon + 1) + "'");
        }
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--listen port must be 0-65535, not " + port);
        return addr.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(addr, port);
    }

    /**
     * The address peers should use when none was given: the listen address unless it is a wildcard, else this
     * host's first non-loopback address (IPv4 first), else loopback (a single-host setup).
     */
    static String advertisedAddress(InetSocketAddress listen) throws SocketException, UnknownHostException {
        InetAddress bound = listen.getAddress();
        if (bound != null && !bound.isAnyLocalAddress()) return bound.getHostAddress();
        Optional<InetAddress> found = Optional.empty();
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) continue;
            for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                if (a.isLoopbackAddress() || a.isLinkLocalAddress()) continue;
                if (found.isEmpty() || (a instanceof Inet4Address && !(found.get() instanceof Inet4Address))) found = Optional.of(a);
            }
        }
        return found.orElse(InetAddress.getLoopbackAddress()).getHostAddress();
    }

    static String usage() {
        return """
                Vigil memory keeper: holds this host's cache arenas and serves reads of them to peers that present a
                controller-issued grant (rdma-native/README.md, "Memory keeper").

                usage: MemoryKeeperMain --host NAME --arenas DIR --state DIR [--listen ADDR:PORT] [--advertise ADDR]
                                        [--rdma auto|off]

                  --host NAME          this host's name, as grants name it
                  --arenas DIR         the arena directory (made 0700 if missing), e.g. /dev/shm/vigil-NAME
                  --state DIR          where grant.key (made on first start, kept) and keeper.json are
                  --listen ADDR:PORT   TCP address to serve on (default 0.0.0.0:%d; port 0 picks a free one)
                  --advertise ADDR     the address peers reach this keeper at (default: the listen address, or this
                                       host's first non-loopback address when listening on all addresses)
                  --rdma auto|off      auto (default): also serve RDMA READ where this host has an RDMA device, its
                                       connection manager on the TCP port + 1 at the advertised address
                """.formatted(DEFAULT_PORT);
    }

    private static void fail(int status, String message) {
        System.err.println("vigil-memory-keeper: " + message);
        System.exit(status);
    }
}
