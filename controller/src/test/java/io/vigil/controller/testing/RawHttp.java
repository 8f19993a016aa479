package io.vigil.controller.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 by hand, for requests no HTTP client would send as they are: request lines with dot segments, repeated
 * slashes, broken percent-encodings or bytes that are not UTF-8, absurd lengths, wrong content types. One request per
 * connection ({@code Connection: close}); the answer is read to its end (Content-Length, chunked, or the close).
 */
public final class RawHttp {
    private RawHttp() {}

    /** An answer: status, headers (names in lower case), body. */
    public record Answer(int status, Map<String, String> headers, byte[] body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public String contentType() {
            String type = header("content-type");
            return type == null ? "" : type;
        }
    }

    /**
     * Sends {@code method target} with {@code headers} (each "Name: value") and {@code body} (null: none) on a new
     * connection from {@code controller}, and reads the answer.
     */
    public static Answer send(TestController controller, String method, byte[] target, byte[] body, String... headers)
            throws IOException {
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.write((method + " ").getBytes(StandardCharsets.ISO_8859_1));
        request.write(target);
        request.write(" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".getBytes(StandardCharsets.ISO_8859_1));
        for (String h : headers) request.write((h + "\r\n").getBytes(StandardCharsets.UTF_8));
        if (body != null) request.write(("Content-Length: " + body.length + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
        request.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) request.write(body);
        try (Socket socket = controller.rawConnection()) {
            OutputStream out = socket.getOutputStream();
            try {
                out.write(request.toByteArray());
                out.flush();
            } catch (IOException e) {
                // The server may answer (413, 431) and close before it has read everything sent: read what it said.
            }
            return read(socket.getInputStream());
        }
    }

    /** As {@link #send(TestController, String, byte[], byte[], String...)} with a target that is plain ASCII. */
    public static Answer send(TestController controller, String method, String target, String body, String... headers)
            throws IOException {
        return send(controller, method, target.getBytes(StandardCharsets.ISO_8859_1),
                body == null ? null : body.getBytes(StandardCharsets.UTF_8), headers);
    }

    private static Answer read(InputStream in) throws IOException {
        String statusLine = line(in);
        if (statusLine == null) throw new IOException("the connection closed without an answer");
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) throw new IOException("not an HTTP answer: " + statusLine);
        int status = Integer.parseInt(parts[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
            int colon = h.indexOf(':');
            if (colon > 0) headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
        }
        byte[] body;
        if (headers.getOrDefault("content-type", "").startsWith("text/event-stream")) {
            body = new byte[0]; // a stream does not end by itself: the status and headers are the answer
        } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (String size = line(in); size != null; size = line(in)) {
                int n = Integer.parseInt(size.split(";")[0].trim(), 16);
                if (n == 0) break;
                out.write(in.readNBytes(n));
                line(in);
            }
            body = out.toByteArray();
        } else if (headers.containsKey("content-length")) {
            body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
        } else {
            body = in.readAllBytes();
        }
        return new Answer(status, headers, body);
    }

    /** One CRLF-terminated line (ISO-8859-1), or null at the end of the stream. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            if (b == '\n') break;
            if (b != '\r') out.write(b);
        }
        if (b == -1 && out.size() == 0) return null;
        return out.toString(StandardCharsets.ISO_8859_1);
    }
}
