package io.vigil.agent.libvirt;

import org.libvirt.Connect;
import org.libvirt.ErrorCallback;
import org.libvirt.Library;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libvirt's default event loop, which is process-wide: registered once before the first connection and run on one
 * daemon thread ("libvirt-events"). Callbacks run on that thread, so listeners hand their work off at once.
 * The lazy holder is the one piece of process-global state, mirroring libvirt's own.
 */
final class LibvirtEventLoop {
    private static final Logger log = LoggerFactory.getLogger(LibvirtEventLoop.class);

    private LibvirtEventLoop() {}

    private static final class Holder {
        /** libvirt's default error handler prints every error (even an expected lookup miss) to stderr; errors
         *  reach us as exceptions anyway. Held here so that JNA's callback is never collected. */
        static final ErrorCallback QUIET = new ErrorCallback();
        static final Thread THREAD = start();

        private static Thread start() {
            try {
                Connect.setErrorCallback(QUIET);
                Library.initEventLoop();
            } catch (LibvirtException e) {
                throw new IllegalStateException("cannot initialize libvirt's event loop: " + e.getMessage(), e);
            }
            Thread t = new Thread(() -> {
                try {
                    Library.runEventLoop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (LibvirtException e) {
                    log.error("libvirt event loop stopped: {}", e.getMessage());
                }
            }, "libvirt-events");
            t.setDaemon(true);
            t.start();
            return t;
        }
    }

    /** The no-op error callback, also to be set on each connection (libvirt reports per-connection errors there). */
    static ErrorCallback quietErrors() {
        return Holder.QUIET;
    }

    /** Registers and starts the event loop on first use. */
    static void ensureRunning() {
        if (!Holder.THREAD.isAlive()) log.warn("libvirt event loop thread is not running");
    }
}
