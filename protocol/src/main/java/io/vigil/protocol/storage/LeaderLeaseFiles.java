package io.vigil.protocol.storage;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The leader lease of the control plane on shared storage, read by controllers (to claim and renew it) and by agents
 * (to learn the current epoch and whether the control plane is alive). It has the shape of a VM disk lease: one
 * exclusively created file per epoch ({@link LeaderEpoch}), and a heartbeat per epoch renewed by its holder
 * ({@link LeaderHeartbeat}), so that a frozen or dead controller blocks nobody (there is no lock to hold).
 * <pre>
 *   control-plane/leader/epoch-&lt;E&gt;             claimed once by the leader of epoch E (link(2), never rewritten)
 *   control-plane/leader/epoch-&lt;E&gt;.heartbeat   renewed every heartbeat by the holder of E
 * </pre>
 */
public final class LeaderLeaseFiles {
    private static final Pattern EPOCH = Pattern.compile("epoch-(\\d{1,18})");
    /** Epoch files kept behind the newest, for people reading the history; older ones are removed by the leader. */
    private static final int KEEP = 8;

    private final Path dir;

    public LeaderLeaseFiles(SharedStorage storage) {
        this.dir = storage.leaderDir();
    }

    public Path dir() {
        return dir;
    }

    /** The highest claimed epoch, or 0 when none was ever claimed (or the directory is unreadable: no leader known). */
    public long highestEpoch() throws IOException {
        long highest = 0;
        for (long e : epochs()) highest = Math.max(highest, e);
        return highest;
    }

    private List<Long> epochs() throws IOException {
        List<Long> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "epoch-*")) {
            for (Path f : files) {
                Matcher m = EPOCH.matcher(f.getFileName().toString());
                if (m.matches()) out.add(Long.parseLong(m.group(1)));
            }
        } catch (NoSuchFileException e) {
            return out;
        }
        return out;
    }

    public Optional<LeaderEpoch> epoch(long epoch) throws IOException {
        return RecordFiles.read(dir.resolve("epoch-" + epoch), LeaderEpoch.class);
    }

    public Optional<LeaderHeartbeat> heartbeat(long epoch) throws IOException {
        return RecordFiles.read(dir.resolve("epoch-" + epoch + ".heartbeat"), LeaderHeartbeat.class);
    }

    /** Claims {@code claim.epoch()}; false when another controller claimed it first. Creates the directory. */
    public boolean claim(LeaderEpoch claim, LeaderHeartbeat first) throws IOException {
        Files.createDirectories(dir);
        if (!RecordFiles.createWhole(dir.resolve("epoch-" + claim.epoch()), claim)) return false;
        renew(first);
        return true;
    }

    /** Rewrites the holder's heartbeat; never creates the directory (a vanished mount fails the renewal). */
    public void renew(LeaderHeartbeat heartbeat) throws IOException {
        RecordFiles.replaceInExistingDir(dir.resolve("epoch-" + heartbeat.epoch() + ".heartbeat"), heartbeat);
    }

    /** Removes the files of epochs older than the newest {@code KEEP}. */
    public void removeOldEpochs(long current) throws IOException {
        for (long e : epochs()) {
            if (e <= current - KEEP) {
                Files.deleteIfExists(dir.resolve("epoch-" + e + ".heartbeat"));
                Files.deleteIfExists(dir.resolve("epoch-" + e));
            }
        }
    }
}
