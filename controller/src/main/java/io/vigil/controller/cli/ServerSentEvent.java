package io.vigil.controller.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * One event of a Server-Sent Events stream (the HTML standard's "event stream" format): its id, its name (the
 * {@code event:} field; null for the default) and its data lines joined by newlines.
 */
record ServerSentEvent(String id, String name, String data) {
    /** Reads a stream line by line: {@link #line} returns an event at the blank line that ends one. */
    static final class Reader {
        private String lastEventId;
        private String name;
        private List<String> data;
        private Long retryMillis;

        /** The event this line completes, or null. Comments (":" keep-alives) and unknown fields are ignored. */
        ServerSentEvent line(String line) {
            if (line.isEmpty()) {
                List<String> lines = data;
                String eventName = name;
                data = null;
                name = null;
                return lines == null ? null : new ServerSentEvent(lastEventId, eventName, String.join("\n", lines));
            }
            if (line.startsWith(":")) return null;
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) value = value.substring(1);
            switch (field) {
                case "id" -> lastEventId = value;
                case "event" -> name = value;
                case "data" -> {
                    if (data == null) data = new ArrayList<>();
                    data.add(value);
                }
                case "retry" -> {
                    if (value.matches("[0-9]{1,9}")) retryMillis = Long.parseLong(value);
                }
                default -> { } // unknown fields are ignored
            }
            return null;
        }

        /** The last id the stream sent (what Last-Event-ID resumes from), or null. */
        String lastEventId() {
            return lastEventId;
        }

        /** The reconnection delay the server asked for, or null. */
        Long retryMillis() {
            return retryMillis;
        }
    }
}
