package io.vigil.protocol.memory;

/**
 * What the recovery of a failed host's dirty cache blocks did, in the StartVm's result. {@code outcome}:
 * <ul>
 *   <li>{@code recovered}: every arena was read; {@code blocks} valid dirty blocks ({@code bytes}) were written to
 *       the images ({@code torn} and {@code corrupt} blocks were found and not applied);</li>
 *   <li>{@code unreachable}: the failed host's memory could not be read within the deadline; the VM starts from its
 *       images alone and writes acknowledged after {@code lastWriteBackMillis} may be lost;</li>
 *   <li>{@code failed}: reading broke off part way ({@code detail}); what was applied is a prefix in sequence
 *       order.</li>
 * </ul>
 * {@code stale}: arenas of an older lease generation, not applied.
 */
public record RecoveryReport(String fromHost, String transport, String outcome, int arenas, long blocks, long bytes,
        int torn, int corrupt, int stale, long millis, long lastWriteBackMillis, String detail) {
    public static final String RECOVERED = "recovered";
    public static final String UNREACHABLE = "unreachable";
    public static final String FAILED = "failed";

    public boolean reached() {
        return RECOVERED.equals(outcome);
    }
}
