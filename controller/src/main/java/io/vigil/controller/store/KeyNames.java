package io.vigil.controller.store;

import java.nio.charset.StandardCharsets;

/**
 * Keys as file names: letters, digits, '-' and '_' stay as they are, every other byte of the key's UTF-8 is
 * {@code %XX}, and the empty key is refused. So no key can name a parent directory, a hidden file or a path with a
 * slash, and the mapping is one to one.
 */
final class KeyNames {
    private KeyNames() {}

    static String encode(String key) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("an empty key");
        StringBuilder b = new StringBuilder();
        for (byte x : key.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') b.append((char) c);
            else b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                    .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
        }
        if (b.length() > 240) throw new IllegalArgumentException("a key longer than a file name allows");
        return b.toString();
    }

    static String decode(String name) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '%') {
                if (i + 2 >= name.length()) throw new IllegalArgumentException(name);
                int hi = Character.digit(name.charAt(i + 1), 16), lo = Character.digit(name.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) throw new IllegalArgumentException(name);
                out.write(hi << 4 | lo);
                i += 2;
            } else if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
                out.write(c);
            } else {
                throw new IllegalArgumentException(name);
            }
        }
        String key = out.toString(StandardCharsets.UTF_8);
        if (key.isEmpty() || !encode(key).equals(name)) throw new IllegalArgumentException(name);
        return key;
    }
}
