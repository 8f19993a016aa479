package io.vigil.protocol.memory;

import java.util.regex.Pattern;

/**
 * Names of the regions a memory keeper serves: one per VM disk cache arena, {@code <vm>/<disk>} (the disk's target
 * device, e.g. {@code web-1/vda}), held in the keeper's arena directory as the file {@code <vm>.<disk>.arena}.
 */
public final class Regions {
    private static final Pattern VM = Pattern.compile("[A-Za-z0-9._+-]{1,64}");
    private static final Pattern DISK = Pattern.compile("[a-z][a-z0-9]{1,15}");

    private Regions() {}

    public static String name(String vm, String disk) {
        if (vm == null || !VM.matcher(vm).matches()) throw new IllegalArgumentException("invalid VM name '" + vm + "'");
        if (disk == null || !DISK.matcher(disk).matches()) throw new IllegalArgumentException("invalid disk '" + disk + "'");
        return vm + "/" + disk;
    }

    /** Throws {@link IllegalArgumentException} unless {@code region} is {@code <vm>/<disk>} with valid names. */
    public static String check(String region) {
        int slash = region == null ? -1 : region.indexOf('/');
        if (slash < 0) throw new IllegalArgumentException("invalid region '" + region + "': expected <vm>/<disk>");
        return name(region.substring(0, slash), region.substring(slash + 1));
    }

    public static String vm(String region) {
        return check(region).substring(0, region.indexOf('/'));
    }

    /** The arena file name of {@code region} in the keeper's arena directory. */
    public static String fileName(String region) {
        return check(region).replace('/', '.') + ".arena";
    }
}
