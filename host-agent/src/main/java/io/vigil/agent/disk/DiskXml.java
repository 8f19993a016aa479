package io.vigil.agent.disk;

import io.vigil.agent.libvirt.DomainXml;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Points a domain's disks at the agent's NBD server. A raw image file on a writable, unshared disk becomes an NBD
 * network disk on the agent's UNIX socket, exported as {@code <vm>/<target>} through the VM's block cache; everything
 * else (qcow2 images, CD-ROMs, read-only or shareable disks, block devices) is left as it is.
 *
 * <p>Rewritten disks get {@code error_policy='stop'} and {@code rerror_policy='stop'}: while the agent restarts and
 * its socket is gone, a guest request pauses the VM instead of failing in the guest, and the agent resumes it once
 * its disks are served again (libvirt 9.0 has no {@code <reconnect delay>} for NBD disks; QEMU reconnects on the
 * retried request).
 */
public final class DiskXml {
    private static final Pattern TARGET = Pattern.compile("[a-z][a-z0-9]{1,15}");

    private DiskXml() {}

    /** One disk served by the agent: NBD export name, the guest's target device, the image file behind it. */
    public record ServedDisk(String export, String target, Path image) {}

    /** The domain XML pointing at the agent, and the disks it now expects the agent to serve. */
    public record Rewritten(String xml, List<ServedDisk> disks) {}

    /** The disks of {@code xml} that an agent with the disk cache on serves through a cache (pure; xml untouched). */
    public static List<ServedDisk> cacheable(String vm, String xml) {
        return serveThrough(vm, xml, Path.of("/")).disks();
    }

    /**
     * Rewrites {@code xml}'s eligible file disks into NBD disks on {@code socket}. An XML that cannot be parsed comes
     * back unchanged with no disks (libvirt then refuses it with its own message).
     */
    public static Rewritten serveThrough(String vm, String xml, Path socket) {
        Optional<Document> parsed = parse(xml);
        if (parsed.isEmpty()) return new Rewritten(xml, List.of());
        Document doc = parsed.get();
        List<ServedDisk> served = new ArrayList<>();
        for (Element disk : disks(doc)) {
            if (!"file".equals(disk.getAttribute("type"))) continue;
            String device = disk.getAttribute("device");
            if (!device.isEmpty() && !"disk".equals(device)) continue;
            if (child(disk, "readonly").isPresent() || child(disk, "shareable").isPresent()) continue;
            Optional<Element> driver = child(disk, "driver");
            String format = driver.map(d -> d.getAttribute("type")).orElse("");
            if (!format.isEmpty() && !"raw".equals(format)) continue;
            Optional<Element> source = child(disk, "source");
            Optional<Element> target = child(disk, "target");
            if (source.isEmpty() || target.isEmpty()) continue;
            String file = source.get().getAttribute("file");
            String dev = target.get().getAttribute("dev");
            if (file.isEmpty() || !TARGET.matcher(dev).matches()) continue;
            String export = vm + "/" + dev;
            served.add(new ServedDisk(export, dev, Path.of(file)));

            disk.setAttribute("type", "network");
            Element d = driver.orElseGet(() -> {
                Element e = doc.createElement("driver");
                disk.insertBefore(e, disk.getFirstChild());
                return e;
            });
            d.setAttribute("name", "qemu");
            d.setAttribute("type", "raw");
            d.setAttribute("cache", "none"); // the agent caches; guest flushes must reach it
            d.setAttribute("error_policy", "stop");
            d.setAttribute("rerror_policy", "stop");
            if (!d.hasAttribute("discard")) d.setAttribute("discard", "unmap");
            Element nbd = doc.createElement("source");
            nbd.setAttribute("protocol", "nbd");
            nbd.setAttribute("name", export);
            Element host = doc.createElement("host");
            host.setAttribute("transport", "unix");
            host.setAttribute("socket", socket.toString());
            nbd.appendChild(host);
            disk.replaceChild(nbd, source.get());
        }
        return new Rewritten(served.isEmpty() ? xml : print(doc), List.copyOf(served));
    }

    /**
     * The exports of {@code vm}'s disks that {@code xml} already serves through a Vigil NBD socket, with their
     * sockets moved to {@code socket}: a saved state written on another host restores against this host's agent.
     */
    public static String retarget(String vm, String xml, Path socket) {
        Optional<Document> parsed = parse(xml);
        if (parsed.isEmpty()) return xml;
        boolean changed = false;
        for (Element disk : disks(parsed.get())) {
            Optional<Element> source = child(disk, "source");
            if (!"network".equals(disk.getAttribute("type")) || source.isEmpty()) continue;
            if (!"nbd".equals(source.get().getAttribute("protocol"))) continue;
            if (!source.get().getAttribute("name").startsWith(vm + "/")) continue;
            Optional<Element> host = child(source.get(), "host");
            if (host.isEmpty() || !"unix".equals(host.get().getAttribute("transport"))) continue;
            host.get().setAttribute("socket", socket.toString());
            changed = true;
        }
        return changed ? print(parsed.get()) : xml;
    }

    private static List<Element> disks(Document doc) {
        List<Element> out = new ArrayList<>();
        child(doc.getDocumentElement(), "devices").ifPresent(devices -> {
            for (Node n = devices.getFirstChild(); n != null; n = n.getNextSibling())
                if (n instanceof Element e && "disk".equals(e.getTagName())) out.add(e);
        });
        return out;
    }

    private static Optional<Element> child(Element parent, String tag) {
        return DomainXml.child(parent, tag);
    }

    private static Optional<Document> parse(String xml) {
        return DomainXml.document(xml);
    }

    private static String print(Document doc) {
        return DomainXml.print(doc);
    }
}
