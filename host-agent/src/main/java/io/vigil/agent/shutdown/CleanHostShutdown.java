package io.vigil.agent.shutdown;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A clean host shutdown as the agent carries it out. It refuses new VM starts, tells the controller (which moves the
 * host's VMs away or stops them, with ordinary commands that the agent keeps serving, heartbeats and all), and waits
 * until the controller clears the host or the time limit passes (a controller out of reach is waited for no longer
 * than that). Then it stops what still runs here under a lease (ACPI, destroyed after the VM stop timeout) and
 * releases those leases, so that the host goes down holding none.
 */
public final class CleanHostShutdown {
    private static final Logger log = LoggerFactory.getLogger(CleanHostShutdown.class);

    /** What the shutdown needs from the agent. */
    public interface Host {
        /** Tells the controller the host is shutting down (and again after each reconnect, until it clears it). */
        void announce(String reason);

        /** From now on a StartVm fails with {@code why}. */
        void refuseStarts(String why);

        /** Stops every VM still running here under a lease, within {@code timeoutMillis}; returns them. */
        List<String> stopRunningVms(long timeoutMillis);
    }

    /** How it went: whether the controller cleared the host (and what it said), and the VMs stopped here. */
    public record Outcome(boolean clearedByController, String detail, List<String> stoppedHere) {}

    private final CompletableFuture<String> cleared = new CompletableFuture<>();

    /** The controller's ShutdownCleared. */
    public void cleared(String detail) {
        cleared.complete(detail == null ? "" : detail);
    }

    /** Runs the shutdown; returns once no leased VM runs here any more. */
    public Outcome run(Host host, String reason, long waitMillis, long vmStopTimeoutMillis) throws InterruptedException {
        host.refuseStarts("host is shutting down (" + reason + ")");
        host.announce(reason);
        log.info("HOST SHUTDOWN ({}): waiting up to {} for the controller to move or stop this host's VMs", reason,
                duration(waitMillis));
        boolean byController;
        String detail;
        try {
            detail = cleared.get(waitMillis, TimeUnit.MILLISECONDS);
            byController = true;
            log.info("HOST SHUTDOWN: the controller cleared this host{}", detail.isEmpty() ? "" : ": " + detail);
        } catch (TimeoutException e) {
            byController = false;
            detail = "the controller did not clear the host within " + duration(waitMillis);
            log.warn("HOST SHUTDOWN: {}; stopping the VMs still here", detail);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e); // never completed exceptionally
        }
        List<String> stopped = host.stopRunningVms(vmStopTimeoutMillis);
        if (!stopped.isEmpty()) log.info("HOST SHUTDOWN: stopped {} here and released their leases", stopped);
        return new Outcome(byController, detail, stopped);
    }

    private static String duration(long millis) {
        return millis % 1000 == 0 ? millis / 1000 + " s" : millis + " ms";
    }
}
