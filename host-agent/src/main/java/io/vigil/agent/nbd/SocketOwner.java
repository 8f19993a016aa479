package io.vigil.agent.nbd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The account a QEMU process runs as, which must be able to connect to its VM's disk socket: libvirt's DAC label
 * ({@code +UID:+GID}, as libvirt's capabilities and a domain's {@code <seclabel model='dac'>} write it). A socket
 * given to it is owned by that user and group with mode 0600: QEMU can connect, nobody else but root can.
 */
public record SocketOwner(int uid, int gid) {
    private static final Pattern NUMERIC_LABEL = Pattern.compile("\\+?(\\d+):\\+?(\\d+)");
    private static final Set<PosixFilePermission> OWNER_ONLY =
            Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    public SocketOwner {
        if (uid < 0 || gid < 0) throw new IllegalArgumentException("uid and gid must not be negative");
    }

    /** Root, as QEMU runs under the embedded driver's {@code qemu.conf}. */
    public static final SocketOwner ROOT = new SocketOwner(0, 0);

    /** A DAC label {@code +UID:+GID} (the plus signs optional); empty for labels naming users by name. */
    public static Optional<SocketOwner> fromDacLabel(String label) {
        if (label == null) return Optional.empty();
        Matcher m = NUMERIC_LABEL.matcher(label.strip());
        if (!m.matches()) return Optional.empty();
        try {
            return Optional.of(new SocketOwner(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** Gives {@code socket} to this account, readable and writable by it alone. */
    public void apply(Path socket) throws IOException {
        Files.setAttribute(socket, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(socket, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(socket, OWNER_ONLY);
    }

    /**
     * The folders on the way to {@code dir} (itself included) that this account cannot search, so cannot reach a
     * socket in: judged by owner, group and mode (supplementary groups are not known here). Empty when all can.
     */
    public List<Path> unsearchable(Path dir) {
        List<Path> blocked = new ArrayList<>();
        for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
            try {
                int mode = (Integer) Files.getAttribute(p, "unix:mode");
                int owner = (Integer) Files.getAttribute(p, "unix:uid");
                int group = (Integer) Files.getAttribute(p, "unix:gid");
                boolean searchable = uid == 0
                        || (owner == uid ? (mode & 0100) != 0 : group == gid ? (mode & 0010) != 0 : (mode & 0001) != 0);
                if (!searchable) blocked.add(p);
            } catch (IOException | RuntimeException e) {
                blocked.add(p);
            }
        }
        return blocked;
    }

    @Override
    public String toString() {
        return "+" + uid + ":+" + gid;
    }
}
