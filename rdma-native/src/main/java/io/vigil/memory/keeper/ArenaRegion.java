package io.vigil.memory.keeper;

import io.vigil.protocol.memory.RegionGrant;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/** A region a peer was admitted to: its arena file, opened read-only, and its size as of opening. */
record ArenaRegion(String name, Path file, FileChannel channel, long size, RegionGrant grant) {}
