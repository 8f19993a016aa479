package io.vigil.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Runs the client in-process, as scripts/vigil would, and keeps what it printed. */
final class CliRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Result(int exit, String out, String err) {
        JsonNode json() {
            try {
                return JSON.readTree(out);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + out + " / " + err, e);
            }
        }

        List<String> lines() {
            return out.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private final Map<String, String> env = new HashMap<>();
    private String stdin = "";

    /** A client of the controller at {@code url} (VIGIL_CONTROLLER). */
    CliRun(String url) {
        env.put("VIGIL_CONTROLLER", url);
    }

    CliRun env(String name, String value) {
        env.put(name, value);
        return this;
    }

    CliRun stdin(String text) {
        stdin = text;
        return this;
    }

    Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = VigilCli.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** A command running on a thread of its own ({@code events --follow}): what it printed so far, and a way to stop it. */
    static final class Running implements AutoCloseable {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private volatile boolean outClosed;
        private final ByteArrayOutputStream err = new ByteArrayOutputStream();
        private final java.util.concurrent.CompletableFuture<Integer> exit = new java.util.concurrent.CompletableFuture<>();
        private final Thread thread;

        private Running(String[] args, String stdin, Map<String, String> env) {
            thread = new Thread(() -> {
                try {
                    exit.complete(VigilCli.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                            new PrintStream(new java.io.OutputStream() { // a pipe whose reader can go away
                                @Override
                                public void write(int b) throws java.io.IOException {
                                    write(new byte[] {(byte) b}, 0, 1);
                                }

                                @Override
                                public void write(byte[] b, int off, int len) throws java.io.IOException {
                                    if (outClosed) throw new java.io.IOException("Broken pipe");
                                    out.write(b, off, len);
                                }
                            }, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                            env));
                } catch (Throwable t) {
                    exit.completeExceptionally(t);
                }
            }, "vigil-cli " + String.join(" ", args));
            thread.setDaemon(true);
            thread.start();
        }

        /** Stdout so far (ByteArrayOutputStream is synchronized: safe to read while the command writes). */
        String out() {
            return out.toString(StandardCharsets.UTF_8);
        }

        String err() {
            return err.toString(StandardCharsets.UTF_8);
        }

        boolean isRunning() {
            return !exit.isDone();
        }

        /**
         * Stops the command as a reader of its stdout going away does ({@code | head}): its stdout fails from now on,
         * and the thread is interrupted. A command blocked reading an answer notices at the next line it reads, so
         * {@code wake} (run every half second until it ended) should make something happen. Returns its exit status.
         */
        int stop(Runnable wake) throws Exception {
            outClosed = true;
            thread.interrupt();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            try {
                while (true) {
                    try {
                        return exit.get(500, java.util.concurrent.TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.TimeoutException e) {
                        if (System.nanoTime() > deadline) throw e;
                        wake.run();
                    }
                }
            } catch (java.util.concurrent.TimeoutException e) {
                StringBuilder where = new StringBuilder();
                for (StackTraceElement frame : thread.getStackTrace()) where.append("\n\tat ").append(frame);
                throw new AssertionError("the command did not stop when interrupted; stdout:\n" + out() + "stderr:\n" + err()
                        + "its thread:" + where);
            }
        }

        @Override
        public void close() throws Exception {
            if (isRunning()) stop(() -> {});
        }
    }

    /** Starts the command on a thread of its own; {@link Running#stop} interrupts it. */
    Running start(String... args) {
        return new Running(args, stdin, new HashMap<>(env));
    }

    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }
}
