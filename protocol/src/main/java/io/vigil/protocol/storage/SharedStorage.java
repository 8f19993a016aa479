package io.vigil.protocol.storage;

import java.nio.file.Path;

/**
 * The layout of the shared storage directory (standing for NFS or a cluster file system):
 * <pre>
 *   hosts/&lt;host&gt;.heartbeat      one host's heartbeat, rewritten every heartbeat interval
 *   leases/&lt;vm&gt;/gen-&lt;N&gt;          a VM's disk lease at generation N, created exclusively by its new owner
 *   images/                       VM disk images
 * </pre>
 */
public record SharedStorage(Path root) {
    public Path hostsDir() {
        return root.resolve("hosts");
    }

    public Path hostHeartbeat(String host) {
        return hostsDir().resolve(host + ".heartbeat");
    }

    public Path leasesDir() {
        return root.resolve("leases");
    }

    public Path vmLeaseDir(String vm) {
        return leasesDir().resolve(vm);
    }

    public Path imagesDir() {
        return root.resolve("images");
    }
}
