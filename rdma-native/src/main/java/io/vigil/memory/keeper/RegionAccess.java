package io.vigil.memory.keeper;

import io.vigil.protocol.memory.RegionGrant;
import io.vigil.protocol.memory.Regions;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Clock;

/**
 * Decides whether a peer may read a region, and opens its arena. The grant is checked before the region is looked
 * up, so that a peer without a valid grant for a VM learns nothing about which arenas this keeper holds.
 */
final class RegionAccess {
    private final String host;
    private final Path arenaDir;
    private final String grantKey;
    private final Clock clock;

    RegionAccess(String host, Path arenaDir, String grantKey, Clock clock) {
        this.host = host;
        this.arenaDir = arenaDir.toAbsolutePath().normalize();
        this.grantKey = grantKey;
        this.clock = clock;
    }

    /** Checks {@code grantToken} for {@code region}; throws REFUSED with the reason. */
    RegionGrant admit(String region, String grantToken) throws KeeperRefusal {
        try {
            Regions.check(region);
        } catch (IllegalArgumentException e) {
            throw new KeeperRefusal(KeeperStatus.REFUSED, e.getMessage());
        }
        RegionGrant grant;
        try {
            grant = RegionGrant.parse(grantToken);
            grant.verify(grantKey, host, clock.millis());
        } catch (RegionGrant.Refused e) {
            throw new KeeperRefusal(KeeperStatus.REFUSED, e.getMessage());
        }
        if (!grant.covers(region))
            throw new KeeperRefusal(KeeperStatus.REFUSED, "grant for VM " + grant.vm() + " does not cover region " + region);
        return grant;
    }

    /** The arena file of {@code region} (a name {@link #admit} accepted), never outside the arena directory. */
    Path arenaFile(String region) throws KeeperRefusal {
        Path file = arenaDir.resolve(Regions.fileName(region)).normalize();
        if (!arenaDir.equals(file.getParent())) // Regions already forbids this; kept as a second wall
            throw new KeeperRefusal(KeeperStatus.REFUSED, "invalid region " + region);
        return file;
    }

    /**
     * Opens the arena of {@code region} read-only, for a peer whose {@code grant} {@link #admit} accepted for it. The
     * caller owns the returned channel.
     */
    ArenaRegion open(String region, RegionGrant grant) throws KeeperRefusal {
        Path file = arenaFile(region);
        try {
            // Only a regular file the agent made: a symlink in the arena directory is not followed anywhere else.
            BasicFileAttributes attrs = java.nio.file.Files.readAttributes(file, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!attrs.isRegularFile()) throw new KeeperRefusal(KeeperStatus.NO_SUCH_REGION, "no arena for region " + region);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
            try {
                return new ArenaRegion(region, file, channel, channel.size(), grant);
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        } catch (NoSuchFileException e) {
            throw new KeeperRefusal(KeeperStatus.NO_SUCH_REGION, "this keeper (" + host + ") holds no arena for region " + region);
        } catch (IOException e) {
            throw new KeeperRefusal(KeeperStatus.KEEPER_ERROR, "cannot open the arena of " + region + ": " + e.getMessage());
        }
    }
}
