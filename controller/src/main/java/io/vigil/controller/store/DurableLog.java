package io.vigil.controller.store;

import io.vigil.protocol.Json;
import io.vigil.protocol.storage.RecordFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An append-only log on shared storage (the audit log, the event log): one segment file per writer at a time,
 * {@code control-plane/logs/<log>/<writer>-<started>-<n>.log}, each line one record as {@code <crc32c hex> <json>}.
 * Each controller appends only to its own segments, so writers never interleave; a reader merges every segment by the
 * records' sequence numbers. {@link #append} is durable when it returns (fsync); {@link #appendSoon} is durable within
 * {@link #FLUSH_MILLIS} (a background flush), in the order appended. A line torn by a crash fails its checksum and is
 * skipped (it was never acknowledged). Old segments are removed once the newest ones hold the log's bound.
 */
public final class DurableLog<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DurableLog.class);
    public static final long FLUSH_MILLIS = 200;
    static final int SEGMENT_RECORDS = 5_000;

    private final Path dir;
    private final String writer;
    private final Class<T> type;
    private final ToLongFunction<T> sequenceOf;
    private final int bound;
    private final long started = System.currentTimeMillis();
    private final ConcurrentLinkedQueue<T> pending = new ConcurrentLinkedQueue<>();
    private final ScheduledExecutorService flusher;
    private FileChannel segment; // guarded by this
    private int segmentNumber; // guarded by this
    private int segmentRecords; // guarded by this

    public DurableLog(Path dir, String writer, Class<T> type, ToLongFunction<T> sequenceOf, int bound) {
        this.dir = dir;
        this.writer = KeyNames.encode(writer);
        this.type = type;
        this.sequenceOf = sequenceOf;
        this.bound = bound;
        this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "vigil-log-" + dir.getFileName());
            t.setDaemon(true);
            return t;
        });
        flusher.scheduleWithFixedDelay(this::flushQuietly, FLUSH_MILLIS, FLUSH_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Appends {@code record}, durable when this returns (with everything queued before it). Concurrent appends share
     * one write and fsync: whoever holds the lock writes every record queued so far (group commit).
     */
    public void append(T record) {
        pending.add(record);
        synchronized (this) {
            if (pending.contains(record)) flush(); // else a concurrent append's flush already wrote it
        }
    }

    /** Queues {@code record}; it is durable within {@link #FLUSH_MILLIS}, in order with every other append. */
    public void appendSoon(T record) {
        pending.add(record);
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            log.warn("could not write {} to shared storage (kept in memory, retried): {}", dir, e.toString());
        }
    }

    /** Writes everything queued, in order, and fsyncs it. */
    public synchronized void flush() {
        if (pending.isEmpty()) return;
        StringBuilder text = new StringBuilder();
        List<T> batch = new ArrayList<>();
        for (T r; (r = pending.peek()) != null && batch.size() < 1000; ) {
            batch.add(r);
            text.append(RecordFiles.encodeRecord(r));
            pending.poll();
        }
        try {
            FileChannel ch = segment();
            ByteBuffer buf = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(false);
            segmentRecords += batch.size();
        } catch (IOException e) {
            // Put them back in front, in order: nothing queued is dropped by a failed write.
            List<T> rest = new ArrayList<>(batch);
            rest.addAll(pending);
            pending.clear();
            pending.addAll(rest);
            closeSegment();
            throw new UncheckedIOException("could not append to " + dir, e);
        }
        if (!pending.isEmpty()) flush();
    }

    private FileChannel segment() throws IOException {
        if (segment != null && segmentRecords >= SEGMENT_RECORDS) {
            closeSegment();
            segmentNumber++;
            removeOldSegments();
        }
        if (segment == null) {
            Files.createDirectories(dir);
            Path file = dir.resolve(writer + "-" + started + "-" + segmentNumber + ".log");
            segment = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            segmentRecords = 0;
            RecordFiles.syncDirectory(dir);
        }
        return segment;
    }

    private void closeSegment() {
        if (segment == null) return;
        try {
            segment.close();
        } catch (IOException e) {
            log.debug("closing a segment of {}: {}", dir, e.toString());
        }
        segment = null;
    }

    /** Keeps the newest segments that can hold the bound (and two more); removes the rest, whoever wrote them. */
    private void removeOldSegments() throws IOException {
        List<Path> segments = segments();
        int keep = bound / SEGMENT_RECORDS + 3;
        segments.sort(Comparator.comparingLong((Path p) -> modified(p)).reversed());
        for (Path old : segments.subList(Math.min(keep, segments.size()), segments.size())) Files.deleteIfExists(old);
    }

    private List<Path> segments() throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.log")) {
            files.forEach(out::add);
        }
        return out;
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The newest {@code max} records of every writer, oldest first; torn or corrupt lines are skipped and counted. */
    public List<T> newest(int max) {
        List<T> all = new ArrayList<>();
        int bad = 0;
        try {
            for (Path p : segments()) {
                for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) continue;
                    try {
                        all.add(RecordFiles.decodeRecord(line, type, p));
                    } catch (IOException e) {
                        bad++;
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + dir, e);
        }
        if (bad > 0) log.warn("{}: {} torn or corrupt lines skipped (never acknowledged, or damaged on storage)", dir, bad);
        all.sort(Comparator.comparingLong(sequenceOf));
        return all.size() <= max ? all : new ArrayList<>(all.subList(all.size() - max, all.size()));
    }

    @Override
    public void close() {
        flusher.shutdown();
        try {
            flusher.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            try {
                flush();
            } catch (RuntimeException e) {
                log.warn("{}: {} records not written at shutdown: {}", dir, pending.size(), e.toString());
            }
            closeSegment();
        }
    }
}
