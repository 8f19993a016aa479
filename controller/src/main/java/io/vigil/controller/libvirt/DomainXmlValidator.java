package io.vigil.controller.libvirt;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks a domain definition with libvirt's own parser before the controller accepts it: it defines the domain on
 * a private instance of libvirt's test driver, reads back what libvirt understood (name, memory, vCPUs), and
 * undefines it. A definition libvirt rejects is reported with libvirt's reason.
 *
 * <p>The test driver is opened on an empty node file of our own rather than {@code test:///default}, whose built-in
 * domain "test" would make a VM of that name look invalid ("already exists with uuid ..."). The driver checks the
 * XML as libvirt parses it for every hypervisor; QEMU-specific checks (emulator path, machine type) happen when an
 * agent defines the VM, and a failure there comes back as the VM's lastError.
 */
public final class DomainXmlValidator implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DomainXmlValidator.class);
    /** VM names become file names on shared storage (leases/&lt;vm&gt;/) and URL path segments. */
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public record DomainDefinition(String name, long memoryMiB, int vcpus) {}

    /** The definition is not acceptable; the message says why, in libvirt's words where libvirt refused it. */
    public static final class InvalidDomainXml extends Exception {
        public InvalidDomainXml(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final Connect connection;

    public DomainXmlValidator() throws IOException, LibvirtException {
        dir = Files.createTempDirectory("vigil-validate-");
        Path node = dir.resolve("node.xml");
        Files.writeString(node, "<node/>\n");
        connection = new Connect("test://" + node.toAbsolutePath());
    }

    /** Validates {@code xml}; serialized because define-then-undefine of one name must not interleave. */
    public synchronized DomainDefinition validate(String xml) throws InvalidDomainXml {
        if (xml == null || xml.isBlank()) throw new InvalidDomainXml("domainXml is empty");
        Domain domain;
        try {
            domain = connection.domainDefineXML(xml);
        } catch (LibvirtException e) {
            throw new InvalidDomainXml(reason(e));
        }
        try {
            String name = domain.getName();
            if (!SAFE_NAME.matcher(name).matches()) {
                throw new InvalidDomainXml("domain name '" + name + "' is not usable: a VM name must be 1-64 letters, "
                        + "digits, '.', '_' or '-', starting with a letter or digit");
            }
            long memoryMiB = (domain.getMaxMemory() + 1023) / 1024;
            int vcpus = domain.getInfo().nrVirtCpu;
            return new DomainDefinition(name, memoryMiB, vcpus);
        } catch (LibvirtException e) {
            throw new InvalidDomainXml(reason(e));
        } finally {
            try {
                domain.undefine();
                domain.free();
            } catch (LibvirtException e) {
                log.warn("could not undefine a validated domain: {}", reason(e));
            }
        }
    }

    private static String reason(LibvirtException e) {
        String m = e.getError() != null ? e.getError().getMessage() : e.getMessage();
        return m == null ? "libvirt refused the definition" : m.strip();
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (LibvirtException e) {
            log.debug("closing the validation connection: {}", reason(e));
        }
        try {
            Files.deleteIfExists(dir.resolve("node.xml"));
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            log.debug("cleaning {}: {}", dir, e.toString());
        }
    }
}
