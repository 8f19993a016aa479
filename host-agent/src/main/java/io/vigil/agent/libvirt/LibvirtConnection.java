package io.vigil.agent.libvirt;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;
import org.libvirt.jna.CString;
import org.libvirt.jna.ConnectionPointer;

/**
 * libvirt-java's connection, plus the calls the agent needs that libvirt-java 0.5.4 does not bind:
 * {@code virDomainSaveImageGetXMLDesc}, which reads the domain definition stored in a saved-state file (its name
 * and UUID decide whether the file may be restored as a VM and under which definition), and
 * {@code virDomainRestoreFlags}, which restores it with an adjusted definition (disks served by this host's agent),
 * and {@code virDomainGetState}, whose reason says why a domain is paused. Bound with JNA (which
 * libvirt-java itself uses) on libvirt-java's own connection pointer.
 */
final class LibvirtConnection extends Connect {

    /** The C functions bound here; libvirt-java binds the rest. */
    interface SaveImages extends Library {
        CString virDomainSaveImageGetXMLDesc(ConnectionPointer conn, String file, int flags);

        int virDomainRestoreFlags(ConnectionPointer conn, String from, String dxml, int flags);

        com.sun.jna.Pointer virDomainLookupByName(ConnectionPointer conn, String name);

        int virDomainGetState(com.sun.jna.Pointer domain, com.sun.jna.ptr.IntByReference state,
                com.sun.jna.ptr.IntByReference reason, int flags);

        int virDomainFree(com.sun.jna.Pointer domain);

        /** The calling thread's last libvirt error message (libvirt keeps it per thread). */
        String virGetLastErrorMessage();
    }

    private static final class Bound {
        static final SaveImages LIBVIRT = Native.load("virt", SaveImages.class);
    }

    LibvirtConnection(String uri) throws LibvirtException {
        super(uri, false);
    }

    /** The domain XML stored in the saved-state file {@code file} (an absolute path). */
    String saveImageXml(String file) throws HypervisorException {
        CString xml = Bound.LIBVIRT.virDomainSaveImageGetXMLDesc(vcp, file, 0);
        if (xml == null || xml.getPointer() == null)
            throw new HypervisorException(Bound.LIBVIRT.virGetLastErrorMessage());
        try {
            return xml.toString();
        } finally {
            xml.free();
        }
    }

    /**
     * libvirt's state of domain {@code name} and its reason ({@code virDomainGetState}: both as libvirt's enum
     * values), or empty when there is no such domain or libvirt cannot say.
     */
    java.util.Optional<int[]> stateAndReason(String name) {
        com.sun.jna.Pointer domain = Bound.LIBVIRT.virDomainLookupByName(vcp, name);
        if (domain == null) return java.util.Optional.empty();
        try {
            com.sun.jna.ptr.IntByReference state = new com.sun.jna.ptr.IntByReference();
            com.sun.jna.ptr.IntByReference reason = new com.sun.jna.ptr.IntByReference();
            if (Bound.LIBVIRT.virDomainGetState(domain, state, reason, 0) < 0) return java.util.Optional.empty();
            return java.util.Optional.of(new int[] {state.getValue(), reason.getValue()});
        } finally {
            Bound.LIBVIRT.virDomainFree(domain);
        }
    }

    /** Restores the saved-state {@code file} (an absolute path), running it with {@code xml}. */
    void restore(String file, String xml) throws HypervisorException {
        if (Bound.LIBVIRT.virDomainRestoreFlags(vcp, file, xml, 0) < 0)
            throw new HypervisorException(Bound.LIBVIRT.virGetLastErrorMessage());
    }
}
