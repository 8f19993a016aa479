package io.vigil.agent.lease;

/**
 * The timing rule that keeps leases safe without synchronized clocks (see the package documentation for the
 * argument): a holder must have stopped its HA VMs {@link #fenceDeadlineMillis} after the start of its last
 * successful renewal, measured on its own monotonic clock.
 */
public final class LeaseTiming {
    /** Assumed bound on the relative rate error of two hosts' monotonic clocks (NTP slews by at most 0.05 %). */
    public static final double CLOCK_RATE_BOUND = 0.01;
    /** Assumed budget to destroy the HA VMs once the deadline passed (virDomainDestroy is a SIGTERM/SIGKILL). */
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
