package io.vigil.agent;

import io.vigil.agent.config.AgentConfig;
import io.vigil.agent.shutdown.ShutdownDetector;
import io.vigil.agent.tls.Enrollment;
import io.vigil.agent.tls.EnrollmentException;
import io.vigil.protocol.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host agent program: {@code AgentMain --config FILE}. Exits with status 2 on bad configuration (the message
 * names the field), 1 when it cannot start. SIGTERM stops it cleanly: as an agent restart, leaving the VMs running,
 * or, when {@link ShutdownDetector} finds the host is shutting down, after the controller cleared the host and the VMs
 * still here are stopped.
 */
public final class AgentMain {
    private AgentMain() {}

    public static void main(String[] args) {
        Path configFile = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--help", "-h" -> {
                    System.out.print(usage());
                    return;
                }
                case "--config", "-c" -> {
                    if (i + 1 >= args.length) fail(2, "--config needs a file");
                    configFile = Path.of(args[++i]);
                }
                default -> {
                    if (args[i].startsWith("--config=")) configFile = Path.of(args[i].substring("--config=".length()));
                    else fail(2, "unknown argument '" + args[i] + "'\n\n" + usage());
                }
            }
        }
        AgentConfig config;
        try {
            config = AgentConfig.load(configFile, System.getenv());
        } catch (ConfigException e) {
            fail(2, e.getMessage());
            return;
        }
        Logger log = LoggerFactory.getLogger(AgentMain.class);
        ShutdownDetector shutdownKind = new ShutdownDetector(config.shutdownMode(), config.stateDir());
        shutdownKind.clearStaleRequest();
        try {
            // Before anything else: an agent that cannot ever connect should not take leases or start a watchdog.
            Enrollment.ensureEnrolled(config, null);
        } catch (EnrollmentException e) {
            log.error("agent {} cannot enroll: {}", config.host(), e.getMessage());
            fail(2, e.getMessage());
            return;
        } catch (InterruptedException e) {
            return;
        }
        HostAgent agent;
        try {
            agent = HostAgent.start(config);
        } catch (Exception e) {
            log.error("agent {} cannot start: {}", config.host(), e.getMessage(), e);
            fail(1, "agent cannot start: " + e.getMessage());
            return;
        }
        Path pidFile = config.stateDir().resolve(PID_FILE);
        writePid(pidFile, log);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Decided now, at SIGTERM: a clean host shutdown first clears the host with the controller; anything
            // else is an agent restart, which leaves the VMs running for the next agent to re-attach.
            Optional<String> hostShutdown = shutdownKind.hostShutdownReason();
            try {
                if (hostShutdown.isPresent()) agent.shutDownHost(hostShutdown.get());
                else agent.close();
            } catch (InterruptedException e) {
                agent.close();
            } finally {
                removePid(pidFile);
                stopped.countDown();
            }
        }, "vigil-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Written once the agent runs, so that {@code scripts/vigil host-shutdown} finds the process to stop. */
    static final String PID_FILE = "agent.pid";

    private static void writePid(Path file, Logger log) {
        try {
            Path tmp = file.resolveSibling(PID_FILE + ".tmp");
            Files.writeString(tmp, ProcessHandle.current().pid() + "\n");
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            log.warn("cannot write {}: {} (scripts/vigil host-shutdown needs it)", file, e.toString());
        }
    }

    private static void removePid(Path file) {
        try {
            if (Files.readString(file).strip().equals(Long.toString(ProcessHandle.current().pid()))) Files.delete(file);
        } catch (IOException e) {
            // gone already, or another agent's now
        }
    }

    static String usage() {
        StringBuilder b = new StringBuilder();
        b.append("Vigil host agent: keeps this host's VMs under their disk leases and serves the controller.\n\n");
        b.append("usage: AgentMain --config FILE     (YAML; every field can be set from the environment)\n");
        b.append("       AgentMain --help\n\n");
        b.append("configuration fields (environment variable):\n");
        for (String[] f : AgentConfig.fieldHelp()) {
            b.append(String.format("  %-32s %-44s %s%n", f[0], "(" + AgentConfig.envName(f[0]) + ")", f[1]));
        }
        b.append("""

                enrollment: with wss:// controllers the agent needs a certificate from the controller cluster's CA.
                On its first start it enrolls with the one-time joinToken (create one with POST /api/v1/join-tokens
                on the controller) and keeps its key and certificate in TLSDIR; without a certificate and without a
                joinToken it stops (exit status 2). To enroll again (a revoked certificate, a new cluster), delete
                TLSDIR and start the agent with a new joinToken.

                example:
                  host: h1
                  controllers: [wss://127.0.0.1:8443/agent/v1]
                  joinToken: vj1.0a1b2c3d.<secret>.<CA fingerprint>
                  libvirtUri: qemu:///embed?root=/tmp/vigil/h1
                  sharedStorage: /srv/vigil-shared
                  stateDir: /var/lib/vigil/agent
                  memoryMiB: 2048
                """);
        return b.toString();
    }

    private static void fail(int status, String message) {
        System.err.println("vigil-agent: " + message);
        System.exit(status);
    }
}
