package io.vigil.agent.leader;

import io.vigil.protocol.AgentCommand;
import io.vigil.protocol.AgentMessage.CommandResult;
import io.vigil.protocol.ControllerMessage;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets a controller's command run only if its leader epoch is current ({@link LeaderEpochs#admit}); a refused one is
 * answered with a failed result for its id and never reaches the executor. Admission may write and fsync the epoch,
 * so it runs on {@code admissions}, never on the link's event loop.
 */
public final class CommandFence {
    private static final Logger log = LoggerFactory.getLogger(CommandFence.class);

    private final String host;
    private final LeaderEpochs epochs;
    private final Executor admissions;
    private final Function<AgentCommand, CompletableFuture<CommandResult>> executor;
    private final AtomicLong refusals = new AtomicLong();

    public CommandFence(String host, LeaderEpochs epochs, Executor admissions,
                        Function<AgentCommand, CompletableFuture<CommandResult>> executor) {
        this.host = host;
        this.epochs = epochs;
        this.admissions = admissions;
        this.executor = executor;
    }

    /** Executes {@code message}'s command if its epoch is current; the future completes with its result either way. */
    public CompletableFuture<CommandResult> execute(ControllerMessage.Command message) {
        AgentCommand command = message.command();
        return CompletableFuture.supplyAsync(() -> epochs.admit(message.epoch()), admissions).thenCompose(admission -> {
            if (admission.admitted()) return executor.apply(command);
            refusals.incrementAndGet();
            log.warn("command {} ({} {}) {}", command.id(), command.getClass().getSimpleName(), command.vm(),
                    admission.refusal());
            return CompletableFuture.completedFuture(
                    new CommandResult(host, command.id(), command.vm(), false, admission.refusal(), 0));
        });
    }

    /** Commands refused since this agent started. */
    public long refusals() {
        return refusals.get();
    }

    public LeaderEpochs epochs() {
        return epochs;
    }
}
