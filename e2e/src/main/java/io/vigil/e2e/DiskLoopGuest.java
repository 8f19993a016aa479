package io.vigil.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

/**
 * A guest that proves its disk works: a boot sector the BIOS loads from the VM's disk, which then loops writing a
 * counter to the disk's second sector, reading it back and comparing, every 100 ms (16-bit x86, the demo's guest; see
 * scripts/demo). Its counter, read through the agent's NBD socket, says whether the guest is writing now.
 */
public final class DiskLoopGuest {
    private static final String BOOT_SECTOR = "fa31c08ed88ec08ed0bc007cfb8816007e66ff060080b80103b90200b6008a16007ebb0080"
            + "cd13722fb80102b90200b6008a16007ebb0090cd13721c66a10090663b0600807511b02ee81400b486b90100baa086cd15ebb9"
            + "b045e80300f4ebfdbaf803eec3";

    private DiskLoopGuest() {}

    /** Writes a raw image of {@code mib} MiB holding the guest's boot sector. */
    public static Path image(Path image, int mib) throws IOException {
        byte[] disk = new byte[mib << 20];
        byte[] code = HexFormat.of().parseHex(BOOT_SECTOR);
        System.arraycopy(code, 0, disk, 0, code.length);
        disk[510] = 0x55;
        disk[511] = (byte) 0xAA;
        Files.createDirectories(image.toAbsolutePath().getParent());
        Files.write(image, disk);
        return image;
    }

    /** A domain booting the guest from {@code image} (raw, virtio; SeaBIOS, which loads boot sectors). */
    public static String domainXml(String name, Path image) {
        String type = Files.isWritable(Path.of("/dev/kvm")) ? "kvm" : "qemu";
        return "<domain type='" + type + "'><name>" + name + "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                + "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>"
                + "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
                + "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='" + image + "'/>"
                + "<target dev='vda' bus='virtio'/></disk>"
                + "<video><model type='none'/></video><memballoon model='none'/></devices></domain>";
    }

    /** The guest's write counter, read through {@code socket} (the agent's socket for the VM) from export VM/vda. */
    public static long counter(Path socket, String vm) throws IOException {
        try (NbdClient client = NbdClient.open(socket, vm + "/vda")) {
            byte[] s = client.read(512, 4);
            return (s[0] & 0xffL) | (s[1] & 0xffL) << 8 | (s[2] & 0xffL) << 16 | (s[3] & 0xffL) << 24;
        }
    }
}
