package io.vigil.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ground truth of which VMs run where: every live QEMU process on this machine, by guest name and by the embedded
 * libvirt root its command line names. Independent of the agents and the controller, so a test can catch a VM
 * running on two hosts even if Vigil's own view is wrong.
 */
public final class QemuCensus {
    /** One live QEMU process: which guest, under which host's root. */
    public record Qemu(String vm, String host, long pid) {}

    private static final Pattern GUEST = Pattern.compile("guest=([^,\\s]+)");
    private final Map<String, Path> roots;

    /** {@code roots}: host name to its embedded libvirt root directory. */
    public QemuCensus(Map<String, Path> roots) {
        this.roots = Map.copyOf(roots);
    }

    public List<Qemu> take() {
        List<Qemu> found = new ArrayList<>();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : proc) {
                String cmdline;
                try {
                    cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ');
                    if (!cmdline.contains("qemu-system")) continue;
                    String stat = Files.readString(p.resolve("stat"));
                    if (stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z")) continue; // a zombie writes nothing
                } catch (IOException gone) {
                    continue;
                }
                Matcher m = GUEST.matcher(cmdline);
                if (!m.find()) continue;
                String host = roots.entrySet().stream().filter(e -> cmdline.contains(e.getValue().toString() + "/"))
                        .map(Map.Entry::getKey).findFirst().orElse("?");
                found.add(new Qemu(m.group(1), host, Long.parseLong(p.getFileName().toString())));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc", e);
        }
        return found;
    }

    /** VM name to the hosts where a QEMU process for it is alive right now. */
    public Map<String, List<String>> hostsByVm() {
        Map<String, List<String>> byVm = new HashMap<>();
        for (Qemu q : take()) {
            if (!q.host.equals("?")) byVm.computeIfAbsent(q.vm, k -> new ArrayList<>()).add(q.host);
        }
        return byVm;
    }
}
