package io.vigil.agent.disk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * Tiny guests for real-QEMU tests of the disk path: a boot sector the BIOS loads from the VM's disk (so the VM boots
 * from a disk served by the agent), which then loops: increment a counter, write it to the disk's second sector
 * (BIOS int 13h), read the sector back, compare, print '.' on the first serial port, wait 100 ms. A failed or
 * mismatched disk request prints 'E' and halts. The sector's first 4 bytes (little-endian) count the writes.
 */
public final class GuestImages {
    private GuestImages() {}

    /** Assembled from 16-bit x86 (GNU as, -Ttext 0x7c00): cli; zero segments; save the boot drive; the loop above. */
    private static final String DISK_LOOP = "fa31c08ed88ec08ed0bc007cfb8816007e66ff060080b80103b90200b6008a16007ebb0080"
            + "cd13722fb80102b90200b6008a16007ebb0090cd13721c66a10090663b0600807511b02ee81400b486b90100baa086cd15ebb9"
            + "b045e80300f4ebfdbaf803eec3";

    /** Writes a raw image of {@code mib} MiB holding the disk-loop guest's boot sector. */
    public static Path diskLoop(Path image, int mib) throws IOException {
        byte[] disk = new byte[mib << 20];
        byte[] code = HexFormat.of().parseHex(DISK_LOOP);
        System.arraycopy(code, 0, disk, 0, code.length);
        disk[510] = 0x55;
        disk[511] = (byte) 0xAA;
        Files.createDirectories(image.toAbsolutePath().getParent());
        Files.write(image, disk);
        return image;
    }

    /** The write counter in sector 2 of {@code image}. */
    public static long writeCounter(Path image) throws IOException {
        byte[] sector;
        try (var in = Files.newInputStream(image)) {
            in.skipNBytes(512);
            sector = in.readNBytes(4);
        }
        return (sector[0] & 0xffL) | (sector[1] & 0xffL) << 8 | (sector[2] & 0xffL) << 16 | (sector[3] & 0xffL) << 24;
    }

    /** A domain booting from {@code image} (a raw file disk, virtio) with its serial port written to {@code serial}. */
    public static String domainXml(String name, String domainType, Path image, Path serial) {
        return "<domain type='" + domainType + "'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                + "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>"
                + "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
                + "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='" + image + "'/>"
                + "<target dev='vda' bus='virtio'/></disk>"
                + "<serial type='file'><source path='" + serial + "'/></serial>"
                + "<video><model type='none'/></video><memballoon model='none'/></devices></domain>";
    }
}
