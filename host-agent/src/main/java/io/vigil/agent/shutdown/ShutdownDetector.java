package io.vigil.agent.shutdown;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells, when the agent is told to stop, a clean host shutdown from an agent restart. It is a host shutdown when the
 * configuration says every stop is one ({@code shutdownMode: host}), when an operator asked for one by writing
 * {@code stateDir/host-shutdown} (what {@code scripts/vigil host-shutdown} does; its text, if any, is the reason),
 * or when systemd is shutting the machine down ({@code systemctl is-system-running} prints {@code stopping}).
 * Anything else is a restart: the VMs run on, and an agent back within the fence deadline re-attaches to them.
 */
public final class ShutdownDetector {
    private static final Logger log = LoggerFactory.getLogger(ShutdownDetector.class);
    public static final String REQUEST_FILE = "host-shutdown";
    private static final int MAX_REASON_CHARS = 200;

    private final boolean alwaysHost;
    private final Path request;
    private final Supplier<Optional<String>> systemState;

    /** @param mode {@code auto} or {@code host}, as {@code AgentConfig.shutdownMode} */
    public ShutdownDetector(String mode, Path stateDir) {
        this(mode, stateDir, ShutdownDetector::systemdState);
    }

    /** @param systemState systemd's system state ("running", "stopping", ...), empty where there is no systemd */
    ShutdownDetector(String mode, Path stateDir, Supplier<Optional<String>> systemState) {
        this.alwaysHost = "host".equals(mode);
        this.request = stateDir.resolve(REQUEST_FILE);
        this.systemState = systemState;
    }

    /** Why this stop is a clean host shutdown, or empty for an agent restart. Consumes an operator's request. */
    public Optional<String> hostShutdownReason() {
        Optional<String> requested = takeRequest();
        if (requested.isPresent()) return requested;
        if (alwaysHost) return Optional.of("shutdownMode is host: every stop of this agent is a host shutdown");
        if (systemState.get().filter("stopping"::equals).isPresent()) return Optional.of("systemd is shutting the host down");
        return Optional.empty();
    }

    /**
     * Removes a request that an earlier agent did not act on (it stopped some other way): it was meant for that stop,
     * and must not turn this agent's next restart into a host shutdown.
     */
    public void clearStaleRequest() {
        try {
            if (Files.deleteIfExists(request)) log.warn("removed {}: a host shutdown request no agent acted on", request);
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", request, e.toString());
        }
    }

    private Optional<String> takeRequest() {
        if (!Files.exists(request)) return Optional.empty();
        String text = "";
        try {
            text = Files.readString(request, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            log.warn("cannot read {}: {}", request, e.toString());
        }
        try {
            Files.deleteIfExists(request);
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", request, e.toString());
        }
        if (text.length() > MAX_REASON_CHARS) text = text.substring(0, MAX_REASON_CHARS);
        return Optional.of(text.isEmpty() ? "requested through " + request : text);
    }

    /** systemd's overall state, or empty without systemd (no systemctl, not PID 1, no answer within 2 s). */
    static Optional<String> systemdState() {
        try {
            Process p = new ProcessBuilder("systemctl", "is-system-running").redirectErrorStream(true).start();
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty();
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return out.isEmpty() || out.contains(" ") ? Optional.empty() : Optional.of(out);
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
