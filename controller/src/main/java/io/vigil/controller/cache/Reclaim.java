package io.vigil.controller.cache;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an agent says it gave back before it started a VM, read from its StartVm result's detail:
 * {@code "reclaimed N MiB of cache in T ms"}, possibly followed by {@code "; more text"}.
 */
public record Reclaim(long mib, long millis) {
    private static final Pattern DETAIL = Pattern.compile("^reclaimed (\\d+) MiB of cache in (\\d+) ms(?:;.*)?$",
            Pattern.DOTALL);

    /** Whether {@code detail} reports a reclaim at all (it may still not parse). */
    public static boolean reported(String detail) {
        return detail != null && detail.startsWith("reclaimed");
    }

    /** The reclaim {@code detail} reports, or empty when it is not in the agreed form. */
    public static Optional<Reclaim> parse(String detail) {
        if (detail == null) return Optional.empty();
        Matcher m = DETAIL.matcher(detail.strip());
        if (!m.matches()) return Optional.empty();
        try {
            return Optional.of(new Reclaim(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
        } catch (NumberFormatException e) {
            return Optional.empty(); // digits beyond a long
        }
    }
}
