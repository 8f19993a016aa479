package io.vigil.controller.cli;

import static io.vigil.controller.cli.ControllerClient.path;
import static io.vigil.controller.cli.ControllerClient.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.vigil.controller.cli.Command.Family;
import io.vigil.controller.cli.Output.Column;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code events}: the event log, and with {@code --follow} the events as they happen, from the Server-Sent Events
 * stream {@code GET /api/v1/events/stream} (reconnecting with {@code Last-Event-ID} when it drops; a 204 ends it).
 */
final class EventCommands {
    private EventCommands() {}

    static final String STREAM_EVENT = "cluster-event";
    static final List<Column> COLUMNS = List.of(
            Column.of("TIME", "time"),
            Column.of("TYPE", "type"),
            Column.of("HOST", "host"),
            Column.of("VM", "vm"),
            Column.of("MESSAGE", "message"));

    static Family events() {
        return new Family("events", "the event log: every detection, decision, action and outcome", List.of(
                Command.of("events", "events [--since N] [--host H] [--vm V] [--type T] [--limit N] [--follow]",
                        "the newest LIMIT (100) matching events, oldest first; --since an epoch time in ms or an event"
                        + " sequence; --follow: then every new event as it happens (one line each, or one JSON object"
                        + " per line with --output json) until Ctrl-C or stdout is closed", EventCommands::events)
                        .options("--since", "--host", "--vm", "--type", "--limit").flags("--follow")));
    }

    private static void events(Args args, Session s) throws CliException {
        args.atMost(0);
        Map<String, Object> filters = new LinkedHashMap<>();
        filters.put("host", args.value("--host"));
        filters.put("vm", args.value("--vm"));
        filters.put("type", args.value("--type"));
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("since", args.number("--since"));
        parameters.putAll(filters);
        parameters.put("limit", args.number("--limit"));
        if (!args.flag("--follow")) {
            s.out().list(s.api().get(query(path("events"), parameters)), COLUMNS);
            return;
        }
        String lastId = null;
        Long since = args.number("--since");
        if (since != null) {
            for (JsonNode e : s.api().get(query(path("events"), parameters))) {
                print(e, s);
                lastId = e.path("sequence").asText(null);
            }
        }
        // The stream goes on after the last event printed; with none printed, from --since itself (?since=), so that
        // an event recorded between the backlog's answer and the stream's start is not lost.
        follow(s, filters, lastId, lastId == null ? since : null);
    }

    private static void follow(Session s, Map<String, Object> filters, String lastId, Long since) throws CliException {
        long retryMillis = 1000;
        boolean connected = false;
        while (true) {
            Stream<String> lines;
            try {
                lines = s.api().openEventStream(lastId == null && since != null
                        ? query(path("events", "stream"), Map.of("since", since)) : path("events", "stream"), lastId);
            } catch (CliException e) {
                if (Thread.currentThread().isInterrupted()) return; // stopped
                if (!connected || e.exitCode != ExitCode.UNREACHABLE) throw e; // the first connection must work
                if (!sleep(retryMillis)) return;
                continue;
            }
            if (lines == null) return; // 204: the server says the stream is over
            connected = true;
            ServerSentEvent.Reader reader = new ServerSentEvent.Reader();
            try (lines) {
                for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
                    // Stdout closed (vigil events --follow | head -3) or the thread interrupted: stop. Checked at every
                    // line, keep-alive comments (15 s apart) included. (On Java 17 an interrupt does not end a blocked
                    // read of the response; the next line ends it here.)
                    if (Thread.currentThread().isInterrupted()) return;
                    ServerSentEvent event = reader.line(it.next());
                    if (reader.retryMillis() != null) retryMillis = reader.retryMillis();
                    if (reader.lastEventId() != null) lastId = reader.lastEventId();
                    if (event != null && (event.name() == null || event.name().equals(STREAM_EVENT))) {
                        JsonNode e = parse(event.data(), s);
                        if (e != null && matches(e, filters)) print(e, s);
                    }
                    if (s.out().out.checkError()) return;
                }
            } catch (UncheckedIOException e) {
                // dropped (or the thread interrupted while reading): reconnect below
            }
            if (Thread.currentThread().isInterrupted()) return; // stopped
            s.note("event stream closed; reconnecting" + (lastId == null ? "" : " after event " + lastId));
            if (!sleep(retryMillis)) return;
        }
    }

    private static JsonNode parse(String data, Session s) {
        try {
            return s.json().readTree(data);
        } catch (JsonProcessingException e) {
            s.note("skipped an unreadable event: " + e.getOriginalMessage());
            return null;
        }
    }

    private static boolean matches(JsonNode event, Map<String, Object> filters) {
        for (Map.Entry<String, Object> f : filters.entrySet()) {
            if (f.getValue() != null && !f.getValue().equals(event.path(f.getKey()).asText(null))) return false;
        }
        return true;
    }

    private static void print(JsonNode e, Session s) {
        if (s.out().json) {
            s.out().jsonLine(e);
            return;
        }
        StringBuilder line = new StringBuilder();
        for (Column c : COLUMNS) line.append(line.length() == 0 ? "" : "  ").append(c.value().apply(e));
        s.out().out.println(line);
        s.out().out.flush();
    }

    /** Sleeps; false when the thread was interrupted (following stops, status 0, as at Ctrl-C). */
    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
