package io.vigil.agent.recovery;

import io.vigil.memory.keeper.MemoryKeeperFiles;
import io.vigil.protocol.memory.MemoryKeeperEndpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's memory keeper as its endpoint file says, read at every inventory so that a keeper started, restarted or
 * stopped after the agent is reported as it is now. Each change is logged once; null when no keeper runs.
 */
public final class KeeperEndpointFile {
    private static final Logger log = LoggerFactory.getLogger(KeeperEndpointFile.class);

    private final Path keeperDir;
    private MemoryKeeperEndpoint last;
    private String lastProblem;

    public KeeperEndpointFile(Path keeperDir) {
        this.keeperDir = keeperDir;
    }

    public synchronized MemoryKeeperEndpoint endpoint() {
        MemoryKeeperEndpoint now;
        String problem = null;
        try {
            now = MemoryKeeperFiles.readEndpoint(keeperDir).orElse(null);
            if (now == null) problem = "no memory keeper endpoint in " + keeperDir + " (scripts/memory-keeper not running): "
                    + "a failure of this host loses writes its caches hold";
        } catch (IOException | RuntimeException e) {
            now = null;
            problem = "the memory keeper's endpoint file in " + keeperDir + " cannot be read: " + e.getMessage();
        }
        if (!Objects.equals(now, last) || !Objects.equals(problem, lastProblem)) {
            if (now != null) log.info("memory keeper: {} (its arenas readable by the host taking over a VM)", now);
            else log.warn("{}", problem);
        }
        last = now;
        lastProblem = problem;
        return now;
    }
}
