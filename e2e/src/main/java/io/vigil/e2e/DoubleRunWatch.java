package io.vigil.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Samples the {@link QemuCensus} every {@code periodMillis} for the whole life of a test and remembers every moment a
 * VM had live QEMU processes on two hosts at once: the one thing Vigil must never allow.
 */
public final class DoubleRunWatch implements AutoCloseable {
    private final QemuCensus census;
    private final long periodMillis;
    private final List<String> violations = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long samples;

    public DoubleRunWatch(QemuCensus census, long periodMillis) {
        this.census = census;
        this.periodMillis = periodMillis;
        this.thread = new Thread(this::run, "double-run-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            for (Map.Entry<String, List<String>> e : census.hostsByVm().entrySet()) {
                if (e.getValue().size() > 1) {
                    synchronized (violations) {
                        violations.add(System.currentTimeMillis() + ": " + e.getKey() + " runs on " + e.getValue());
                    }
                }
            }
            samples++;
            try {
                Thread.sleep(periodMillis);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    public List<String> violations() {
        synchronized (violations) {
            return List.copyOf(violations);
        }
    }

    public long samples() {
        return samples;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(2000);
    }
}
