package io.vigil.protocol.storage;

/**
 * The timing rule that keeps leases on shared storage safe without synchronized clocks, for every lease Vigil has (a
 * host's delta lease and the VM disk leases under it, and the controllers' leader lease): a holder must have stopped
 * acting under its lease {@link #fenceDeadlineMillis} after the start of its last successful renewal, measured on its
 * own monotonic clock, while an observer treats the lease as expired only after seeing it unchanged for the whole
 * lease timeout T on its own clock, counted from its first sighting of the last renewal. The argument is in the
 * host-agent's lease package and the README.
 */
public final class LeaseTiming {
    /** Assumed bound on the relative rate error of two hosts' monotonic clocks (NTP slews by at most 0.05 %). */
    public static final double CLOCK_RATE_BOUND = 0.01;
    /** Assumed budget to stop acting once the deadline passed (virDomainDestroy is a SIGTERM/SIGKILL). */
    public static final long KILL_BUDGET_MILLIS = 1000;

    private LeaseTiming() {}

    /** F = 0.75 T - 500 ms. */
    public static long fenceDeadlineMillis(long leaseTimeoutMillis) {
        return (long) (leaseTimeoutMillis * 0.75) - 500;
    }

    /** Whether F(1+rho) + K &lt; T/(1+rho) holds for {@code leaseTimeoutMillis} with the bounds above. */
    public static boolean isSafe(long leaseTimeoutMillis) {
        double f = fenceDeadlineMillis(leaseTimeoutMillis);
        return f * (1 + CLOCK_RATE_BOUND) + KILL_BUDGET_MILLIS < leaseTimeoutMillis / (1 + CLOCK_RATE_BOUND);
    }
}
