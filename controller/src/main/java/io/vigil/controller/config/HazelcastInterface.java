package io.vigil.controller.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Where the controller's Hazelcast member listens: one IP address, never every interface. The community edition has
 * no member authentication and no TLS (the cluster secret stands in, see {@code store.ClusterSecret}), so the port is
 * opened on the network the controllers share and nowhere else.
 * <ul>
 *   <li>Given ({@code hazelcastInterface}): an IP address of this machine; not a wildcard, not a host name (a name
 *       could resolve to an address on another network).
 *   <li>Not given, no {@code hazelcastMembers} (a cluster of one): loopback.
 *   <li>Not given, with members: {@code httpHost} when it is one IP address (the API and the controllers' network are
 *       usually the same; it is where Hazelcast listened before this setting existed); otherwise the setting is
 *       required.
 * </ul>
 * A loopback address with a member that is not on loopback could never form the cluster, and is refused.
 */
final class HazelcastInterface {
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}");

    private HazelcastInterface() {}

    /** The address to bind; throws {@link IllegalArgumentException} naming the field when none can be chosen. */
    static String choose(String configured, String httpHost, List<String> members) {
        String chosen;
        if (configured != null) {
            if (!isIpAddress(configured) || isWildcard(configured))
                throw new IllegalArgumentException("hazelcastInterface must be one IP address of this controller (on the "
                        + "network the controllers share), not '" + configured + "'");
            chosen = configured;
        } else if (members.isEmpty()) {
            return "127.0.0.1";
        } else if (isIpAddress(httpHost) && !isWildcard(httpHost)) {
            chosen = httpHost;
        } else {
            throw new IllegalArgumentException("hazelcastInterface is required with hazelcastMembers when httpHost ('"
                    + httpHost + "') is not one IP address: give the IP address of this controller on the network the "
                    + "controllers share; Hazelcast listens there only");
        }
        if (isLoopback(chosen)) {
            for (String m : members) {
                if (!isLoopback(host(m)))
                    throw new IllegalArgumentException("hazelcastInterface " + chosen + " is loopback, but member '" + m
                            + "' is not: give hazelcastInterface the IP address of this controller on the network the "
                            + "controllers share");
            }
        }
        return chosen;
    }

    private static boolean isIpAddress(String text) {
        if (IPV4.matcher(text).matches()) return true;
        if (!text.contains(":") || !text.matches("[0-9A-Fa-f:.]+")) return false;
        try {
            InetAddress.getByName(text); // an IPv6 literal: parsed, never looked up
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static boolean isWildcard(String ip) {
        try {
            return InetAddress.getByName(ip).isAnyLocalAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        if (!isIpAddress(host)) return false;
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** The host of a member entry: {@code host}, {@code host:port}, {@code [v6]:port} or a bare IPv6 address. */
    private static String host(String member) {
        if (member.startsWith("[")) {
            int end = member.indexOf(']');
            return end > 0 ? member.substring(1, end) : member;
        }
        int colon = member.indexOf(':');
        if (colon < 0 || member.indexOf(':', colon + 1) >= 0) return member; // no port, or a bare IPv6 address
        return member.substring(0, colon);
    }
}
