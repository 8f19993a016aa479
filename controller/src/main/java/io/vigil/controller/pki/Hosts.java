package io.vigil.controller.pki;

import java.util.regex.Pattern;

/** Host names as agents use them (the agent's {@code host} field): what a certificate's CN may be. */
final class Hosts {
    static final String RULE = "a host name is 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit";
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

    private Hosts() {}

    static boolean isValid(String host) {
        return host != null && HOST.matcher(host).matches();
    }
}
