package io.vigil.controller.simulate;

/** A scenario the simulator cannot run; the message names the line (and the field or action) at fault. */
public final class ScenarioException extends Exception {
    private final int line;

    public ScenarioException(int line, String message) {
        super(line > 0 ? "line " + line + ": " + message : message);
        this.line = line;
    }

    /** 1-based line in the scenario file, or 0 when the problem concerns the whole file. */
    public int line() {
        return line;
    }
}
