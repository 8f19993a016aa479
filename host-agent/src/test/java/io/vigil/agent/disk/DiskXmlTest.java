package io.vigil.agent.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiskXmlTest {
    private static final Path SOCKET = Path.of("/run/vigil/nbd.sock");

    private static String domain(String disks) {
        return "<domain type='kvm'><name>web1</name><memory unit='MiB'>64</memory><devices>" + disks + "</devices></domain>";
    }

    @Test
    void aRawFileDiskBecomesAnNbdDiskOnTheAgentsSocketThatPausesOnErrors() {
        String xml = domain("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                + "<source file='/shared/images/web1.img'/><target dev='vda' bus='virtio'/></disk>");
        DiskXml.Rewritten r = DiskXml.serveThrough("web1", xml, SOCKET);

        assertEquals(List.of(new DiskXml.ServedDisk("web1/vda", "vda", Path.of("/shared/images/web1.img"))), r.disks());
        assertTrue(r.xml().contains("type=\"network\""), r.xml());
        assertTrue(r.xml().contains("protocol=\"nbd\"") && r.xml().contains("name=\"web1/vda\""), r.xml());
        assertTrue(r.xml().contains("socket=\"/run/vigil/nbd.sock\"") && r.xml().contains("transport=\"unix\""), r.xml());
        assertTrue(r.xml().contains("error_policy=\"stop\"") && r.xml().contains("rerror_policy=\"stop\""), r.xml());
        assertTrue(r.xml().contains("cache=\"none\""), r.xml());
        assertFalse(r.xml().contains("/shared/images/web1.img"), "the image is the agent's business now: " + r.xml());
    }

    @Test
    void aFileDiskWithoutAFormatIsRawAndGetsADriver() {
        String xml = domain("<disk type='file'><source file='/s/a.img'/><target dev='sda'/></disk>");
        DiskXml.Rewritten r = DiskXml.serveThrough("web1", xml, SOCKET);
        assertEquals(1, r.disks().size());
        assertTrue(r.xml().contains("<driver"), r.xml());
    }

    @Test
    void disksTheCacheMustNotServeAreLeftAlone() {
        String xml = domain("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/s/a.qcow2'/><target dev='vda'/></disk>"
                + "<disk type='file' device='cdrom'><source file='/s/b.iso'/><target dev='hdc'/><readonly/></disk>"
                + "<disk type='file' device='disk'><source file='/s/c.img'/><target dev='vdb'/><shareable/></disk>"
                + "<disk type='file' device='disk'><source file='/s/d.img'/><target dev='vdc'/><readonly/></disk>"
                + "<disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='vdd'/></disk>");
        DiskXml.Rewritten r = DiskXml.serveThrough("web1", xml, SOCKET);
        assertEquals(List.of(), r.disks());
        assertEquals(xml, r.xml());
    }

    @Test
    void twoDisksGetTwoExportsNamedByTheirTargets() {
        String xml = domain("<disk type='file'><source file='/s/a.img'/><target dev='vda'/></disk>"
                + "<disk type='file'><source file='/s/b.img'/><target dev='vdb'/></disk>");
        assertEquals(List.of("web1/vda", "web1/vdb"),
                DiskXml.serveThrough("web1", xml, SOCKET).disks().stream().map(DiskXml.ServedDisk::export).toList());
    }

    @Test
    void aSavedDefinitionIsRetargetedToThisHostsSocketOnlyForItsOwnExports() {
        String served = DiskXml.serveThrough("web1", domain("<disk type='file'><source file='/s/a.img'/><target dev='vda'/></disk>"
                + "<disk type='network'><source protocol='nbd' name='other'><host transport='unix' socket='/elsewhere.sock'/></source>"
                + "<target dev='vdb'/></disk>"), Path.of("/hostA/nbd.sock")).xml();
        String moved = DiskXml.retarget("web1", served, Path.of("/hostB/nbd.sock"));
        assertTrue(moved.contains("/hostB/nbd.sock"), moved);
        assertFalse(moved.contains("/hostA/nbd.sock"), moved);
        assertTrue(moved.contains("/elsewhere.sock"), "a disk not served by Vigil keeps its socket: " + moved);
    }

    @Test
    void unparseableXmlComesBackUnchanged() {
        assertEquals("<domain", DiskXml.serveThrough("web1", "<domain", SOCKET).xml());
        assertEquals(List.of(), DiskXml.serveThrough("web1", "not xml", SOCKET).disks());
    }
}
