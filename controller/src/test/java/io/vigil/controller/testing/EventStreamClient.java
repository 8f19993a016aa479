package io.vigil.controller.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * One {@code GET /api/v1/events/stream} of a controller, read on a thread of its own: what came so far as text, and
 * whether and when the server ended it. A refused request (not 200) is read whole at once.
 */
public final class EventStreamClient implements AutoCloseable {
    private final int status;
    private final String contentType;
    private final InputStream body;
    private final StringBuffer text = new StringBuffer();
    private volatile long endedAtNanos;
    private volatile long endedAtMillis;
    private volatile boolean closedHere;

    private EventStreamClient(HttpResponse<InputStream> response) throws IOException {
        status = response.statusCode();
        contentType = response.headers().firstValue("Content-Type").orElse("");
        body = response.body();
        if (status != 200) {
            try (body) {
                text.append(new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            return;
        }
        Thread reader = new Thread(this::read, "event-stream-client");
        reader.setDaemon(true);
        reader.start();
    }

    /** Opens the stream of {@code controller} with {@code token} (null: none), over its REST port (HTTPS or not). */
    public static EventStreamClient open(TestController controller, String token) {
        HttpClient http = HttpClient.newBuilder().sslContext(controller.sslContext()).connectTimeout(Duration.ofSeconds(2))
                .build();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(controller.baseUrl() + "/api/v1/events/stream"))
                .header("Accept", "text/event-stream").GET();
        if (token != null) b.header("Authorization", "Bearer " + token);
        try {
            return new EventStreamClient(http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void read() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) text.append(line).append('\n');
        } catch (IOException e) {
            if (closedHere) return; // closed by the test, not ended by the server
            text.append("[read failed: ").append(e).append("]\n");
        }
        if (closedHere) return;
        endedAtMillis = System.currentTimeMillis();
        endedAtNanos = System.nanoTime();
    }

    public int status() {
        return status;
    }

    public String contentType() {
        return contentType;
    }

    /** Everything received so far (the whole body for a refused request). */
    public String text() {
        return text.toString();
    }

    /** Whether the server ended the stream (the end of the body, or the connection closed under it). */
    public boolean ended() {
        return endedAtNanos != 0;
    }

    /** {@link System#nanoTime} when the end was read; 0 while it goes on. */
    public long endedAtNanos() {
        return endedAtNanos;
    }

    /** The wall-clock time when the end was read; 0 while it goes on. */
    public long endedAtMillis() {
        return endedAtMillis;
    }

    /** Closes the stream from this side (the connection goes, and the server frees its place). */
    @Override
    public void close() throws IOException {
        closedHere = true;
        body.close();
    }
}
